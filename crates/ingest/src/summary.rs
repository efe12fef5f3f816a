//! What an import did: counts by outcome, skips by reason, failures by record and field, and
//! the ids of the providers it changed (for the caller to publish to other replicas).

use std::collections::BTreeMap;
use std::fmt;

use carematch_domain::ProviderId;

/// Why a record was deliberately left out. Skips are normal in real files and never make the
/// import fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// No taxonomy code (NPPES) or specialty (FHIR) maps to a care type.
    NoMappedTaxonomy,
    /// NPPES: the NPI is deactivated and not reactivated since.
    Deactivated,
    /// NPPES: the practice location is outside the United States.
    PracticeLocationOutsideUs,
    /// The postal code is well formed but has no centroid in the embedded table (a PO-box-only
    /// or retired code), so the provider cannot be placed on the map.
    PostalCodeWithoutCentroid,
    /// FHIR: the resource says `active: false`.
    Inactive,
    /// FHIR: a resource type the import does not read (Endpoint, OrganizationAffiliation, ...).
    UnsupportedResourceType,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::NoMappedTaxonomy => "no taxonomy mapped to a care type",
            SkipReason::Deactivated => "deactivated npi",
            SkipReason::PracticeLocationOutsideUs => "practice location outside the us",
            SkipReason::PostalCodeWithoutCentroid => "postal code without a centroid",
            SkipReason::Inactive => "inactive",
            SkipReason::UnsupportedResourceType => "resource type not imported",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A record that could not be imported. Nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    /// The line number (CSV, NDJSON) or the resource's position in the file (a Bundle): failures
    /// are reported in this order.
    pub position: u64,
    /// Where: `line 17` for a CSV or NDJSON line, `Practitioner/abc` for a FHIR resource.
    pub record: String,
    /// Which field: an NPPES column name (`NPI`), a FHIR path (`Location/l1.address.postalCode`)
    /// or a provider field.
    pub field: String,
    pub problem: String,
}

impl fmt::Display for RecordFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.record, self.problem)
        } else {
            write!(f, "{}: {}: {}", self.record, self.field, self.problem)
        }
    }
}

/// The outcome of one import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    /// Records read: data rows of a CSV, resources of a FHIR file.
    pub read: u64,
    /// Providers written for the first time.
    pub created: u64,
    /// Existing providers (same NPI, or same FHIR resource) whose data changed.
    pub updated: u64,
    /// Existing providers the file describes exactly as stored: nothing was written.
    pub unchanged: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    /// In file order.
    pub failures: Vec<RecordFailure>,
    /// Providers created or updated, in write order: what other replicas must pick up.
    pub changed_provider_ids: Vec<ProviderId>,
}

impl ImportSummary {
    pub fn imported(&self) -> u64 {
        self.created + self.updated + self.unchanged
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    pub(crate) fn skip(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    pub(crate) fn fail(
        &mut self,
        position: u64,
        record: impl Into<String>,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) {
        self.failures.push(RecordFailure {
            position,
            record: record.into(),
            field: field.into(),
            problem: problem.into(),
        });
    }

    /// Failures counted by field, for the closing summary.
    pub fn failures_by_field(&self) -> BTreeMap<&str, u64> {
        let mut counts = BTreeMap::new();
        for failure in &self.failures {
            *counts.entry(failure.field.as_str()).or_default() += 1;
        }
        counts
    }

    /// The closing lines an operator reads: totals, then skips and failures by reason.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "read {}: imported {} ({} created, {} updated, {} unchanged), skipped {}, failed {}",
            self.read,
            self.imported(),
            self.created,
            self.updated,
            self.unchanged,
            self.skipped_total(),
            self.failures.len()
        );
        for (reason, count) in &self.skipped {
            text.push_str(&format!("\n  skipped {count}: {reason}"));
        }
        for (field, count) in self.failures_by_field() {
            let field = if field.is_empty() {
                "malformed record"
            } else {
                field
            };
            text.push_str(&format!("\n  failed {count}: {field}"));
        }
        text
    }

    pub(crate) fn absorb(&mut self, other: ImportSummary) {
        self.read += other.read;
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        for (reason, count) in other.skipped {
            *self.skipped.entry(reason).or_default() += count;
        }
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|failure| failure.position);
        self.changed_provider_ids.extend(other.changed_provider_ids);
    }
}
