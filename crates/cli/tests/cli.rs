//! The `carematch` binary as operators run it: environment configuration, import and export
//! files, exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn carematch(data_dir: &Path, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carematch"))
        .args(arguments)
        .current_dir(data_dir)
        .env(
            "CAREMATCH_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", data_dir.join("cm.db").display()),
        )
        .env("CAREMATCH_LOG_FORMAT", "json")
        .env("CAREMATCH_LOG_FILTER", "warn")
        .output()
        .expect("carematch runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const GOOD_LINE: &str = r#"{"id": "00000000-0000-4000-8000-000000000101", "name": "Good PT", "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"], "certifications": [], "treats": ["URINE_LEAKAGE"], "locations": [{"latitude": 45.5, "longitude": -122.6, "region": "OR", "postalCode": "97205"}], "modes": ["IN_PERSON"], "languages": ["English"], "acceptingNewClients": true, "insurance": [{"payer": "Aetna"}], "acceptsFsaHsa": true, "providesSuperbill": false, "requiresReferral": false}"#;

#[test]
fn import_writes_good_lines_reports_bad_ones_by_line_and_field_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let bad_latitude = GOOD_LINE
        .replace("000000000101", "000000000102")
        .replace("\"latitude\": 45.5", "\"latitude\": 123.0");
    let bad_care_type = GOOD_LINE
        .replace("000000000101", "000000000103")
        .replace("PELVIC_FLOOR_PHYSICAL_THERAPY", "MASSAGE");
    let second_good = GOOD_LINE
        .replace("000000000101", "000000000104")
        .replace("Good PT", "Second PT");
    let file = dir.path().join("providers.jsonl");
    let content = [
        GOOD_LINE,
        &bad_latitude,
        "{not json",
        "",
        &bad_care_type,
        &second_good,
    ]
    .join("\n");
    std::fs::write(&file, content).unwrap();

    let output = carematch(dir.path(), &["import", file.to_str().unwrap()]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        !output.status.success(),
        "exit code must be non-zero: {stdout} {stderr}"
    );
    assert!(stderr.contains("line 2: locations[0].latitude"), "{stderr}");
    assert!(stderr.contains("line 3:"), "{stderr}");
    assert!(stderr.contains("line 5: careTypes[0]"), "{stderr}");
    assert!(
        stdout.contains("read 5 lines: imported 2 (2 created, 0 updated), failed 3"),
        "{stdout}"
    );

    // The good lines are there and the bad ones are not: export shows exactly two.
    let exported = dir.path().join("export.jsonl");
    let output = carematch(dir.path(), &["export", exported.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<String> = std::fs::read_to_string(&exported)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("Good PT") && lines[1].contains("Second PT"));
}

#[test]
fn a_line_that_is_not_utf8_is_one_bad_line_and_every_other_line_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("providers.jsonl");
    let mut content = Vec::new();
    for line in 1..=800_u32 {
        let id = format!("00000000-0000-4000-8000-{line:012}");
        let good = GOOD_LINE.replace("00000000-0000-4000-8000-000000000101", &id);
        let mut bytes = good.clone().into_bytes();
        if line == 700 {
            // A Latin-1 "é" (0xE9) in the name: not UTF-8.
            bytes[good.find("Good PT").unwrap() + 1] = 0xE9;
        }
        content.extend_from_slice(&bytes);
        content.push(b'\n');
    }
    std::fs::write(&file, content).unwrap();

    let output = carematch(dir.path(), &["import", file.to_str().unwrap()]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(!output.status.success(), "a bad line exits non-zero");
    assert!(
        stderr.contains("line 700: not valid UTF-8"),
        "{stdout} {stderr}"
    );
    assert!(
        stdout.contains("read 800 lines: imported 799 (799 created, 0 updated), failed 1"),
        "{stdout} {stderr}"
    );
    let exported = dir.path().join("export.jsonl");
    let output = carematch(dir.path(), &["export", exported.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let exported = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(exported.lines().count(), 799);
    assert!(!exported.contains("-000000000700\""));
    assert!(exported.contains("-000000000699\"") && exported.contains("-000000000701\""));
}

#[test]
fn importing_the_same_file_twice_updates_instead_of_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("providers.jsonl");
    std::fs::write(&file, GOOD_LINE).unwrap();
    assert!(
        carematch(dir.path(), &["import", file.to_str().unwrap()])
            .status
            .success()
    );
    let output = carematch(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("imported 1 (0 created, 1 updated), failed 0"));
}

#[test]
fn export_then_import_into_a_fresh_database_round_trips_every_provider() {
    let source = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/providers.jsonl");
    let output = carematch(source.path(), &["import", scenario.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let first_export = source.path().join("first.jsonl");
    assert!(
        carematch(source.path(), &["export", first_export.to_str().unwrap()])
            .status
            .success()
    );

    let target = tempfile::tempdir().unwrap();
    assert!(
        carematch(target.path(), &["import", first_export.to_str().unwrap()])
            .status
            .success()
    );
    let second_export = target.path().join("second.jsonl");
    assert!(
        carematch(target.path(), &["export", second_export.to_str().unwrap()])
            .status
            .success()
    );
    let first = std::fs::read_to_string(first_export).unwrap();
    assert_eq!(first.lines().count(), 18);
    assert_eq!(first, std::fs::read_to_string(second_export).unwrap());
}

#[test]
fn seed_demo_is_deterministic() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    for dir in [&first, &second] {
        let output = carematch(dir.path(), &["seed-demo", "--count", "25", "--seed", "7"]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("seeded 25 demo providers"));
        let export = dir.path().join("demo.jsonl");
        assert!(
            carematch(dir.path(), &["export", export.to_str().unwrap()])
                .status
                .success()
        );
    }
    let first = std::fs::read_to_string(first.path().join("demo.jsonl")).unwrap();
    assert_eq!(first.lines().count(), 25);
    assert_eq!(
        first,
        std::fs::read_to_string(second.path().join("demo.jsonl")).unwrap()
    );
}

#[test]
fn a_bad_setting_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_carematch"))
        .args(["migrate"])
        .current_dir(dir.path())
        .env("CAREMATCH_LISTEN", "nowhere")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("CAREMATCH_LISTEN"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn migrate_on_the_default_embedded_database_creates_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_carematch"))
        .args(["migrate"])
        .current_dir(dir.path())
        .env("CAREMATCH_LOG_FILTER", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(dir.path().join("data/carematch.db").exists());
}

#[test]
fn schema_prints_the_federated_sdl() {
    let dir = tempfile::tempdir().unwrap();
    let output = carematch(dir.path(), &["schema"]);
    assert!(output.status.success());
    let sdl = text(&output.stdout);
    assert!(sdl.contains("recommendCare"), "{sdl}");
    assert!(sdl.contains("@link"), "{sdl}");
    assert!(sdl.contains("@key(fields: \"id\")"), "{sdl}");
    // The providers subgraph alone composes with any subgraph: no interface object.
    assert!(!sdl.contains("CareListing"), "{sdl}");
}

#[test]
fn schema_with_the_care_listing_flag_prints_the_interface_object_variant() {
    let dir = tempfile::tempdir().unwrap();
    let output = carematch(dir.path(), &["schema", "--care-listing-interface-object"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let sdl = text(&output.stdout);
    assert!(
        sdl.contains("type CareListing @key(fields: \"id\") @interfaceObject"),
        "{sdl}"
    );
}

/// One logged match of `week` with no results (the export's columns are not under test here).
fn match_log_of_week(id: u128, week: chrono::NaiveDate) -> carematch_store::MatchLogRecord {
    carematch_store::MatchLogRecord::example(uuid::Uuid::from_u128(id), week)
}

#[tokio::test]
async fn logs_export_without_dates_exports_every_match_and_each_date_bounds_one_side() {
    let dir = tempfile::tempdir().unwrap();
    let migrated = carematch(dir.path(), &["migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cm.db").display());
    let store = carematch_store::Store::connect(&url, &carematch_store::StoreOptions::default())
        .await
        .unwrap();
    let week = |year| chrono::NaiveDate::from_isoywd_opt(year, 10, chrono::Weekday::Mon).unwrap();
    store
        .insert_match_logs(&[
            match_log_of_week(1, week(2001)),
            match_log_of_week(2, week(2090)),
        ])
        .await
        .unwrap();
    drop(store);

    let out = dir.path().join("logs.csv");
    let export = |dates: &[&str]| {
        let mut arguments = vec!["logs", "export", "--format", "csv"];
        arguments.extend_from_slice(dates);
        arguments.push(out.to_str().unwrap());
        let output = carematch(dir.path(), &arguments);
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    assert!(export(&[]).contains("exported 2 matches"));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(
        csv.contains(",2001-03-05,") && csv.contains(",2090-"),
        "{csv}"
    );
    assert!(export(&["--since", "2050-01-01"]).contains("exported 1 matches"));
    assert!(export(&["--until", "2050-01-01"]).contains("exported 1 matches"));
    assert!(
        export(&["--since", "2001-01-01", "--until", "2090-12-31"]).contains("exported 2 matches")
    );
}
