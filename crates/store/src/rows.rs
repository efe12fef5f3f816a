//! Rows into a table in few statements, for every writer of the store (providers, their
//! child rows, match logs): multi-row `VALUES` on SQLite, one JSON parameter expanded by
//! `jsonb_to_recordset` on PostgreSQL, with the `ON CONFLICT` behaviour the caller picks.

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityName,
    EntityTrait, IntoActiveModel, Iterable, ModelTrait, Statement,
};

/// Bind parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535).
/// Multi-row inserts and `IN` lists are cut into chunks that stay below it.
pub(crate) const MAX_BIND_PARAMETERS: usize = 30_000;

/// The columns of each provider table with their PostgreSQL types: the record type of the
/// PostgreSQL bulk insert, and the column list of the upsert on both backends.
pub(crate) type Record = &'static [(&'static str, &'static str)];

/// Rows to be updated rather than refused when `key` already exists; `keep` columns are not
/// overwritten (e.g. `created_at`).
pub(crate) struct Upsert {
    pub(crate) key: &'static str,
    pub(crate) keep: &'static [&'static str],
}

/// What an insert does with a row whose key is already stored.
pub(crate) enum OnDuplicate {
    /// The statement fails.
    Fail,
    /// The stored row is updated.
    Update(Upsert),
    /// The new row is skipped (`key` lists the conflict target's columns).
    Skip { key: &'static [&'static str] },
}

impl OnDuplicate {
    /// The `ON CONFLICT` clause; `excluded` is how the backend spells the proposed row.
    fn clause(&self, record: Record, excluded: &str) -> String {
        match self {
            OnDuplicate::Fail => String::new(),
            OnDuplicate::Update(upsert) => format!(
                " ON CONFLICT (\"{}\") DO UPDATE SET {}",
                upsert.key,
                record
                    .iter()
                    .map(|(name, _)| *name)
                    .filter(|name| *name != upsert.key && !upsert.keep.contains(name))
                    .map(|name| format!("\"{name}\" = {excluded}.\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            OnDuplicate::Skip { key } => format!(
                " ON CONFLICT ({}) DO NOTHING",
                key.iter()
                    .map(|name| format!("\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Rows per statement on the PostgreSQL bulk path (one JSON parameter each).
const ROWS_PER_JSON_STATEMENT: usize = 10_000;

/// Inserts rows of one table; returns how many were written (skipped duplicates excluded).
///
/// PostgreSQL: a multi-row `VALUES` with thousands of parameters is slow to parse and plan,
/// and its text changes with the row count, so every batch is prepared anew. Instead the rows
/// travel as ONE JSON text parameter, cast to `jsonb` and expanded by `jsonb_to_recordset`: the statement text is
/// constant (prepared once per connection) and planning is trivial. This made batch upserts
/// several times faster. SQLite parses multi-row `VALUES` fast: see [`insert_values`].
pub(crate) async fn insert_rows<M, A>(
    transaction: &DatabaseTransaction,
    rows: Vec<M>,
    record: Record,
    on_duplicate: OnDuplicate,
) -> Result<u64, DbErr>
where
    M: ModelTrait + IntoActiveModel<A> + serde::Serialize,
    A: ActiveModelTrait<Entity = M::Entity> + Send,
{
    if rows.is_empty() {
        return Ok(0);
    }
    let table = M::Entity::default().table_name().to_owned();
    if transaction.get_database_backend() != DbBackend::Postgres {
        let on_conflict = on_duplicate.clause(record, "excluded");
        return insert_values(transaction, &table, rows, &on_conflict).await;
    }

    // Serialised one chunk at a time, as each statement runs.
    let chunks = rows.chunks(ROWS_PER_JSON_STATEMENT).map(chunk_json);
    insert_json_chunks(transaction, &table, record, &on_duplicate, chunks).await
}

/// PostgreSQL: the rows as the JSON text parameters of [`insert_json_chunks`], one per
/// [`ROWS_PER_JSON_STATEMENT`] rows. Only CPU work, so a caller may run it off the runtime.
pub(crate) fn json_chunks<M: serde::Serialize>(rows: &[M]) -> Result<Vec<String>, DbErr> {
    rows.chunks(ROWS_PER_JSON_STATEMENT)
        .map(chunk_json)
        .collect()
}

/// Written straight to text: a `serde_json::Value` tree first cost an allocation per field of
/// every row.
fn chunk_json<M: serde::Serialize>(chunk: &[M]) -> Result<String, DbErr> {
    serde_json::to_string(chunk).map_err(|error| DbErr::Json(error.to_string()))
}

/// PostgreSQL: inserts the rows of `chunks` (from [`json_chunks`]) into `table`, whose
/// columns and their types are `record`; returns how many were written.
pub(crate) async fn insert_json_chunks(
    transaction: &DatabaseTransaction,
    table: &str,
    record: Record,
    on_duplicate: &OnDuplicate,
    chunks: impl IntoIterator<Item = Result<String, DbErr>>,
) -> Result<u64, DbErr> {
    let columns = record
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let record_type = record
        .iter()
        .map(|(name, sql_type)| format!("\"{name}\" {sql_type}"))
        .collect::<Vec<_>>()
        .join(", ");
    let on_conflict = on_duplicate.clause(record, "EXCLUDED");
    let sql = format!(
        "INSERT INTO \"{table}\" ({columns}) SELECT {columns} \
         FROM jsonb_to_recordset($1::jsonb) AS row_values({record_type}){on_conflict}"
    );
    let mut written = 0;
    for json in chunks {
        let json = json?;
        written += transaction
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql.clone(),
                [json.into()],
            ))
            .await?
            .rows_affected();
    }
    Ok(written)
}

/// SQLite: inserts rows with multi-row `VALUES` statements of as many rows as stay under
/// [`MAX_BIND_PARAMETERS`], written directly rather than through sea-orm's `insert_many`
/// (which wraps every value in an active model and a query expression, then copies it into the
/// statement: most of the writer's time at a million providers). The values are the model's
/// own, moved out of it, in the entity's column order, so they bind exactly as sea-orm's insert
/// binds them. Full chunks share one statement text, which sqlx prepares once per connection.
async fn insert_values<M, A>(
    transaction: &DatabaseTransaction,
    table: &str,
    rows: Vec<M>,
    on_conflict: &str,
) -> Result<u64, DbErr>
where
    M: ModelTrait + IntoActiveModel<A>,
    A: ActiveModelTrait<Entity = M::Entity>,
{
    use sea_orm::IdenStatic;
    let columns: Vec<<M::Entity as EntityTrait>::Column> =
        <M::Entity as EntityTrait>::Column::iter().collect();
    let names = columns
        .iter()
        .map(|column| format!("\"{}\"", column.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let row_placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    let rows_per_statement = (MAX_BIND_PARAMETERS / columns.len().max(1)).max(1);
    let mut full_chunk_sql: Option<String> = None;
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut values = Vec::with_capacity(rows_per_statement * columns.len());
        let mut count = 0;
        for row in rows.by_ref().take(rows_per_statement) {
            let mut active = row.into_active_model();
            for column in &columns {
                values.push(active.take(*column).into_value().ok_or_else(|| {
                    DbErr::Custom(format!("{table}.{} has no value", column.as_str()))
                })?);
            }
            count += 1;
        }
        let statement_sql = |count: usize| {
            format!(
                "INSERT INTO \"{table}\" ({names}) VALUES {}{on_conflict}",
                vec![row_placeholders.as_str(); count].join(", ")
            )
        };
        let sql = if count == rows_per_statement {
            full_chunk_sql
                .get_or_insert_with(|| statement_sql(count))
                .clone()
        } else {
            statement_sql(count)
        };
        written += transaction
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                sql,
                values,
            ))
            .await?
            .rows_affected();
    }
    Ok(written)
}
