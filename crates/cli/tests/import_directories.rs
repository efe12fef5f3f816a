//! `carematch import nppes` and `carematch import fhir` as operators run them: the summary on
//! stdout, failures by line or resource on stderr, the exit code (non-zero only when a record
//! failed), no progress bar when stderr is not a terminal, and a re-run that changes nothing.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
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

fn ingest_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../ingest/tests/data")
        .join(name)
}

#[test]
fn import_nppes_prints_the_summary_reports_failed_rows_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = ingest_fixture("npidata_pfile_fixture.csv");
    let output = carematch(dir.path(), &["import", "nppes", file.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "read 41: imported 30 (30 created, 0 updated, 0 unchanged), skipped 6, failed 5"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("skipped 2: deactivated npi"), "{stdout}");
    assert!(stdout.contains("failed 2: NPI"), "{stdout}");
    assert!(
        stderr.contains("line 35: NPI: check digit does not match"),
        "{stderr}"
    );
    // No progress bar escapes into a non-terminal stderr.
    assert!(!stderr.contains('\u{1b}'), "{stderr}");

    let again = carematch(dir.path(), &["import", "nppes", file.to_str().unwrap()]);
    assert!(
        text(&again.stdout).contains("imported 30 (0 created, 0 updated, 30 unchanged)"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn import_nppes_of_a_clean_file_exits_zero_even_with_skipped_rows() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(ingest_fixture("npidata_pfile_fixture.csv")).unwrap();
    // Keep the header and the first 34 rows: imported and skipped rows, none failing.
    let clean: String = fixture
        .lines()
        .take(34)
        .map(|line| format!("{line}\n"))
        .collect();
    let file = dir.path().join("clean.csv");
    std::fs::write(&file, clean).unwrap();
    let output = carematch(dir.path(), &["import", "nppes", file.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("skipped 4, failed 0"), "{stdout}");
}

#[test]
fn import_fhir_reads_a_bundle_and_reports_failed_resources_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let file = ingest_fixture("plannet_bundle.json");
    let output = carematch(dir.path(), &["import", "fhir", file.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "read 28: imported 3 (3 created, 0 updated, 0 unchanged), skipped 3, failed 4"
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "Practitioner/ghost-office: PractitionerRole/role-ghost.location[0]: Location/nowhere is not in the file"
        ),
        "{stderr}"
    );
}

#[test]
fn import_of_a_missing_or_foreign_file_fails_with_a_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let missing = carematch(dir.path(), &["import", "nppes", "no-such-file.csv"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("cannot read no-such-file.csv"),
        "{}",
        text(&missing.stderr)
    );

    let not_nppes = dir.path().join("other.csv");
    std::fs::write(&not_nppes, "a,b\n1,2\n").unwrap();
    let output = carematch(
        dir.path(),
        &["import", "nppes", not_nppes.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("has no column"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let output = carematch(dir.path(), &["import", "fhir", not_nppes.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("not a FHIR Bundle"),
        "{}",
        text(&output.stderr)
    );
}
