//! Test support shared by the store's integration tests: a fresh database per test on each
//! backend, the macro that instantiates a suite for every backend, and provider fixtures.

// The suite's test bodies are plain async fns (instantiated per backend by a macro), which
// clippy does not see as tests; unwrapping is how they fail.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::future::Future;
use std::panic::AssertUnwindSafe;

use carematch_domain::{
    CareMode, CareType, CertificationDraft, CertificationScope, InsurancePlanDraft, LocationDraft,
    Npi, Provider, ProviderDraft, ProviderId, Symptom,
};
use carematch_store::{Store, StoreOptions};
use futures::FutureExt;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

/// What a test gets: a migrated store on a database of its own, and that database's URL for
/// the few tests that must look under the API.
pub struct TestContext {
    pub store: Store,
    pub url: String,
}

impl TestContext {
    /// Runs one SQL statement that returns a single integer (e.g. a `COUNT(*)`).
    pub async fn scalar(&self, sql: &str) -> i64 {
        let connection = Database::connect(&self.url).await.unwrap();
        let backend = connection.get_database_backend();
        let row = connection
            .query_one_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap()
            .unwrap();
        let value: i64 = row.try_get_by_index(0).unwrap();
        connection.close().await.unwrap();
        value
    }

    /// The database's indexes as (name, definition), by name: from `sqlite_master` or
    /// `pg_indexes`. SQLite's automatic primary-key indexes have no definition ("").
    pub async fn indexes(&self) -> Vec<(String, String)> {
        let connection = Database::connect(&self.url).await.unwrap();
        let backend = connection.get_database_backend();
        let sql = match backend {
            DbBackend::Sqlite => {
                "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' \
                 ORDER BY name"
            }
            _ => {
                "SELECT indexname::text, indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() ORDER BY indexname"
            }
        };
        let rows = connection
            .query_all_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap();
        connection.close().await.unwrap();
        rows.iter()
            .map(|row| {
                (
                    row.try_get_by_index(0).unwrap(),
                    row.try_get_by_index(1).unwrap(),
                )
            })
            .collect()
    }

    /// Runs one SQL statement for its effect.
    pub async fn execute(&self, sql: &str) {
        let connection = Database::connect(&self.url).await.unwrap();
        connection.execute_unprepared(sql).await.unwrap();
        connection.close().await.unwrap();
    }
}

fn test_options() -> StoreOptions {
    StoreOptions {
        max_connections: 4,
        ..StoreOptions::default()
    }
}

/// Runs `test` against a migrated SQLite file in a temporary folder of its own.
pub async fn run_on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestContext) -> Fut,
    Fut: Future<Output = ()>,
{
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/store.db", folder.path().display());
    let store = Store::connect(&url, &test_options()).await.unwrap();
    store.migrate().await.unwrap();
    test(TestContext {
        store: store.clone(),
        url,
    })
    .await;
    store.close().await.unwrap();
}

/// Runs `test` against a PostgreSQL database created for it (and dropped after, pass or
/// fail) on the server of `TEST_DATABASE_URL`. Without that variable the test is skipped,
/// except under `CI=true`, where a silent skip would hide a missing server.
pub async fn run_on_postgres<F, Fut>(test: F)
where
    F: FnOnce(TestContext) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(base_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "TEST_DATABASE_URL must be set under CI=true"
        );
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let name = format!("carematch_store_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&base_url).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let url = with_database_name(&base_url, &name);
    let store = Store::connect(&url, &test_options()).await.unwrap();
    store.migrate().await.unwrap();
    let outcome = AssertUnwindSafe(test(TestContext {
        store: store.clone(),
        url,
    }))
    .catch_unwind()
    .await;
    store.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// `postgres://user@host:5432/test?x=y` with `test` replaced by `name`.
fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    }
}

/// Instantiates every listed `async fn(TestContext)` once per backend, as
/// `sqlite::<name>` and `postgres::<name>` (quickwit's `metastore_test_suite!` idea).
#[macro_export]
macro_rules! store_test_suite {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::support::run_on_sqlite(super::$test).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::support::run_on_postgres(super::$test).await;
                }
            )+
        }
    };
}

/// A valid NPI for each `n`: nine digits from `n` and the check digit that fits.
pub fn npi(n: u32) -> Npi {
    let prefix = format!("{:09}", 100_000_000 + n);
    (0..10)
        .find_map(|check| Npi::parse(&format!("{prefix}{check}")).ok())
        .unwrap()
}

pub fn provider_id(n: u128) -> ProviderId {
    ProviderId::from_uuid(uuid::Uuid::from_u128(n))
}

/// A provider that uses every field, optional ones included.
pub fn full_provider(n: u128) -> Provider {
    ProviderDraft {
        id: Some(provider_id(n).to_string()),
        npi: Some(npi(n as u32).as_str().to_owned()),
        name: format!("Rose City Pelvic Health {n}"),
        care_types: vec![
            CareType::PelvicFloorPhysicalTherapy,
            CareType::PostnatalMassage,
        ],
        certifications: vec![
            CertificationDraft {
                name: "CAPP-OB".into(),
                issuer: Some("APTA Pelvic Health".into()),
                scope: CertificationScope::Perinatal,
                verified: true,
                care_type: None,
            },
            CertificationDraft {
                name: "LMT".into(),
                issuer: None,
                scope: CertificationScope::General,
                verified: false,
                care_type: None,
            },
        ],
        treats: vec![
            Symptom::UrineLeakage,
            Symptom::PelvicPain,
            Symptom::DiastasisRecti,
        ],
        locations: vec![
            LocationDraft {
                latitude: 45.533166,
                longitude: -122.665_58,
                address: Some("1 NW Main St, Suite 2".into()),
                city: Some("Portland".into()),
                region: Some("OR".into()),
                postal_code: Some("97205".into()),
            },
            LocationDraft {
                latitude: 45.6387,
                longitude: -122.6615,
                address: None,
                city: None,
                region: None,
                postal_code: None,
            },
        ],
        modes: vec![
            CareMode::InPerson,
            CareMode::Telehealth,
            CareMode::HomeVisit,
        ],
        languages: vec!["English".into(), "Spanish".into()],
        accepting_new_clients: true,
        insurance: vec![
            InsurancePlanDraft {
                payer: "Aetna".into(),
                plan: Some("Choice POS II".into()),
                care_types: Vec::new(),
            },
            InsurancePlanDraft {
                payer: "Oregon Health Plan".into(),
                plan: None,
                care_types: Vec::new(),
            },
        ],
        accepts_fsa_hsa: true,
        provides_superbill: true,
        requires_referral: true,
        self_pay_rate_usd: Some(165),
        bio: Some("Pelvic floor rehab after birth, in clinic or at home.".into()),
        licensed_regions: vec!["WA".into(), "CA".into()],
        home_visit_radius_km: Some(32.5),
    }
    .validate(provider_id(n))
    .unwrap()
}

/// A smaller provider: one care type, no optional fields, telehealth only.
pub fn minimal_provider(n: u128) -> Provider {
    ProviderDraft {
        id: Some(provider_id(n).to_string()),
        npi: None,
        name: format!("Virtual Lactation {n}"),
        care_types: vec![CareType::LactationConsulting],
        certifications: vec![],
        treats: vec![],
        locations: vec![],
        modes: vec![CareMode::Telehealth],
        languages: vec![],
        accepting_new_clients: false,
        insurance: vec![],
        accepts_fsa_hsa: false,
        provides_superbill: false,
        requires_referral: false,
        self_pay_rate_usd: None,
        bio: None,
        licensed_regions: vec![],
        home_visit_radius_km: None,
    }
    .validate(provider_id(n))
    .unwrap()
}
