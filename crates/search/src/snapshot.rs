//! The catalog saved beside the index, so a restart on a current index reads one file instead
//! of decoding every stored provider (and mapping the whole document store into memory).
//!
//! The file names the tantivy commit (its opstamp) it was taken at. A reopen uses it only when
//! that commit is still the index's last one and the file reads back whole (length and CRC-32
//! checked); anything else (no file, an older commit, a torn or corrupt file, another format)
//! falls back to rebuilding the catalog from the stored providers. Written to a temporary file
//! and renamed, so a crash mid-write leaves the previous file or none.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SearchError;
use crate::catalog::{Catalog, ProviderSlot, ProviderSummary};
use crate::schema::INDEX_FORMAT_VERSION;

const FILE_NAME: &str = "catalog.snapshot";
const MAGIC: &[u8; 8] = b"CMCATSN1";
/// Bump when [`ProviderSummary`] or what is saved here changes shape.
const SNAPSHOT_FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Header {
    format: u32,
    index_format: u32,
    opstamp: u64,
}

/// What the file holds: names as `String` when read, `&str` when written, and summaries
/// likewise owned or borrowed, so saving copies nothing.
#[derive(Serialize, Deserialize)]
struct Contents<Name, Summary> {
    header: Header,
    payers: Vec<Name>,
    plans: Vec<Name>,
    languages: Vec<Name>,
    regions: Vec<Name>,
    summaries: Vec<(ProviderSlot, Summary)>,
}

pub(crate) fn path_in(directory: &Path) -> PathBuf {
    directory.join(FILE_NAME)
}

/// Saves `catalog`, as of the commit `opstamp`, into `directory`.
pub(crate) fn save(directory: &Path, catalog: &Catalog, opstamp: u64) -> Result<(), SearchError> {
    let contents: Contents<&str, &ProviderSummary> = Contents {
        header: Header {
            format: SNAPSHOT_FORMAT,
            index_format: INDEX_FORMAT_VERSION,
            opstamp,
        },
        payers: catalog.payers.names().collect(),
        plans: catalog.plans.names().collect(),
        languages: catalog.languages.names().collect(),
        regions: catalog.regions.names().collect(),
        summaries: catalog.slotted_summaries().collect(),
    };
    let body = postcard::to_stdvec(&contents).map_err(snapshot_error)?;
    let temporary = directory.join(format!("{FILE_NAME}.tmp"));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(MAGIC)?;
    file.write_all(&(body.len() as u64).to_le_bytes())?;
    file.write_all(&crc32fast::hash(&body).to_le_bytes())?;
    file.write_all(&body)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path_in(directory))?;
    Ok(())
}

/// The catalog saved in `directory` at commit `opstamp`, or `None` when there is none that
/// can be trusted for that commit.
pub(crate) fn load(directory: &Path, opstamp: u64) -> Option<Catalog> {
    let bytes = std::fs::read(path_in(directory)).ok()?;
    let body = checked_body(&bytes)?;
    let contents: Contents<String, ProviderSummary> = postcard::from_bytes(body).ok()?;
    let expected = Header {
        format: SNAPSHOT_FORMAT,
        index_format: INDEX_FORMAT_VERSION,
        opstamp,
    };
    if contents.header != expected {
        return None;
    }
    drop(bytes);
    Some(Catalog::from_saved(
        [
            contents.payers,
            contents.plans,
            contents.languages,
            contents.regions,
        ],
        contents.summaries,
    ))
}

/// The body after the magic, length and CRC-32, when all three check out.
fn checked_body(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (length, rest) = rest.split_first_chunk::<8>()?;
    let (crc, body) = rest.split_first_chunk::<4>()?;
    let whole = u64::from_le_bytes(*length) == body.len() as u64;
    (whole && crc32fast::hash(body) == u32::from_le_bytes(*crc)).then_some(body)
}

fn snapshot_error(error: postcard::Error) -> SearchError {
    SearchError::Io(std::io::Error::other(format!("catalog snapshot: {error}")))
}
