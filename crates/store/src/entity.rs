//! sea-orm entities, one module per table. They are the crate's private view of the schema
//! that `migration` creates; nothing here is public, so sea-orm types never leave the crate.
//!
//! Provider and match-log tables' models derive `Serialize` for the PostgreSQL bulk path,
//! which sends a batch of rows as one JSON parameter.
//!
//! Relations are not declared: reads hydrate providers from `providers.document`, and the
//! foreign keys live in the migrations, so the entities only need columns.

/// Declares an entity with no relations. sea-orm requires the `Relation` enum and an
/// `ActiveModelBehavior` impl even when neither is used.
macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub(crate) mod providers {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "providers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub npi: Option<String>,
        pub name: String,
        pub accepting_new_clients: bool,
        pub accepts_fsa_hsa: bool,
        pub provides_superbill: bool,
        pub requires_referral: bool,
        pub self_pay_rate_usd: Option<i32>,
        #[sea_orm(column_type = "Text")]
        pub bio: Option<String>,
        pub home_visit_radius_km: Option<f64>,
        /// The whole provider as `ProviderDraft` JSON: what reads hydrate from.
        #[sea_orm(column_type = "JsonBinary")]
        pub document: Json,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    no_relations!();
}

pub(crate) mod provider_care_types {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "provider_care_types")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub care_type: String,
    }

    no_relations!();
}

pub(crate) mod provider_certifications {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "provider_certifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: Uuid,
        /// Order within the provider, as given.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub name: String,
        pub issuer: Option<String>,
        pub scope: String,
        pub verified: bool,
    }

    no_relations!();
}

pub(crate) mod provider_locations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "provider_locations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub latitude: f64,
        pub longitude: f64,
        pub address: Option<String>,
        pub city: Option<String>,
        pub region: Option<String>,
        pub postal_code: Option<String>,
    }

    no_relations!();
}

pub(crate) mod provider_insurance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "provider_insurance")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub payer: String,
        pub plan: Option<String>,
    }

    no_relations!();
}

/// Declares a child table of `providers` holding one code (or short text) per row, keyed by
/// (provider_id, the code).
macro_rules! provider_code_table {
    ($module:ident, $table:literal, $column:ident) => {
        pub(crate) mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub provider_id: Uuid,
                #[sea_orm(primary_key, auto_increment = false)]
                pub $column: String,
            }

            no_relations!();
        }
    };
}

provider_code_table!(provider_symptoms, "provider_symptoms", symptom);
provider_code_table!(provider_modes, "provider_modes", mode);
provider_code_table!(provider_languages, "provider_languages", language);
provider_code_table!(
    provider_licensed_regions,
    "provider_licensed_regions",
    region
);

pub(crate) mod provider_tombstones {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "provider_tombstones")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_id: Uuid,
        pub deleted_at: DateTimeUtc,
    }

    no_relations!();
}

pub(crate) mod store_state {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "store_state")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub value: i64,
    }

    no_relations!();
}

pub(crate) mod match_logs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "match_logs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub week_start: Date,
        pub state: Option<String>,
        pub postal_prefix: Option<String>,
        pub radius_km: f64,
        pub care_types_recommended: String,
        pub care_types_requested: String,
        pub symptoms: String,
        pub warning_signs: String,
        pub birth_type: Option<String>,
        pub weeks_postpartum_bucket: Option<String>,
        pub payer: Option<String>,
        pub has_fsa_or_hsa: bool,
        pub has_referral: bool,
        pub languages: String,
        pub modes: String,
        pub text_given: bool,
        pub result_count: i32,
        pub results_within_radius: i32,
        pub radius_widened: bool,
        pub cache_hit: bool,
        pub latency_ms: f64,
        pub client_name: Option<String>,
        pub client_version: Option<String>,
        pub operation: String,
        pub replay_of: Option<Uuid>,
        /// The results packed as JSON text (see `crate::match_logs`); NULL for a replay or a
        /// match without results. The `match_log_results` view unpacks it for SQL.
        #[sea_orm(column_type = "Text")]
        pub results: Option<String>,
    }

    no_relations!();
}

pub(crate) mod match_outcomes {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "match_outcomes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub match_id: Uuid,
        pub provider_id: Uuid,
        pub outcome: String,
        pub recorded_week: Date,
    }

    no_relations!();
}

pub(crate) mod audit_log {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub actor: String,
        pub action: String,
        pub provider_id: Option<Uuid>,
        pub at: DateTimeUtc,
    }

    no_relations!();
}
