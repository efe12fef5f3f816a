//! US 5-digit postal codes to centroid and state, offline.
//!
//! The table `data/postal_codes.tsv` (about 41,000 active codes) is derived from the `zipcodes`
//! crate 3.0.1 (MIT) by `tools/derive_postal_codes.py`; see `data/README.md`. It is compiled
//! into the binary and parsed once, on first use, into a sorted list and a one-degree grid so
//! that both a code lookup and a nearest-centroid lookup take microseconds.

use std::collections::HashMap;
use std::sync::OnceLock;

use carematch_domain::{GeoPoint, PostalCode, PostalDirectory, Region, haversine_km};

const TABLE: &str = include_str!("../../../data/postal_codes.tsv");

/// One postal code's centroid and state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostalEntry {
    pub code: [u8; 5],
    pub state: [u8; 2],
    pub latitude: f64,
    pub longitude: f64,
}

impl PostalEntry {
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or_default()
    }

    pub fn state(&self) -> &str {
        std::str::from_utf8(&self.state).unwrap_or_default()
    }
}

/// The compiled-in postal-code table. Cheap to copy: it refers to one shared parsed table.
#[derive(Debug, Clone, Copy)]
pub struct PostalCodes {
    table: &'static Table,
}

#[derive(Debug)]
struct Table {
    /// Sorted by code.
    entries: Vec<PostalEntry>,
    /// Entry indexes by (floor(latitude), floor(longitude)).
    grid: HashMap<(i32, i32), Vec<u32>>,
}

impl Default for PostalCodes {
    fn default() -> Self {
        Self::embedded()
    }
}

impl PostalCodes {
    /// The embedded table, parsed on first use.
    pub fn embedded() -> Self {
        static TABLE_CELL: OnceLock<Table> = OnceLock::new();
        Self {
            table: TABLE_CELL.get_or_init(|| parse_table(TABLE)),
        }
    }

    pub fn len(&self) -> usize {
        self.table.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.entries.is_empty()
    }

    pub fn entries(&self) -> &'static [PostalEntry] {
        &self.table.entries
    }

    pub fn get(&self, code: &str) -> Option<&'static PostalEntry> {
        let key: [u8; 5] = code.as_bytes().try_into().ok()?;
        let entries = &self.table.entries;
        entries
            .binary_search_by(|entry| entry.code.cmp(&key))
            .ok()
            .map(|index| &entries[index])
    }

    /// The entry whose centroid is nearest to the point, searching outward ring by ring on the
    /// grid; `None` when no centroid lies within about 10 degrees (far outside the US).
    pub fn nearest(&self, latitude: f64, longitude: f64) -> Option<&'static PostalEntry> {
        let cell = (latitude.floor() as i32, longitude.floor() as i32);
        let mut best: Option<(f64, u32)> = None;
        for ring in 0..=10_i32 {
            for d_lat in -ring..=ring {
                for d_lon in -ring..=ring {
                    if d_lat.abs() != ring && d_lon.abs() != ring {
                        continue;
                    }
                    let Some(indexes) = self.table.grid.get(&(cell.0 + d_lat, cell.1 + d_lon))
                    else {
                        continue;
                    };
                    for &index in indexes {
                        let entry = &self.table.entries[index as usize];
                        let distance =
                            haversine_km(latitude, longitude, entry.latitude, entry.longitude);
                        if best.is_none_or(|(best_distance, _)| distance < best_distance) {
                            best = Some((distance, index));
                        }
                    }
                }
            }
            // A centroid found in ring k may still lose to one in ring k+1, never to one farther.
            if let Some((distance, index)) = best {
                let ring_reach_km =
                    f64::from(ring) * 111.0 * latitude.to_radians().cos().abs().max(0.05);
                if distance <= ring_reach_km {
                    return Some(&self.table.entries[index as usize]);
                }
            }
        }
        best.map(|(_, index)| &self.table.entries[index as usize])
    }
}

impl PostalDirectory for PostalCodes {
    fn centroid(&self, postal_code: &PostalCode) -> Option<GeoPoint> {
        let entry = self.get(postal_code.as_str())?;
        GeoPoint::new(entry.latitude, entry.longitude).ok()
    }

    fn region_near(&self, point: GeoPoint) -> Option<Region> {
        let entry = self.nearest(point.latitude(), point.longitude())?;
        Region::parse(entry.state()).ok()
    }
}

fn parse_table(text: &str) -> Table {
    let mut entries: Vec<PostalEntry> = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let code: [u8; 5] = fields.next()?.as_bytes().try_into().ok()?;
            let state: [u8; 2] = fields.next()?.as_bytes().try_into().ok()?;
            let latitude = fields.next()?.parse().ok()?;
            let longitude = fields.next()?.parse().ok()?;
            Some(PostalEntry {
                code,
                state,
                latitude,
                longitude,
            })
        })
        .collect();
    entries.sort_by_key(|entry| entry.code);
    let mut grid: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let cell = (
            entry.latitude.floor() as i32,
            entry.longitude.floor() as i32,
        );
        grid.entry(cell).or_default().push(index as u32);
    }
    Table { entries, grid }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_has_every_state() {
        let postal = PostalCodes::embedded();
        assert!(postal.len() > 40_000, "{}", postal.len());
        let mut states: Vec<&str> = postal.entries().iter().map(PostalEntry::state).collect();
        states.sort_unstable();
        states.dedup();
        for state in ["OR", "WA", "CA", "TX", "NY", "AK", "HI", "DC", "PR"] {
            assert!(states.contains(&state), "{state}");
        }
    }

    #[test]
    fn a_known_code_gives_its_centroid_and_state() {
        let entry = PostalCodes::embedded().get("97205").unwrap();
        assert_eq!(entry.state(), "OR");
        assert!((entry.latitude - 45.52).abs() < 0.05 && (entry.longitude + 122.69).abs() < 0.05);
        assert!(PostalCodes::embedded().get("00000").is_none());
        assert!(PostalCodes::embedded().get("972").is_none());
    }

    #[test]
    fn the_nearest_centroid_gives_the_state_of_a_point() {
        let postal = PostalCodes::embedded();
        let cases = [
            (45.5152, -122.6784, "OR"), // Portland
            (45.6387, -122.6615, "WA"), // Vancouver, across the Columbia river
            (44.6, -119.2, "OR"),       // rural eastern Oregon
            (40.7128, -74.0060, "NY"),
            (61.2181, -149.9003, "AK"),
            (21.3069, -157.8583, "HI"),
        ];
        for (latitude, longitude, state) in cases {
            let point = GeoPoint::new(latitude, longitude).unwrap();
            assert_eq!(
                postal.region_near(point).unwrap().as_str(),
                state,
                "{latitude},{longitude}"
            );
        }
        // Mid-Atlantic ocean: nothing within reach.
        assert!(postal.nearest(30.0, -40.0).is_none());
    }

    #[test]
    fn the_grid_search_agrees_with_a_full_scan() {
        let postal = PostalCodes::embedded();
        for (latitude, longitude) in [
            (45.52, -117.0),
            (39.74, -104.99),
            (29.76, -95.37),
            (47.0, -100.5),
        ] {
            let by_grid = postal.nearest(latitude, longitude).unwrap();
            let by_scan = postal
                .entries()
                .iter()
                .min_by(|a, b| {
                    let da = haversine_km(latitude, longitude, a.latitude, a.longitude);
                    let db = haversine_km(latitude, longitude, b.latitude, b.longitude);
                    da.total_cmp(&db)
                })
                .unwrap();
            assert_eq!(by_grid.code(), by_scan.code());
        }
    }
}
