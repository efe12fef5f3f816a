//! The repository suite: every test runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL`
//! is set, each on a fresh database of its own.

// The suite's test bodies are plain async fns (instantiated per backend by a macro), which
// clippy does not see as tests; unwrapping is how they fail.
#![allow(clippy::unwrap_used)]
mod support;

use carematch_domain::{
    BirthType, CareMode, CareType, MatchOutcome, PaymentFit, Provider, ProviderId, Symptom,
    WarningSign,
};
use carematch_store::on_every_backend;
use carematch_store::test_support::TestContext;
use carematch_store::{
    AuditRecord, MatchLogRecord, MatchLogResultRecord, MatchOutcomeRecord, StoreError,
    UpsertOutcome,
};
use chrono::{NaiveDate, TimeDelta, Utc};
use futures::TryStreamExt;
use support::{full_provider, minimal_provider, npi, provider_id};

on_every_backend!(
    migrating_twice_is_idempotent_and_keeps_the_data,
    an_upsert_creates_then_updates_and_replaces_child_rows,
    a_round_trip_preserves_every_field_of_a_provider,
    a_batch_upsert_reports_created_or_updated_for_each_input,
    get_providers_keeps_the_order_asked_and_skips_unknown_ids,
    a_provider_is_found_by_its_npi,
    get_providers_by_npis_keeps_the_order_asked_and_skips_unknown_npis,
    an_npi_held_by_another_provider_is_a_conflict,
    an_npi_repeated_within_a_batch_is_a_conflict,
    delete_returns_true_then_false_and_leaves_a_tombstone,
    changed_since_includes_a_write_at_exactly_since,
    last_write_at_is_the_stamp_of_the_latest_write_or_delete,
    a_recreated_provider_is_reported_as_upserted_not_deleted,
    streaming_yields_every_provider_exactly_once_across_pages,
    the_generation_bumps_on_every_write_and_not_on_a_missed_delete,
    concurrent_writers_all_land_and_each_bumps_the_generation_once,
    a_corrupt_document_is_an_error_naming_the_provider,
    match_logs_round_trip_and_reinserting_a_batch_adds_nothing,
    a_prepared_batch_inserts_as_the_records_would_and_again_adds_nothing,
    an_outcome_for_an_unknown_match_is_refused_and_a_known_one_round_trips,
    audit_records_round_trip,
    the_analyst_views_count_demand_deserts_outcomes_by_rank_and_payment_fit,
    an_export_pages_through_every_match_once_with_its_results_and_outcomes,
    pruning_deletes_old_matches_with_their_results_and_outcomes_and_keeps_the_rest,
    every_log_table_reads_back_as_json_objects_with_every_column,
    the_results_view_reads_back_every_packed_result_with_the_old_columns_types,
    a_replay_reads_the_results_of_the_answer_it_repeats_and_pruning_keeps_that_answer,
    a_bulk_load_into_an_empty_database_defers_the_child_indexes_and_rebuilds_them_as_migrated,
    a_bulk_load_writes_the_same_rows_as_upserts,
    a_failing_bulk_load_keeps_the_batches_before_it_and_leaves_the_indexes_in_place,
    a_bulk_load_into_a_database_with_providers_keeps_the_indexes_throughout,
    migrate_recreates_a_child_index_that_an_interrupted_bulk_load_left_missing,
);

async fn migrating_twice_is_idempotent_and_keeps_the_data(ctx: TestContext) {
    ctx.store.upsert_provider(&full_provider(1)).await.unwrap();
    ctx.store.migrate().await.unwrap();
    ctx.store.migrate().await.unwrap();
    assert_eq!(ctx.store.count_providers().await.unwrap(), 1);
    assert_eq!(ctx.store.data_generation().await.unwrap(), 1);
    assert_eq!(ctx.scalar("SELECT COUNT(*) FROM seaql_migrations").await, 5);
}

async fn an_upsert_creates_then_updates_and_replaces_child_rows(ctx: TestContext) {
    let provider = full_provider(1);
    assert_eq!(
        ctx.store.upsert_provider(&provider).await.unwrap(),
        UpsertOutcome::Created
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_care_types").await,
        2
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_locations").await,
        2
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_insurance").await,
        2
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_licensed_regions")
            .await,
        2
    );

    let mut changed = provider.clone();
    changed.care_types = vec![CareType::Doula];
    changed.locations.truncate(1);
    changed.insurance.clear();
    changed.name = carematch_domain::ProviderName::parse("Renamed").unwrap();
    assert_eq!(
        ctx.store.upsert_provider(&changed).await.unwrap(),
        UpsertOutcome::Updated
    );
    assert_eq!(ctx.store.count_providers().await.unwrap(), 1);
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_care_types").await,
        1
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_locations").await,
        1
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_insurance").await,
        0
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_care_types WHERE care_type = 'DOULA'")
            .await,
        1
    );
    assert_eq!(
        ctx.store.get_provider(provider.id).await.unwrap(),
        Some(changed)
    );
}

async fn a_round_trip_preserves_every_field_of_a_provider(ctx: TestContext) {
    let full = full_provider(7);
    assert!(full.npi.is_some() && full.home_visit_radius_km.is_some());
    assert_eq!(full.licensed_regions.len(), 2);
    let minimal = minimal_provider(8);
    ctx.store
        .upsert_providers(&[full.clone(), minimal.clone()])
        .await
        .unwrap();
    assert_eq!(ctx.store.get_provider(full.id).await.unwrap(), Some(full));
    assert_eq!(
        ctx.store.get_provider(minimal.id).await.unwrap(),
        Some(minimal)
    );
    assert_eq!(ctx.store.get_provider(provider_id(99)).await.unwrap(), None);
}

async fn a_batch_upsert_reports_created_or_updated_for_each_input(ctx: TestContext) {
    ctx.store.upsert_provider(&full_provider(1)).await.unwrap();
    let mut renamed_twice = minimal_provider(2);
    renamed_twice.name = carematch_domain::ProviderName::parse("Last copy wins").unwrap();
    let outcomes = ctx
        .store
        .upsert_providers(&[
            full_provider(1),
            minimal_provider(2),
            full_provider(3),
            renamed_twice.clone(),
        ])
        .await
        .unwrap();
    use UpsertOutcome::{Created, Updated};
    assert_eq!(outcomes, [Updated, Created, Created, Updated]);
    assert_eq!(ctx.store.count_providers().await.unwrap(), 3);
    assert_eq!(
        ctx.store.get_provider(renamed_twice.id).await.unwrap(),
        Some(renamed_twice)
    );
    assert_eq!(ctx.store.upsert_providers(&[]).await.unwrap(), []);
}

async fn get_providers_keeps_the_order_asked_and_skips_unknown_ids(ctx: TestContext) {
    let providers: Vec<_> = (1..=5).map(full_provider).collect();
    ctx.store.upsert_providers(&providers).await.unwrap();
    let asked = [
        provider_id(4),
        provider_id(42),
        provider_id(1),
        provider_id(3),
    ];
    let found = ctx.store.get_providers(&asked).await.unwrap();
    let found_ids: Vec<ProviderId> = found.iter().map(|provider| provider.id).collect();
    assert_eq!(found_ids, [provider_id(4), provider_id(1), provider_id(3)]);
    assert_eq!(found[0], providers[3]);
    assert!(ctx.store.get_providers(&[]).await.unwrap().is_empty());
}

async fn get_providers_by_npis_keeps_the_order_asked_and_skips_unknown_npis(ctx: TestContext) {
    // Provider 3 has no NPI; npi(9) belongs to nobody.
    ctx.store
        .upsert_providers(&[full_provider(1), full_provider(2), minimal_provider(3)])
        .await
        .unwrap();
    let found = ctx
        .store
        .get_providers_by_npis(&[npi(2), npi(9), npi(1), npi(2)])
        .await
        .unwrap();
    let found_ids: Vec<ProviderId> = found.iter().map(|provider| provider.id).collect();
    assert_eq!(found_ids, [provider_id(2), provider_id(1), provider_id(2)]);
    assert_eq!(found[1], full_provider(1));
    assert!(
        ctx.store
            .get_providers_by_npis(&[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        ctx.store
            .get_providers_by_npis(&[npi(9)])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_provider_is_found_by_its_npi(ctx: TestContext) {
    ctx.store
        .upsert_providers(&[full_provider(1), full_provider(2)])
        .await
        .unwrap();
    let found = ctx.store.get_provider_by_npi(&npi(2)).await.unwrap();
    assert_eq!(found.map(|provider| provider.id), Some(provider_id(2)));
    assert_eq!(ctx.store.get_provider_by_npi(&npi(3)).await.unwrap(), None);
}

async fn an_npi_held_by_another_provider_is_a_conflict(ctx: TestContext) {
    ctx.store.upsert_provider(&full_provider(1)).await.unwrap();
    let generation = ctx.store.data_generation().await.unwrap();
    let mut intruder = full_provider(2);
    intruder.npi = Some(npi(1));
    let error = ctx.store.upsert_provider(&intruder).await.unwrap_err();
    match error {
        StoreError::NpiConflict {
            npi: taken,
            provider_id: writer,
            existing_provider_id,
        } => {
            assert_eq!(taken, npi(1).as_str());
            assert_eq!(writer, provider_id(2));
            assert_eq!(existing_provider_id, provider_id(1));
        }
        other => panic!("expected an npi conflict, got {other:?}"),
    }
    // Nothing of the failed write remains, and the owner keeps its NPI on re-upsert.
    assert_eq!(ctx.store.count_providers().await.unwrap(), 1);
    assert_eq!(ctx.store.data_generation().await.unwrap(), generation);
    assert_eq!(
        ctx.store.upsert_provider(&full_provider(1)).await.unwrap(),
        UpsertOutcome::Updated
    );
}

async fn an_npi_repeated_within_a_batch_is_a_conflict(ctx: TestContext) {
    let mut twin = full_provider(2);
    twin.npi = Some(npi(1));
    let error = ctx
        .store
        .upsert_providers(&[full_provider(1), twin])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NpiConflict { .. }), "{error:?}");
    assert_eq!(ctx.store.count_providers().await.unwrap(), 0);
}

async fn delete_returns_true_then_false_and_leaves_a_tombstone(ctx: TestContext) {
    let before = Utc::now() - TimeDelta::seconds(1);
    ctx.store
        .upsert_providers(&[full_provider(1), full_provider(2)])
        .await
        .unwrap();
    assert!(ctx.store.delete_provider(provider_id(1)).await.unwrap());
    assert!(!ctx.store.delete_provider(provider_id(1)).await.unwrap());
    assert_eq!(ctx.store.get_provider(provider_id(1)).await.unwrap(), None);
    // The child rows went with it (cascade).
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_care_types").await,
        2
    );

    let changes = ctx.store.changed_since(before).await.unwrap();
    assert_eq!(changes.deleted, [provider_id(1)]);
    let upserted: Vec<ProviderId> = changes.upserted.iter().map(|p| p.id).collect();
    assert_eq!(upserted, [provider_id(2)]);
}

async fn last_write_at_is_the_stamp_of_the_latest_write_or_delete(ctx: TestContext) {
    assert_eq!(ctx.store.last_write_at().await.unwrap().timestamp(), 0);
    ctx.store.upsert_provider(&full_provider(1)).await.unwrap();
    let written = ctx.store.last_write_at().await.unwrap();
    let changes = ctx.store.changed_since(written).await.unwrap();
    assert_eq!(
        changes.upserted,
        [full_provider(1)],
        "the write is stamped at it"
    );
    assert_eq!(changes.high_water, written);
    ctx.store
        .delete_provider(full_provider(1).id)
        .await
        .unwrap();
    let deleted = ctx.store.last_write_at().await.unwrap();
    assert!(deleted >= written);
    let changes = ctx.store.changed_since(deleted).await.unwrap();
    assert_eq!(changes.deleted, [full_provider(1).id]);
}

async fn changed_since_includes_a_write_at_exactly_since(ctx: TestContext) {
    let start = Utc::now() - TimeDelta::seconds(1);
    let nothing = ctx.store.changed_since(start).await.unwrap();
    assert!(nothing.upserted.is_empty() && nothing.deleted.is_empty());
    assert_eq!(nothing.high_water, start);

    ctx.store.upsert_provider(&full_provider(1)).await.unwrap();
    let first = ctx.store.changed_since(start).await.unwrap();
    assert_eq!(first.upserted, [full_provider(1)]);
    assert!(first.high_water > start);

    // Asking again from the high-water mark returns the write stamped exactly at it.
    let again = ctx.store.changed_since(first.high_water).await.unwrap();
    assert_eq!(again.upserted, [full_provider(1)]);
    assert_eq!(again.high_water, first.high_water);
    // One microsecond later it is behind us.
    let after = ctx
        .store
        .changed_since(first.high_water + TimeDelta::microseconds(1))
        .await
        .unwrap();
    assert!(after.upserted.is_empty());

    ctx.store.upsert_provider(&full_provider(2)).await.unwrap();
    let next = ctx.store.changed_since(first.high_water).await.unwrap();
    let ids: Vec<ProviderId> = next.upserted.iter().map(|p| p.id).collect();
    assert_eq!(ids, [provider_id(1), provider_id(2)]);
    assert!(next.high_water >= first.high_water);
}

async fn a_recreated_provider_is_reported_as_upserted_not_deleted(ctx: TestContext) {
    let start = Utc::now() - TimeDelta::seconds(1);
    ctx.store.upsert_provider(&full_provider(1)).await.unwrap();
    ctx.store.delete_provider(provider_id(1)).await.unwrap();
    ctx.store.upsert_provider(&full_provider(1)).await.unwrap();
    let changes = ctx.store.changed_since(start).await.unwrap();
    assert!(changes.deleted.is_empty());
    assert_eq!(changes.upserted, [full_provider(1)]);
}

async fn streaming_yields_every_provider_exactly_once_across_pages(ctx: TestContext) {
    let providers: Vec<_> = (1..=23)
        .map(|n| {
            if n % 2 == 0 {
                full_provider(n)
            } else {
                minimal_provider(n)
            }
        })
        .collect();
    ctx.store.upsert_providers(&providers).await.unwrap();
    let pages: Vec<Vec<_>> = ctx.store.stream_providers(5).try_collect().await.unwrap();
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [5, 5, 5, 5, 3]
    );
    let mut streamed: Vec<ProviderId> = pages.into_iter().flatten().map(|p| p.id).collect();
    let mut expected: Vec<ProviderId> = providers.iter().map(|p| p.id).collect();
    expected.sort();
    assert_eq!(streamed, expected, "pages come in id order");
    streamed.dedup();
    assert_eq!(streamed.len(), 23);

    // A page size that divides the count exactly ends without an empty page.
    let pages: Vec<Vec<_>> = ctx.store.stream_providers(23).try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
}

async fn the_generation_bumps_on_every_write_and_not_on_a_missed_delete(ctx: TestContext) {
    let store = &ctx.store;
    assert_eq!(store.data_generation().await.unwrap(), 0);
    store.upsert_provider(&full_provider(1)).await.unwrap();
    assert_eq!(store.data_generation().await.unwrap(), 1);
    store.upsert_provider(&full_provider(1)).await.unwrap();
    assert_eq!(store.data_generation().await.unwrap(), 2);
    store
        .upsert_providers(&[full_provider(2), full_provider(3)])
        .await
        .unwrap();
    assert_eq!(store.data_generation().await.unwrap(), 3);
    store.delete_provider(provider_id(2)).await.unwrap();
    assert_eq!(store.data_generation().await.unwrap(), 4);
    store.delete_provider(provider_id(2)).await.unwrap();
    assert_eq!(store.data_generation().await.unwrap(), 4);
}

async fn concurrent_writers_all_land_and_each_bumps_the_generation_once(ctx: TestContext) {
    let writers = (1..=8u128).map(|n| {
        let store = ctx.store.clone();
        tokio::spawn(async move { store.upsert_provider(&full_provider(n)).await })
    });
    for outcome in futures::future::join_all(writers).await {
        assert_eq!(outcome.unwrap().unwrap(), UpsertOutcome::Created);
    }
    assert_eq!(ctx.store.count_providers().await.unwrap(), 8);
    assert_eq!(ctx.store.data_generation().await.unwrap(), 8);
}

async fn a_corrupt_document_is_an_error_naming_the_provider(ctx: TestContext) {
    ctx.store
        .upsert_providers(&[full_provider(1), full_provider(2)])
        .await
        .unwrap();
    ctx.execute(r#"UPDATE providers SET document = '{"name": 42}'"#)
        .await;
    let error = ctx.store.get_provider(provider_id(1)).await.unwrap_err();
    match &error {
        StoreError::CorruptDocument {
            provider_id: id, ..
        } => assert_eq!(*id, provider_id(1)),
        other => panic!("expected a corrupt document, got {other:?}"),
    }
    assert!(error.to_string().contains(&provider_id(1).to_string()));
    let streamed: Result<Vec<Vec<_>>, _> = ctx.store.stream_providers(10).try_collect().await;
    assert!(matches!(streamed, Err(StoreError::CorruptDocument { .. })));
}

fn match_log(id: u128, week: NaiveDate) -> MatchLogRecord {
    MatchLogRecord {
        id: uuid::Uuid::from_u128(id),
        week_start: week,
        state: Some("OR".into()),
        postal_prefix: Some("972".into()),
        radius_km: 25.0,
        care_types_recommended: vec![CareType::PelvicFloorPhysicalTherapy, CareType::Doula],
        care_types_requested: vec![CareType::Doula],
        symptoms: vec![Symptom::UrineLeakage, Symptom::PoorSleep],
        warning_signs: vec![WarningSign::Fever],
        birth_type: Some(BirthType::Cesarean),
        weeks_postpartum_bucket: Some("2-6".into()),
        payer: Some("Aetna".into()),
        has_fsa_or_hsa: true,
        has_referral: false,
        languages: vec!["english".into(), "spanish".into()],
        modes: vec![CareMode::InPerson, CareMode::Telehealth],
        text_given: true,
        result_count: 2,
        results_within_radius: 1,
        radius_widened: false,
        cache_hit: true,
        latency_ms: 12.5,
        client_name: Some("web".into()),
        client_version: Some("1.2.3".into()),
        operation: "matchProviders".into(),
        replay_of: None,
        results: vec![
            MatchLogResultRecord {
                rank: 1,
                provider_id: provider_id(1),
                score: 0.91,
                need_fit: 1.0,
                distance: 0.8,
                certification: 1.0,
                payment: 1.0,
                availability: 1.0,
                text: 0.25,
                payment_fit: PaymentFit::InNetwork,
                beyond_radius: false,
            },
            MatchLogResultRecord {
                rank: 2,
                provider_id: provider_id(2),
                score: 0.5,
                need_fit: 0.5,
                distance: 0.1,
                certification: 0.0,
                payment: 0.4,
                availability: 0.0,
                text: 0.0,
                payment_fit: PaymentFit::FsaHsaWithLetterOfMedicalNecessity,
                beyond_radius: true,
            },
        ],
    }
}

async fn match_logs_round_trip_and_reinserting_a_batch_adds_nothing(ctx: TestContext) {
    let week = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut bare = match_log(2, week);
    bare.results.clear();
    bare.care_types_recommended.clear();
    bare.warning_signs.clear();
    bare.languages.clear();
    bare.birth_type = None;
    bare.state = None;
    let batch = [match_log(1, week), bare.clone()];
    assert_eq!(ctx.store.insert_match_logs(&batch).await.unwrap(), 2);
    assert_eq!(
        ctx.store.get_match_log(batch[0].id).await.unwrap().as_ref(),
        Some(&batch[0])
    );
    assert_eq!(ctx.store.get_match_log(bare.id).await.unwrap(), Some(bare));
    assert!(ctx.store.match_exists(batch[0].id).await.unwrap());
    assert!(
        !ctx.store
            .match_exists(uuid::Uuid::from_u128(3))
            .await
            .unwrap()
    );

    // A retried batch is a no-op: nothing is doubled.
    assert_eq!(ctx.store.insert_match_logs(&batch).await.unwrap(), 0);
    assert_eq!(ctx.scalar("SELECT COUNT(*) FROM match_logs").await, 2);
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM match_log_results").await,
        2
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM match_logs WHERE symptoms = 'URINE_LEAKAGE,POOR_SLEEP'")
            .await,
        2
    );
}

/// The writer's PostgreSQL path prepares a batch on a blocking thread and inserts it, maybe
/// several times: it must store what `insert_match_logs` stores.
async fn a_prepared_batch_inserts_as_the_records_would_and_again_adds_nothing(ctx: TestContext) {
    let week = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let answer = match_log(1, week);
    let mut replay = match_log(2, week);
    replay.replay_of = Some(answer.id);
    let prepared = ctx
        .store
        .prepare_match_logs(&[answer.clone(), replay.clone()])
        .unwrap();
    assert_eq!(
        ctx.store
            .insert_prepared_match_logs(&prepared)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        ctx.store
            .insert_prepared_match_logs(&prepared)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        ctx.store.get_match_log(answer.id).await.unwrap().as_ref(),
        Some(&answer)
    );
    let read = ctx.store.get_match_log(replay.id).await.unwrap().unwrap();
    assert_eq!(read.replay_of, Some(answer.id));
    assert_eq!(read.results, answer.results);
    assert_eq!(ctx.scalar("SELECT COUNT(*) FROM match_logs").await, 2);
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM match_log_results").await,
        2
    );
}

async fn an_outcome_for_an_unknown_match_is_refused_and_a_known_one_round_trips(ctx: TestContext) {
    let week = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    ctx.store
        .insert_match_logs(&[match_log(1, week)])
        .await
        .unwrap();
    let outcome = MatchOutcomeRecord {
        id: uuid::Uuid::from_u128(10),
        match_id: uuid::Uuid::from_u128(1),
        provider_id: provider_id(1),
        outcome: MatchOutcome::Booked,
        recorded_week: week,
    };
    ctx.store.insert_match_outcome(&outcome).await.unwrap();
    assert_eq!(
        ctx.store.match_outcomes(outcome.match_id).await.unwrap(),
        std::slice::from_ref(&outcome)
    );

    let orphan = MatchOutcomeRecord {
        id: uuid::Uuid::from_u128(11),
        match_id: uuid::Uuid::from_u128(404),
        ..outcome
    };
    let error = ctx.store.insert_match_outcome(&orphan).await.unwrap_err();
    assert!(
        matches!(error, StoreError::UnknownMatch(id) if id == orphan.match_id),
        "{error:?}"
    );
}

async fn audit_records_round_trip(ctx: TestContext) {
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00.123456Z")
        .unwrap()
        .to_utc();
    let records = [
        AuditRecord {
            id: uuid::Uuid::from_u128(1),
            actor: "admin@example.org".into(),
            action: "upsertProvider".into(),
            provider_id: Some(provider_id(1)),
            at,
        },
        AuditRecord {
            id: uuid::Uuid::from_u128(2),
            actor: "admin@example.org".into(),
            action: "deleteProvider".into(),
            provider_id: Some(provider_id(1)),
            at: at + TimeDelta::milliseconds(1),
        },
    ];
    for record in &records {
        ctx.store.insert_audit(record).await.unwrap();
    }
    assert_eq!(
        ctx.store.audit_for_provider(provider_id(1)).await.unwrap(),
        records
    );
    assert!(
        ctx.store
            .audit_for_provider(provider_id(2))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Two requests in Oregon's 972 area the same week: the first a care desert (1 result inside
/// her radius) recommended pelvic-floor therapy and a doula and asked for a doula; the second
/// (5 inside) recommended a doula only. Outcomes: the first's rank 1 was contacted and booked,
/// the second's rank 1 viewed.
async fn seed_view_fixture(ctx: &TestContext, week: NaiveDate) {
    let desert = match_log(1, week);
    let mut served = match_log(2, week);
    served.results_within_radius = 5;
    served.care_types_recommended = vec![CareType::Doula];
    served.care_types_requested.clear();
    ctx.store
        .insert_match_logs(&[desert, served])
        .await
        .unwrap();
    for (id, match_id, outcome) in [
        (10, 1, MatchOutcome::Contacted),
        (11, 1, MatchOutcome::Booked),
        (12, 2, MatchOutcome::Viewed),
    ] {
        ctx.store
            .insert_match_outcome(&MatchOutcomeRecord {
                id: uuid::Uuid::from_u128(id),
                match_id: uuid::Uuid::from_u128(match_id),
                provider_id: provider_id(1),
                outcome,
                recorded_week: week,
            })
            .await
            .unwrap();
    }
}

async fn the_analyst_views_count_demand_deserts_outcomes_by_rank_and_payment_fit(ctx: TestContext) {
    let week = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    seed_view_fixture(&ctx, week).await;

    let demand = |care_type: &str, column: &str| {
        format!(
            "SELECT {column} FROM match_demand_weekly WHERE week_start = '2026-11-23' \
             AND state = 'OR' AND care_type = '{care_type}'"
        )
    };
    assert_eq!(ctx.scalar(&demand("DOULA", "requests")).await, 2);
    assert_eq!(ctx.scalar(&demand("DOULA", "recommended")).await, 2);
    assert_eq!(ctx.scalar(&demand("DOULA", "requested")).await, 1);
    assert_eq!(
        ctx.scalar(&demand("PELVIC_FLOOR_PHYSICAL_THERAPY", "requests"))
            .await,
        1
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM match_demand_weekly").await,
        2,
        "one row per (week, state, care type): a code that merely contains another is not it"
    );

    let desert = |column: &str| {
        format!(
            "SELECT {column} FROM match_care_deserts WHERE state = 'OR' \
             AND postal_prefix = '972' AND care_type = 'DOULA'"
        )
    };
    assert_eq!(ctx.scalar(&desert("requests")).await, 2);
    assert_eq!(ctx.scalar(&desert("desert_requests")).await, 1);
    assert_eq!(
        ctx.scalar(&desert("CAST(desert_share * 100 AS BIGINT)"))
            .await,
        50
    );

    let rank = |rank: u32, column: &str| {
        format!(
            "SELECT {column} FROM match_rank_outcomes \
             WHERE operation = 'matchProviders' AND rank = {rank}"
        )
    };
    assert_eq!(ctx.scalar(&rank(1, "shown")).await, 2);
    assert_eq!(ctx.scalar(&rank(1, "viewed")).await, 1);
    assert_eq!(ctx.scalar(&rank(1, "contacted")).await, 1);
    assert_eq!(ctx.scalar(&rank(1, "booked")).await, 1);
    assert_eq!(ctx.scalar(&rank(1, "dismissed")).await, 0);
    assert_eq!(
        ctx.scalar(&rank(1, "CAST(booked_share * 100 AS BIGINT)"))
            .await,
        50
    );
    assert_eq!(ctx.scalar(&rank(2, "shown")).await, 2);
    assert_eq!(ctx.scalar(&rank(2, "contacted")).await, 0);

    let mix = |fit: &str, column: &str| {
        format!(
            "SELECT {column} FROM match_payment_fit_mix WHERE week_start = '2026-11-23' \
             AND state = 'OR' AND payment_fit = '{fit}'"
        )
    };
    assert_eq!(ctx.scalar(&mix("IN_NETWORK", "results")).await, 2);
    assert_eq!(ctx.scalar(&mix("IN_NETWORK", "top_results")).await, 2);
    assert_eq!(ctx.scalar(&mix("IN_NETWORK", "matches")).await, 2);
    assert_eq!(
        ctx.scalar(&mix(
            "FSA_HSA_WITH_LETTER_OF_MEDICAL_NECESSITY",
            "top_results"
        ))
        .await,
        0
    );
}

async fn an_export_pages_through_every_match_once_with_its_results_and_outcomes(ctx: TestContext) {
    let week = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    seed_view_fixture(&ctx, week).await;
    let earlier = week - TimeDelta::weeks(1);
    let later = week + TimeDelta::weeks(1);
    ctx.store
        .insert_match_logs(&[match_log(3, earlier), match_log(4, later)])
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = ctx
            .store
            .export_match_logs(Some(earlier), Some(week), cursor, 2)
            .await
            .unwrap();
        assert!(page.len() <= 2);
        seen.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let ids: Vec<u128> = seen.iter().map(|found| found.log.id.as_u128()).collect();
    assert_eq!(
        ids,
        [3, 1, 2],
        "by week then id; the later week is outside the range"
    );
    assert_eq!(seen[1].log.results.len(), 2);
    let outcomes: Vec<MatchOutcome> = seen[1].outcomes.iter().map(|o| o.outcome).collect();
    assert_eq!(outcomes, [MatchOutcome::Contacted, MatchOutcome::Booked]);

    // A missing bound does not limit its side: no bounds at all is every match.
    let store = &ctx.store;
    let ids = |since, until| async move {
        let (page, next) = store
            .export_match_logs(since, until, None, 10)
            .await
            .unwrap();
        assert!(next.is_none());
        page.iter()
            .map(|found| found.log.id.as_u128())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(None, None).await, [3, 1, 2, 4]);
    assert_eq!(ids(Some(week), None).await, [1, 2, 4]);
    assert_eq!(ids(None, Some(week)).await, [3, 1, 2]);
}

async fn pruning_deletes_old_matches_with_their_results_and_outcomes_and_keeps_the_rest(
    ctx: TestContext,
) {
    let week = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let old_week = week - TimeDelta::weeks(30);
    seed_view_fixture(&ctx, old_week).await;
    ctx.store
        .insert_match_logs(&[match_log(5, week)])
        .await
        .unwrap();

    assert_eq!(ctx.store.prune_match_logs(week).await.unwrap(), 2);
    assert_eq!(ctx.scalar("SELECT COUNT(*) FROM match_logs").await, 1);
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM match_log_results").await,
        2
    );
    assert_eq!(ctx.scalar("SELECT COUNT(*) FROM match_outcomes").await, 0);
    assert_eq!(ctx.store.prune_match_logs(week).await.unwrap(), 0);
}

async fn a_replay_reads_the_results_of_the_answer_it_repeats_and_pruning_keeps_that_answer(
    ctx: TestContext,
) {
    let old_week = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    let week = old_week + TimeDelta::weeks(1);
    let original = match_log(1, old_week);
    let mut replay = match_log(7, week);
    replay.replay_of = Some(original.id);
    // Even if given, a replay's own results are not stored: they are the original's.
    replay.results.truncate(1);
    ctx.store
        .insert_match_logs(&[original.clone(), replay.clone()])
        .await
        .unwrap();
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM match_log_results").await,
        2
    );
    let read = ctx.store.get_match_log(replay.id).await.unwrap().unwrap();
    assert_eq!(read.replay_of, Some(original.id));
    assert_eq!(read.results, original.results);

    // Outcomes belong to the match she was served; the views count the replay's results.
    ctx.store
        .insert_match_outcome(&MatchOutcomeRecord {
            id: uuid::Uuid::from_u128(20),
            match_id: replay.id,
            provider_id: provider_id(1),
            outcome: MatchOutcome::Contacted,
            recorded_week: week,
        })
        .await
        .unwrap();
    let rank_one = |column: &str| {
        format!(
            "SELECT {column} FROM match_rank_outcomes \
             WHERE operation = 'matchProviders' AND rank = 1"
        )
    };
    assert_eq!(ctx.scalar(&rank_one("shown")).await, 2);
    assert_eq!(ctx.scalar(&rank_one("contacted")).await, 1);
    assert_eq!(
        ctx.scalar(
            "SELECT results FROM match_payment_fit_mix WHERE week_start = '2026-11-23' \
             AND payment_fit = 'IN_NETWORK'"
        )
        .await,
        1
    );
    let (exported, _) = ctx
        .store
        .export_match_logs(Some(old_week), Some(week), None, 10)
        .await
        .unwrap();
    assert_eq!(exported.len(), 2);
    assert!(
        exported
            .iter()
            .all(|found| found.log.results == original.results)
    );
    assert_eq!(exported[1].outcomes.len(), 1);

    // The original is older than the cutoff, but the newer replay still reads its results.
    assert_eq!(ctx.store.prune_match_logs(week).await.unwrap(), 0);
    assert_eq!(
        ctx.store
            .get_match_log(replay.id)
            .await
            .unwrap()
            .unwrap()
            .results,
        original.results
    );
    // Past both, everything goes.
    assert_eq!(
        ctx.store
            .prune_match_logs(week + TimeDelta::weeks(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(ctx.scalar("SELECT COUNT(*) FROM match_logs").await, 0);
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM match_log_results").await,
        0
    );
    assert_eq!(ctx.scalar("SELECT COUNT(*) FROM match_outcomes").await, 0);
}

async fn every_log_table_reads_back_as_json_objects_with_every_column(ctx: TestContext) {
    let week = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    seed_view_fixture(&ctx, week).await;
    let logs = ctx
        .store
        .match_log_table_as_json("match_logs")
        .await
        .unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0]["postal_prefix"], "972");
    assert_eq!(logs[0].as_object().unwrap().len(), 26, "{}", logs[0]);
    let results = ctx
        .store
        .match_log_table_as_json("match_log_results")
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_object().unwrap().len(), 12);
    let outcomes = ctx
        .store
        .match_log_table_as_json("match_outcomes")
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(
        ctx.store
            .match_log_table_as_json("providers")
            .await
            .is_err()
    );
}

/// `match_log_results` is a view over `match_logs.results`: each result reads back under its
/// match's id with the old table's column types (uuid, integer, double, text, boolean: typed
/// reads fail on another type), doubles bit for bit, and a replay adds no rows.
async fn the_results_view_reads_back_every_packed_result_with_the_old_columns_types(
    ctx: TestContext,
) {
    use sea_orm::ConnectionTrait;
    let week = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let fits = [
        PaymentFit::InNetwork,
        PaymentFit::OutOfNetworkSuperbill,
        PaymentFit::FsaHsaEligible,
        PaymentFit::FsaHsaWithLetterOfMedicalNecessity,
        PaymentFit::SelfPay,
    ];
    let mut answer = match_log(1, week);
    answer.results = (1..=20_u32)
        .map(|rank| {
            let x = f64::from(rank);
            MatchLogResultRecord {
                rank,
                provider_id: provider_id(1_000 + u128::from(rank)),
                score: 1.0 / (x + 2.0),
                need_fit: x.sqrt() / 7.0,
                distance: 1e-9 * x,
                certification: 1.0,
                payment: 0.0,
                availability: 0.1 + 0.2 * x,
                text: x * 1e15 + 0.5,
                payment_fit: fits[rank as usize % fits.len()],
                beyond_radius: rank % 3 == 0,
            }
        })
        .collect();
    let mut replay = match_log(2, week);
    replay.replay_of = Some(answer.id);
    ctx.store
        .insert_match_logs(&[answer.clone(), replay])
        .await
        .unwrap();

    let connection = sea_orm::Database::connect(&ctx.url).await.unwrap();
    let rows = connection
        .query_all_raw(sea_orm::Statement::from_string(
            connection.get_database_backend(),
            "SELECT match_id, rank, provider_id, score, need_fit, distance, certification, \
             payment, availability, \"text\", payment_fit, beyond_radius \
             FROM match_log_results ORDER BY rank"
                .to_owned(),
        ))
        .await
        .unwrap();
    connection.close().await.unwrap();
    let mut read = Vec::new();
    for row in rows {
        let match_id: uuid::Uuid = row.try_get_by_index(0).unwrap();
        assert_eq!(match_id, answer.id);
        let rank: i32 = row.try_get_by_index(1).unwrap();
        let provider: uuid::Uuid = row.try_get_by_index(2).unwrap();
        let double = |index: usize| row.try_get_by_index::<f64>(index).unwrap();
        let payment_fit: String = row.try_get_by_index(10).unwrap();
        read.push(MatchLogResultRecord {
            rank: u32::try_from(rank).unwrap(),
            provider_id: carematch_domain::ProviderId::from_uuid(provider),
            score: double(3),
            need_fit: double(4),
            distance: double(5),
            certification: double(6),
            payment: double(7),
            availability: double(8),
            text: double(9),
            payment_fit: payment_fit.parse().unwrap(),
            beyond_radius: row.try_get_by_index(11).unwrap(),
        });
    }
    assert_eq!(read, answer.results);
}

// ---- Bulk load ----

/// The secondary indexes of the child tables, as the first migration names them.
const CHILD_INDEXES: [&str; 9] = [
    "idx_provider_care_types_care_type",
    "idx_provider_certifications_scope",
    "idx_provider_locations_region",
    "idx_provider_locations_postal_code",
    "idx_provider_insurance_payer",
    "idx_provider_symptoms_symptom",
    "idx_provider_modes_mode",
    "idx_provider_languages_language",
    "idx_provider_licensed_regions_region",
];

/// Full and minimal providers (every child table gets rows), in batches of uneven size.
fn bulk_batches() -> Vec<Vec<Provider>> {
    let providers: Vec<Provider> = (1..=20)
        .map(|n| {
            if n <= 12 {
                full_provider(n)
            } else {
                minimal_provider(n)
            }
        })
        .collect();
    providers.chunks(7).map(<[Provider]>::to_vec).collect()
}

fn index_names(indexes: &[(String, String)]) -> Vec<&str> {
    indexes.iter().map(|(name, _)| name.as_str()).collect()
}

/// Loads `batches`, reading the list of indexes before each batch after the first (that is,
/// while the load is under way).
async fn bulk_load_watching_indexes(
    ctx: &TestContext,
    batches: Vec<Vec<Provider>>,
) -> (
    Result<carematch_store::BulkLoadSummary, StoreError>,
    Vec<Vec<(String, String)>>,
) {
    let seen = std::sync::Mutex::new(Vec::new());
    let seen_by_stream = &seen;
    let stream = futures::stream::unfold(
        (batches.into_iter(), true),
        move |(mut batches, first)| async move {
            if !first {
                let indexes = ctx.indexes().await;
                seen_by_stream.lock().unwrap().push(indexes);
            }
            batches.next().map(|batch| (batch, (batches, false)))
        },
    );
    let outcome = ctx.store.bulk_load_providers(stream).await;
    (outcome, seen.into_inner().unwrap())
}

async fn a_bulk_load_into_an_empty_database_defers_the_child_indexes_and_rebuilds_them_as_migrated(
    ctx: TestContext,
) {
    let migrated = ctx.indexes().await;
    for name in CHILD_INDEXES {
        assert!(
            index_names(&migrated).contains(&name),
            "{name} after migrate"
        );
    }
    let batches = bulk_batches();
    let providers: Vec<Provider> = batches.concat();

    let (outcome, seen) = bulk_load_watching_indexes(&ctx, batches).await;
    let summary = outcome.unwrap();
    assert_eq!(summary.providers, 20);
    assert!(summary.indexes_deferred);

    // While loading: no child-table secondary index; every other index (primary keys, the
    // unique NPI index) in place.
    assert!(!seen.is_empty());
    for during in &seen {
        let names = index_names(during);
        for name in CHILD_INDEXES {
            assert!(!names.contains(&name), "{name} present during the load");
        }
        let expected: Vec<&str> = index_names(&migrated)
            .into_iter()
            .filter(|name| !CHILD_INDEXES.contains(name))
            .collect();
        assert_eq!(names, expected);
        assert!(names.contains(&"ux_providers_npi"));
    }
    // After: exactly the migration's indexes, definitions included.
    assert_eq!(ctx.indexes().await, migrated);

    for provider in &providers {
        assert_eq!(
            ctx.store.get_provider(provider.id).await.unwrap().as_ref(),
            Some(provider)
        );
    }
    assert_eq!(
        ctx.store.get_provider_by_npi(&npi(3)).await.unwrap(),
        Some(full_provider(3))
    );
    // One generation per batch, as upserts would bump it.
    assert_eq!(ctx.store.data_generation().await.unwrap(), 3);
}

const PROVIDER_COLUMNS: &str = "id, npi, name, accepting_new_clients, accepts_fsa_hsa, \
    provides_superbill, requires_referral, self_pay_rate_usd, bio, home_visit_radius_km, document";

const CHILD_TABLES: [&str; 8] = [
    "provider_care_types",
    "provider_certifications",
    "provider_locations",
    "provider_insurance",
    "provider_symptoms",
    "provider_modes",
    "provider_languages",
    "provider_licensed_regions",
];

/// Copies `providers` (but its write timestamps) and every child table to `<table>_<suffix>`.
async fn snapshot_provider_tables(ctx: &TestContext, suffix: &str) {
    ctx.execute(&format!(
        "CREATE TABLE providers_{suffix} AS SELECT {PROVIDER_COLUMNS} FROM providers"
    ))
    .await;
    for table in CHILD_TABLES {
        ctx.execute(&format!(
            "CREATE TABLE {table}_{suffix} AS SELECT * FROM {table}"
        ))
        .await;
    }
}

/// Rows of `<table>_<left>` missing from `<table>_<right>`.
async fn rows_missing(ctx: &TestContext, table: &str, left: &str, right: &str) -> i64 {
    ctx.scalar(&format!(
        "SELECT COUNT(*) FROM (SELECT * FROM {table}_{left} EXCEPT SELECT * FROM {table}_{right}) AS missing"
    ))
    .await
}

async fn a_bulk_load_writes_the_same_rows_as_upserts(ctx: TestContext) {
    let batches = bulk_batches();
    let providers: Vec<Provider> = batches.concat();
    let summary = ctx
        .store
        .bulk_load_providers(futures::stream::iter(batches))
        .await
        .unwrap();
    assert!(summary.indexes_deferred);
    snapshot_provider_tables(&ctx, "bulk").await;

    // The same providers through the ordinary path: delete them all, upsert them one by one.
    for provider in &providers {
        assert!(ctx.store.delete_provider(provider.id).await.unwrap());
    }
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM provider_symptoms").await,
        0
    );
    for provider in &providers {
        ctx.store.upsert_provider(provider).await.unwrap();
    }
    snapshot_provider_tables(&ctx, "upserted").await;

    for table in std::iter::once("providers").chain(CHILD_TABLES) {
        let bulk = ctx
            .scalar(&format!("SELECT COUNT(*) FROM {table}_bulk"))
            .await;
        let upserted = ctx
            .scalar(&format!("SELECT COUNT(*) FROM {table}_upserted"))
            .await;
        assert_eq!(bulk, upserted, "{table}: row counts");
        assert!(bulk > 0, "{table}: the fixture writes rows to every table");
        assert_eq!(
            rows_missing(&ctx, table, "bulk", "upserted").await,
            0,
            "{table}"
        );
        assert_eq!(
            rows_missing(&ctx, table, "upserted", "bulk").await,
            0,
            "{table}"
        );
    }
    for provider in &providers {
        assert_eq!(
            ctx.store.get_provider(provider.id).await.unwrap().as_ref(),
            Some(provider)
        );
    }
}

async fn a_failing_bulk_load_keeps_the_batches_before_it_and_leaves_the_indexes_in_place(
    ctx: TestContext,
) {
    let migrated = ctx.indexes().await;
    let mut intruder = full_provider(30);
    intruder.npi = Some(npi(1));
    let batches = vec![
        (1..=5).map(full_provider).collect::<Vec<_>>(),
        vec![full_provider(6), intruder],
        (7..=9).map(full_provider).collect(),
    ];

    let (outcome, seen) = bulk_load_watching_indexes(&ctx, batches).await;
    let error = outcome.unwrap_err();
    assert!(
        matches!(error, StoreError::NpiConflict { npi: ref taken, .. } if taken == npi(1).as_str()),
        "{error:?}"
    );
    // The load was under way with the indexes dropped when the batch failed...
    assert!(
        !index_names(&seen[0]).contains(&CHILD_INDEXES[0]),
        "the load deferred the indexes"
    );
    // ...and they are back, as migrated; the first batch stays, nothing after the failure.
    assert_eq!(ctx.indexes().await, migrated);
    assert_eq!(ctx.store.count_providers().await.unwrap(), 5);
    assert_eq!(
        ctx.store.get_provider(provider_id(3)).await.unwrap(),
        Some(full_provider(3))
    );
    assert_eq!(ctx.store.get_provider(provider_id(6)).await.unwrap(), None);
}

async fn a_bulk_load_into_a_database_with_providers_keeps_the_indexes_throughout(ctx: TestContext) {
    let migrated = ctx.indexes().await;
    ctx.store.upsert_provider(&full_provider(1)).await.unwrap();
    // Replacing provider 1 in a batch is an ordinary upsert here.
    let mut renamed = full_provider(1);
    renamed.bio = Some("Replaced in a bulk load".into());
    let batches = vec![
        vec![renamed.clone(), full_provider(2)],
        vec![full_provider(3)],
    ];

    let (outcome, seen) = bulk_load_watching_indexes(&ctx, batches).await;
    let summary = outcome.unwrap();
    assert!(!summary.indexes_deferred);
    assert_eq!(summary.providers, 3);
    for during in &seen {
        assert_eq!(during, &migrated);
    }
    assert_eq!(ctx.indexes().await, migrated);
    assert_eq!(ctx.store.count_providers().await.unwrap(), 3);
    assert_eq!(
        ctx.store.get_provider(provider_id(1)).await.unwrap(),
        Some(renamed)
    );
}

async fn migrate_recreates_a_child_index_that_an_interrupted_bulk_load_left_missing(
    ctx: TestContext,
) {
    let migrated = ctx.indexes().await;
    ctx.execute("DROP INDEX idx_provider_symptoms_symptom")
        .await;
    ctx.execute("DROP INDEX idx_provider_locations_postal_code")
        .await;
    assert_eq!(ctx.indexes().await.len(), migrated.len() - 2);
    ctx.store.migrate().await.unwrap();
    assert_eq!(ctx.indexes().await, migrated);
}
