//! The NPPES NPI registry's monthly full file (`npidata_pfile_YYYYMMDD-YYYYMMDD.csv`, about
//! 330 quoted columns and 9 million rows), streamed: a reader thread parses rows into drafts
//! and hands batches through a channel of two to the async writer, so memory stays bounded by
//! a few batches whatever the file's size, and parsing overlaps writing.
//!
//! Only the columns below are read, found by header name (CMS adds columns now and then):
//! `NPI`, `Entity Type Code`, the legal name columns, `Provider Credential Text`, the business
//! practice location (first line, city, state, postal code, country), `NPI Deactivation Date`,
//! `NPI Reactivation Date`, and `Healthcare Provider Taxonomy Code_1`..`_15` with
//! `Provider License Number_1`..`_15` and `Provider License Number State Code_1`..`_15`.
//!
//! A row becomes a provider when one of its taxonomy codes maps to a care type
//! ([`crate::taxonomy`]). It is skipped when its NPI is deactivated (a deactivation date and no
//! later reactivation), when no code maps, when the practice location is outside the US, or when
//! its postal code has no centroid; it fails (reported by line and column) when its NPI's check
//! digit is wrong or a field it needs is missing or malformed. A provider gets:
//!
//! - name: individuals `First Last, Credential`, organisations (a clinic, a birthing center, a
//!   midwifery practice group: care-guide.md section 7, 2nd edition) their legal business name
//!   (upper-case text is title-cased);
//! - care types: the mapped taxonomy codes; modes IN_PERSON, plus HOME_VISIT for doulas (who
//!   visit mothers at home);
//! - one location: the practice address, ZIP+4 cut to 5 digits, at the postal-code centroid;
//! - licensed regions: the licence states of its mapped taxonomies (for telehealth);
//! - an individual's credential text (`PT, DPT`), split at commas, as self-reported
//!   certifications (`PT`, `DPT`) of general scope; their care type is left to the care guide's
//!   table (care-guide.md section 4), since the text is not tied to a taxonomy. NPPES says
//!   nothing of perinatal training, so perinatal certifications come from a directory or an
//!   admin (or the table, for a credential it knows as perinatal, such as IBCLC);
//! - each licence number on a mapped taxonomy row as a self-reported general certification of
//!   that taxonomy's care type (`Physical Therapist license LIC123`, issued in its state): a
//!   licence belongs to the care its taxonomy names, so a clinic's physical-therapy licence
//!   earns nothing for its massage room, and an organisation's licences rank it as general;
//! - accepting new clients: yes, since NPPES does not say, and a provider marked as not
//!   accepting is never retrieved. Telephone numbers have no field in the domain and are not
//!   read.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use carematch_domain::{
    CareMode, CareType, CertificationDraft, CertificationScope, LocationDraft, Npi, PostalCode,
    ProviderDraft, Region,
};
use carematch_postal::PostalCodes;
use carematch_store::Store;
use tokio::sync::mpsc;

use crate::summary::ImportSummary;
use crate::taxonomy::{care_type_of_taxonomy, taxonomy_name};
use crate::text::title_case_if_shouting;
use crate::write::{BatchWriter, Candidate, Source};
use crate::{IngestError, Progress, SkipReason};

/// The domain's limits on a certification list and a certification's name.
const MAX_CERTIFICATIONS: usize = carematch_domain::limits::MAX_CERTIFICATIONS;
const MAX_SHORT_TEXT_CHARS: usize = carematch_domain::limits::MAX_SHORT_TEXT_CHARS;

/// The number of taxonomy slots in an NPPES row.
pub const TAXONOMY_SLOTS: usize = 15;

const NPI: &str = "NPI";
const ENTITY_TYPE: &str = "Entity Type Code";
const ORGANIZATION_NAME: &str = "Provider Organization Name (Legal Business Name)";
const LAST_NAME: &str = "Provider Last Name (Legal Name)";
const FIRST_NAME: &str = "Provider First Name";
const CREDENTIAL: &str = "Provider Credential Text";
const ADDRESS: &str = "Provider First Line Business Practice Location Address";
const CITY: &str = "Provider Business Practice Location Address City Name";
const STATE: &str = "Provider Business Practice Location Address State Name";
const POSTAL_CODE: &str = "Provider Business Practice Location Address Postal Code";
const COUNTRY: &str = "Provider Business Practice Location Address Country Code (If outside U.S.)";
const DEACTIVATION_DATE: &str = "NPI Deactivation Date";
const REACTIVATION_DATE: &str = "NPI Reactivation Date";

/// Words kept upper case when an organisation's name is title-cased.
const ORGANIZATION_ACRONYMS: &[&str] = &[
    "LLC", "PLLC", "PC", "PA", "LLP", "LP", "INC", "PT", "DPT", "OB", "GYN", "OBGYN", "USA", "US",
    "MD", "DO", "CNM", "LMT", "IBCLC", "II", "III", "IV",
];

/// How an NPPES import runs.
#[derive(Debug, Clone, Copy)]
pub struct NppesOptions {
    /// Rows per write transaction.
    pub batch_size: usize,
}

impl Default for NppesOptions {
    fn default() -> Self {
        Self {
            batch_size: crate::DEFAULT_BATCH_SIZE,
        }
    }
}

/// Imports an NPPES CSV file. See the module documentation for what is kept and how.
pub async fn import_nppes_file(
    store: &Store,
    path: &Path,
    progress: Arc<dyn Progress>,
    options: NppesOptions,
) -> Result<ImportSummary, IngestError> {
    let open_error = |source| IngestError::Open {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(open_error)?;
    let size = file.metadata().map_err(open_error)?.len();
    progress.start(size);
    let summary = import_nppes(store, file, progress.clone(), options).await;
    progress.finish();
    summary
}

/// Imports NPPES CSV from any reader (the file, or test data in memory).
pub async fn import_nppes<R: Read + Send + 'static>(
    store: &Store,
    reader: R,
    progress: Arc<dyn Progress>,
    options: NppesOptions,
) -> Result<ImportSummary, IngestError> {
    let batch_size = options.batch_size.max(1);
    let (sender, mut receiver) = mpsc::channel::<Vec<Candidate>>(2);
    let parser = tokio::task::spawn_blocking(move || {
        parse_rows(reader, batch_size, sender, progress.as_ref())
    });
    let mut writer = BatchWriter::new(store);
    let mut write_error = None;
    while let Some(batch) = receiver.recv().await {
        if let Err(error) = writer.write(batch).await {
            write_error = Some(error);
            break;
        }
    }
    // Dropping the receiver makes the parser's next send fail, so it stops early after a
    // write error instead of reading the rest of the file.
    drop(receiver);
    let parsed = parser.await.map_err(|_| IngestError::ReaderStopped);
    if let Some(error) = write_error {
        return Err(error);
    }
    let mut summary = parsed??;
    summary.absorb(writer.summary);
    Ok(summary)
}

/// Where each needed column sits in the header.
struct Columns {
    npi: usize,
    entity_type: usize,
    organization_name: usize,
    last_name: usize,
    first_name: usize,
    credential: usize,
    address: usize,
    city: usize,
    state: usize,
    postal_code: usize,
    /// Absent from some older extracts; a missing country means a US address.
    country: Option<usize>,
    deactivation_date: usize,
    reactivation_date: usize,
    taxonomy_codes: Vec<usize>,
    /// Absent from some extracts: then no licence certification is made.
    license_numbers: Vec<Option<usize>>,
    license_states: Vec<Option<usize>>,
}

impl Columns {
    fn find(header: &csv::ByteRecord) -> Result<Columns, IngestError> {
        let position = |name: &str| header.iter().position(|column| column == name.as_bytes());
        let required =
            |name: &str| position(name).ok_or_else(|| IngestError::MissingColumn(name.to_owned()));
        let mut taxonomy_codes = Vec::with_capacity(TAXONOMY_SLOTS);
        let mut license_numbers = Vec::with_capacity(TAXONOMY_SLOTS);
        let mut license_states = Vec::with_capacity(TAXONOMY_SLOTS);
        for slot in 1..=TAXONOMY_SLOTS {
            taxonomy_codes.push(required(&format!(
                "Healthcare Provider Taxonomy Code_{slot}"
            ))?);
            license_numbers.push(position(&format!("Provider License Number_{slot}")));
            license_states.push(position(&format!(
                "Provider License Number State Code_{slot}"
            )));
        }
        Ok(Columns {
            npi: required(NPI)?,
            entity_type: required(ENTITY_TYPE)?,
            organization_name: required(ORGANIZATION_NAME)?,
            last_name: required(LAST_NAME)?,
            first_name: required(FIRST_NAME)?,
            credential: required(CREDENTIAL)?,
            address: required(ADDRESS)?,
            city: required(CITY)?,
            state: required(STATE)?,
            postal_code: required(POSTAL_CODE)?,
            country: position(COUNTRY),
            deactivation_date: required(DEACTIVATION_DATE)?,
            reactivation_date: required(REACTIVATION_DATE)?,
            taxonomy_codes,
            license_numbers,
            license_states,
        })
    }
}

/// The reader thread: parses every row, sends candidates in batches, and returns the counts of
/// what it read, skipped and could not parse.
fn parse_rows<R: Read>(
    reader: R,
    batch_size: usize,
    sender: mpsc::Sender<Vec<Candidate>>,
    progress: &dyn Progress,
) -> Result<ImportSummary, IngestError> {
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .buffer_capacity(1 << 20)
        .from_reader(reader);
    let header = csv_reader
        .byte_headers()
        .map_err(|error| csv_error_to_ingest(error, 1))?
        .clone();
    let columns = Columns::find(&header)?;
    let postal_codes = PostalCodes::embedded();
    let mut summary = ImportSummary::default();
    let mut batch: Vec<Candidate> = Vec::with_capacity(batch_size);
    let mut record = csv::ByteRecord::new();
    loop {
        let line = csv_reader.position().line();
        match csv_reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                summary.read += 1;
                let line = record.position().map_or(line, csv::Position::line);
                match parse_row(&record, &columns, postal_codes) {
                    Ok(Row::Provider(draft)) => {
                        let npi = draft.npi.as_deref().and_then(|npi| Npi::parse(npi).ok());
                        batch.push(Candidate {
                            position: line,
                            record: format!("line {line}"),
                            npi,
                            stable_id: None,
                            draft: *draft,
                            source: Source::Nppes,
                        });
                    }
                    Ok(Row::Skipped(reason)) => summary.skip(reason),
                    Err(RowError { column, problem }) => {
                        summary.fail(line, format!("line {line}"), column, problem);
                    }
                }
            }
            Err(error) => {
                // A row with the wrong number of fields or bad quoting is one bad row; an I/O
                // error means the file itself cannot be read on.
                let line = error.position().map_or(line, csv::Position::line);
                if matches!(error.kind(), csv::ErrorKind::Io(_)) {
                    return Err(csv_error_to_ingest(error, line));
                }
                summary.read += 1;
                summary.fail(line, format!("line {line}"), "", csv_problem(&error));
            }
        }
        if batch.len() >= batch_size {
            progress.advance_to(csv_reader.position().byte());
            let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            if sender.blocking_send(full).is_err() {
                // The writer stopped (it failed and reports why).
                return Ok(summary);
            }
        }
    }
    progress.advance_to(csv_reader.position().byte());
    if !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    Ok(summary)
}

fn csv_error_to_ingest(error: csv::Error, line: u64) -> IngestError {
    match error.into_kind() {
        csv::ErrorKind::Io(source) => IngestError::Read { line, source },
        other => IngestError::Read {
            line,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{other:?}")),
        },
    }
}

fn csv_problem(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields, the header {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_owned(),
        _ => format!("unreadable row: {error}"),
    }
}

enum Row {
    Provider(Box<ProviderDraft>),
    Skipped(SkipReason),
}

struct RowError {
    column: String,
    problem: String,
}

impl RowError {
    fn new(column: &str, problem: impl Into<String>) -> Self {
        Self {
            column: column.to_owned(),
            problem: problem.into(),
        }
    }
}

/// A field as text without surrounding spaces; the registry is ASCII, and anything else is
/// kept with replacement characters rather than failing the row.
fn field(record: &csv::ByteRecord, index: usize) -> String {
    let bytes = record.get(index).unwrap_or_default();
    String::from_utf8_lossy(bytes).trim().to_owned()
}

fn parse_row(
    record: &csv::ByteRecord,
    columns: &Columns,
    postal_codes: PostalCodes,
) -> Result<Row, RowError> {
    if is_deactivated(
        &field(record, columns.deactivation_date),
        &field(record, columns.reactivation_date),
    )? {
        return Ok(Row::Skipped(SkipReason::Deactivated));
    }

    let mut care_types: Vec<CareType> = Vec::new();
    let mut licensed_regions: Vec<String> = Vec::new();
    let mut licences: Vec<CertificationDraft> = Vec::new();
    for (slot, &code_column) in columns.taxonomy_codes.iter().enumerate() {
        let code = field(record, code_column);
        let Some(care_type) = care_type_of_taxonomy(&code) else {
            continue;
        };
        if !care_types.contains(&care_type) {
            care_types.push(care_type);
        }
        // A licence state that is no US state code (blank, or a foreign value) is not a
        // reason to drop the provider: it only gives no licensed region.
        let region = columns.license_states[slot]
            .and_then(|state_column| Region::parse(&field(record, state_column)).ok());
        if let Some(region) = &region
            && !licensed_regions
                .iter()
                .any(|known| known == region.as_str())
        {
            licensed_regions.push(region.as_str().to_owned());
        }
        let number = columns.license_numbers[slot]
            .map(|number_column| field(record, number_column))
            .unwrap_or_default();
        if let Some(licence) = licence_certification(&code, care_type, &number, region.as_ref())
            && !licences.contains(&licence)
        {
            licences.push(licence);
        }
    }
    if care_types.is_empty() {
        return Ok(Row::Skipped(SkipReason::NoMappedTaxonomy));
    }

    let npi = Npi::parse(&field(record, columns.npi))
        .map_err(|error| RowError::new(NPI, error.problem))?;

    let (name, mut certifications) = match field(record, columns.entity_type).as_str() {
        "1" => individual_name(record, columns)?,
        "2" => {
            let name = field(record, columns.organization_name);
            if name.is_empty() {
                return Err(RowError::new(ORGANIZATION_NAME, "is empty"));
            }
            (
                title_case_if_shouting(&name, ORGANIZATION_ACRONYMS),
                Vec::new(),
            )
        }
        "" => return Err(RowError::new(ENTITY_TYPE, "is empty")),
        other => {
            return Err(RowError::new(
                ENTITY_TYPE,
                format!("`{other}` is neither 1 (individual) nor 2 (organization)"),
            ));
        }
    };

    if let Some(country_column) = columns.country {
        let country = field(record, country_column);
        if !country.is_empty() && !country.eq_ignore_ascii_case("US") {
            return Ok(Row::Skipped(SkipReason::PracticeLocationOutsideUs));
        }
    }
    let postal_text = field(record, columns.postal_code);
    if postal_text.is_empty() {
        return Err(RowError::new(POSTAL_CODE, "is empty"));
    }
    let postal_code = PostalCode::parse_truncating_plus_four(&postal_text).map_err(|_| {
        RowError::new(
            POSTAL_CODE,
            format!("`{postal_text}` is not a 5-digit or ZIP+4 postal code"),
        )
    })?;
    let Some(centroid) = postal_codes.get(postal_code.as_str()) else {
        return Ok(Row::Skipped(SkipReason::PostalCodeWithoutCentroid));
    };
    let state = field(record, columns.state);
    let region = if state.is_empty() {
        centroid.state().to_owned()
    } else {
        Region::parse(&state)
            .map_err(|_| RowError::new(STATE, format!("`{state}` is not a two-letter state code")))?
            .as_str()
            .to_owned()
    };
    let address = field(record, columns.address);
    let city = field(record, columns.city);

    certifications.extend(licences);
    certifications.truncate(MAX_CERTIFICATIONS);

    let mut modes = vec![CareMode::InPerson];
    if care_types.contains(&CareType::Doula) {
        modes.push(CareMode::HomeVisit);
    }
    licensed_regions.retain(|licensed| *licensed != region);

    Ok(Row::Provider(Box::new(ProviderDraft {
        id: None,
        npi: Some(npi.as_str().to_owned()),
        name,
        care_types,
        certifications,
        treats: Vec::new(),
        locations: vec![LocationDraft {
            latitude: centroid.latitude,
            longitude: centroid.longitude,
            address: (!address.is_empty()).then(|| title_case_if_shouting(&address, &[])),
            city: (!city.is_empty()).then(|| title_case_if_shouting(&city, &[])),
            region: Some(region),
            postal_code: Some(postal_code.as_str().to_owned()),
        }],
        modes,
        languages: Vec::new(),
        accepting_new_clients: true,
        insurance: Vec::new(),
        accepts_fsa_hsa: false,
        provides_superbill: false,
        requires_referral: false,
        self_pay_rate_usd: None,
        bio: None,
        licensed_regions,
        home_visit_radius_km: None,
    })))
}

/// A licence number on a mapped taxonomy row, as a general, self-reported certification of
/// that taxonomy's care type (NPPES records the number the provider gives; it checks none).
fn licence_certification(
    code: &str,
    care_type: CareType,
    number: &str,
    region: Option<&Region>,
) -> Option<CertificationDraft> {
    if number.is_empty() {
        return None;
    }
    let taxonomy = taxonomy_name(code).unwrap_or("State");
    let name: String = format!("{taxonomy} license {number}")
        .chars()
        .take(MAX_SHORT_TEXT_CHARS)
        .collect();
    Some(CertificationDraft {
        name,
        issuer: region.map(|region| format!("{} licensing board", region.as_str())),
        scope: CertificationScope::General,
        verified: false,
        care_type: Some(care_type),
    })
}

/// `First Last, Credential` and each credential of the text as a general, self-reported
/// certification.
fn individual_name(
    record: &csv::ByteRecord,
    columns: &Columns,
) -> Result<(String, Vec<CertificationDraft>), RowError> {
    let last = field(record, columns.last_name);
    if last.is_empty() {
        return Err(RowError::new(LAST_NAME, "is empty"));
    }
    let first = field(record, columns.first_name);
    let credential = field(record, columns.credential);
    let mut name = title_case_if_shouting(&format!("{first} {last}"), &["II", "III", "IV"]);
    let mut certifications = Vec::new();
    if !credential.is_empty() {
        name.push_str(", ");
        name.push_str(&credential);
        for part in credential
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let certification = CertificationDraft {
                name: part.chars().take(MAX_SHORT_TEXT_CHARS).collect(),
                issuer: None,
                scope: CertificationScope::General,
                verified: false,
                care_type: None,
            };
            if !certifications.contains(&certification) {
                certifications.push(certification);
            }
        }
    }
    Ok((name, certifications))
}

/// Deactivated means a deactivation date and no reactivation on or after it.
fn is_deactivated(deactivation: &str, reactivation: &str) -> Result<bool, RowError> {
    if deactivation.is_empty() {
        return Ok(false);
    }
    let deactivated_on = parse_date(deactivation).ok_or_else(|| {
        RowError::new(
            DEACTIVATION_DATE,
            format!("`{deactivation}` is not MM/DD/YYYY"),
        )
    })?;
    if reactivation.is_empty() {
        return Ok(true);
    }
    let reactivated_on = parse_date(reactivation).ok_or_else(|| {
        RowError::new(
            REACTIVATION_DATE,
            format!("`{reactivation}` is not MM/DD/YYYY"),
        )
    })?;
    Ok(reactivated_on < deactivated_on)
}

/// NPPES dates are `MM/DD/YYYY`; returns `(year, month, day)` for comparing.
fn parse_date(text: &str) -> Option<(u16, u8, u8)> {
    let mut parts = text.split('/');
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let year: u16 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some((year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reactivation_on_or_after_the_deactivation_makes_the_npi_active_again() {
        assert!(!is_deactivated("", "").ok().unwrap_or(true));
        assert!(is_deactivated("05/01/2020", "").ok().unwrap_or(false));
        assert!(
            !is_deactivated("05/01/2020", "06/15/2021")
                .ok()
                .unwrap_or(true)
        );
        assert!(
            !is_deactivated("05/01/2020", "05/01/2020")
                .ok()
                .unwrap_or(true)
        );
        assert!(
            is_deactivated("05/01/2020", "04/30/2019")
                .ok()
                .unwrap_or(false)
        );
        let error = is_deactivated("2020-05-01", "")
            .err()
            .map(|error| error.column);
        assert_eq!(error.as_deref(), Some(DEACTIVATION_DATE));
    }
}
