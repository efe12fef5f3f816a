//! Where demo providers practise: a table of real US metro areas (population-weighted, with a
//! gaussian scatter scaled by metro size) and a rural share placed at real postal-code centroids.

use std::collections::HashMap;
use std::sync::OnceLock;

use carematch_postal::{PostalCodes, PostalEntry};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A metro area: its principal city, centre, state and approximate metro population in
/// thousands (US Census 2020 metropolitan statistical areas, rounded; the largest areas are
/// split where a second city is a market of its own, such as Oakland or Fort Worth).
#[derive(Debug, Clone, Copy)]
pub struct Metro {
    pub city: &'static str,
    pub state: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub population_thousands: u32,
}

const fn metro(
    city: &'static str,
    state: &'static str,
    latitude: f64,
    longitude: f64,
    population_thousands: u32,
) -> Metro {
    Metro {
        city,
        state,
        latitude,
        longitude,
        population_thousands,
    }
}

#[rustfmt::skip]
pub const METROS: &[Metro] = &[
    metro("New York", "NY", 40.7128, -74.0060, 17_500),
    metro("Newark", "NJ", 40.7357, -74.1724, 2_200),
    metro("Los Angeles", "CA", 34.0522, -118.2437, 13_200),
    metro("Chicago", "IL", 41.8781, -87.6298, 9_600),
    metro("Dallas", "TX", 32.7767, -96.7970, 5_000),
    metro("Fort Worth", "TX", 32.7555, -97.3308, 2_600),
    metro("Houston", "TX", 29.7604, -95.3698, 7_100),
    metro("Washington", "DC", 38.9072, -77.0369, 6_400),
    metro("Philadelphia", "PA", 39.9526, -75.1652, 6_200),
    metro("Miami", "FL", 25.7617, -80.1918, 6_100),
    metro("Atlanta", "GA", 33.7490, -84.3880, 6_100),
    metro("Boston", "MA", 42.3601, -71.0589, 4_900),
    metro("Phoenix", "AZ", 33.4484, -112.0740, 4_800),
    metro("San Francisco", "CA", 37.7749, -122.4194, 2_500),
    metro("Oakland", "CA", 37.8044, -122.2712, 2_200),
    metro("San Jose", "CA", 37.3382, -121.8863, 2_000),
    metro("Riverside", "CA", 33.9533, -117.3962, 4_600),
    metro("Detroit", "MI", 42.3314, -83.0458, 4_400),
    metro("Seattle", "WA", 47.6062, -122.3321, 3_100),
    metro("Tacoma", "WA", 47.2529, -122.4443, 900),
    metro("Minneapolis", "MN", 44.9778, -93.2650, 3_700),
    metro("San Diego", "CA", 32.7157, -117.1611, 3_300),
    metro("Tampa", "FL", 27.9506, -82.4572, 3_200),
    metro("Denver", "CO", 39.7392, -104.9903, 2_960),
    metro("Baltimore", "MD", 39.2904, -76.6122, 2_840),
    metro("St. Louis", "MO", 38.6270, -90.1994, 2_820),
    metro("Orlando", "FL", 28.5383, -81.3792, 2_670),
    metro("Charlotte", "NC", 35.2271, -80.8431, 2_660),
    metro("San Antonio", "TX", 29.4241, -98.4936, 2_560),
    metro("Portland", "OR", 45.5152, -122.6784, 2_510),
    metro("Sacramento", "CA", 38.5816, -121.4944, 2_400),
    metro("Pittsburgh", "PA", 40.4406, -79.9959, 2_370),
    metro("Austin", "TX", 30.2672, -97.7431, 2_280),
    metro("Las Vegas", "NV", 36.1699, -115.1398, 2_270),
    metro("Cincinnati", "OH", 39.1031, -84.5120, 2_260),
    metro("Kansas City", "MO", 39.0997, -94.5786, 2_190),
    metro("Columbus", "OH", 39.9612, -82.9988, 2_140),
    metro("Indianapolis", "IN", 39.7684, -86.1581, 2_110),
    metro("Cleveland", "OH", 41.4993, -81.6944, 2_090),
    metro("Nashville", "TN", 36.1627, -86.7816, 1_990),
    metro("Norfolk", "VA", 36.8508, -76.2859, 1_800),
    metro("Providence", "RI", 41.8240, -71.4128, 1_680),
    metro("Jacksonville", "FL", 30.3322, -81.6557, 1_610),
    metro("Milwaukee", "WI", 43.0389, -87.9065, 1_570),
    metro("Oklahoma City", "OK", 35.4676, -97.5164, 1_430),
    metro("Raleigh", "NC", 35.7796, -78.6382, 1_410),
    metro("Memphis", "TN", 35.1495, -90.0490, 1_340),
    metro("Richmond", "VA", 37.5407, -77.4360, 1_310),
    metro("Louisville", "KY", 38.2527, -85.7585, 1_290),
    metro("New Orleans", "LA", 29.9511, -90.0715, 1_270),
    metro("Salt Lake City", "UT", 40.7608, -111.8910, 1_260),
    metro("Hartford", "CT", 41.7658, -72.6734, 1_210),
    metro("Buffalo", "NY", 42.8864, -78.8784, 1_170),
    metro("Birmingham", "AL", 33.5186, -86.8104, 1_120),
    metro("Rochester", "NY", 43.1566, -77.6088, 1_090),
    metro("Grand Rapids", "MI", 42.9634, -85.6681, 1_090),
    metro("Tucson", "AZ", 32.2226, -110.9747, 1_040),
    metro("Tulsa", "OK", 36.1540, -95.9928, 1_020),
    metro("Fresno", "CA", 36.7378, -119.7871, 1_010),
    metro("Honolulu", "HI", 21.3069, -157.8583, 1_000),
    metro("Worcester", "MA", 42.2626, -71.8023, 980),
    metro("Omaha", "NE", 41.2565, -95.9345, 970),
    metro("Greenville", "SC", 34.8526, -82.3940, 930),
    metro("Albuquerque", "NM", 35.0844, -106.6504, 920),
    metro("Albany", "NY", 42.6526, -73.7562, 900),
    metro("Knoxville", "TN", 35.9606, -83.9207, 880),
    metro("Baton Rouge", "LA", 30.4515, -91.1871, 870),
    metro("El Paso", "TX", 31.7619, -106.4850, 870),
    metro("Columbia", "SC", 34.0007, -81.0348, 830),
    metro("Charleston", "SC", 32.7765, -79.9311, 800),
    metro("Boise", "ID", 43.6150, -116.2023, 760),
    metro("Colorado Springs", "CO", 38.8339, -104.8214, 760),
    metro("Little Rock", "AR", 34.7465, -92.2896, 750),
    metro("Des Moines", "IA", 41.5868, -93.6250, 700),
    metro("Madison", "WI", 43.0731, -89.4012, 680),
    metro("Wichita", "KS", 37.6872, -97.3301, 650),
    metro("Spokane", "WA", 47.6588, -117.4260, 590),
    metro("Jackson", "MS", 32.2988, -90.1848, 590),
    metro("Portland", "ME", 43.6591, -70.2568, 550),
    metro("Lexington", "KY", 38.0406, -84.5037, 520),
    metro("Reno", "NV", 39.5296, -119.8138, 490),
    metro("Manchester", "NH", 42.9956, -71.4548, 420),
    metro("Wilmington", "DE", 39.7391, -75.5398, 400),
    metro("Anchorage", "AK", 61.2181, -149.9003, 400),
    metro("Eugene", "OR", 44.0521, -123.0868, 380),
    metro("Sioux Falls", "SD", 43.5446, -96.7311, 280),
    metro("Charleston", "WV", 38.3498, -81.6326, 260),
    metro("Fargo", "ND", 46.8772, -96.7898, 250),
    metro("Burlington", "VT", 44.4759, -73.2121, 230),
    metro("Billings", "MT", 45.7833, -108.5007, 180),
    metro("Cheyenne", "WY", 41.1400, -104.8202, 100),
];

/// Cities across a state line from a metro's principal city, so a provider placed in Vancouver,
/// WA is not listed as "Portland". A crossing not listed gets a made-up town name.
#[rustfmt::skip]
pub const CROSS_STATE_CITIES: &[(&str, &str, &str)] = &[
    ("New York", "NJ", "Jersey City"), ("New York", "CT", "Stamford"),
    ("Newark", "NY", "Staten Island"), ("Chicago", "IN", "Hammond"), ("Chicago", "WI", "Kenosha"),
    ("Washington", "MD", "Silver Spring"), ("Washington", "VA", "Arlington"),
    ("Philadelphia", "NJ", "Cherry Hill"), ("Philadelphia", "DE", "Wilmington"),
    ("Wilmington", "PA", "Chester"), ("Wilmington", "NJ", "Pennsville"), ("Wilmington", "MD", "Elkton"),
    ("Baltimore", "PA", "Hanover"), ("Portland", "WA", "Vancouver"), ("Cincinnati", "KY", "Covington"),
    ("Cincinnati", "IN", "Lawrenceburg"), ("St. Louis", "IL", "Belleville"),
    ("Kansas City", "KS", "Overland Park"), ("Memphis", "AR", "West Memphis"),
    ("Memphis", "MS", "Southaven"), ("Louisville", "IN", "Jeffersonville"),
    ("Omaha", "IA", "Council Bluffs"), ("Providence", "MA", "Attleboro"),
    ("Boston", "NH", "Nashua"), ("Worcester", "RI", "Woonsocket"), ("Worcester", "CT", "Putnam"),
    ("Hartford", "MA", "Springfield"), ("Charlotte", "SC", "Rock Hill"), ("Fargo", "MN", "Moorhead"),
    ("El Paso", "NM", "Sunland Park"), ("Manchester", "MA", "Lowell"), ("Sioux Falls", "IA", "Rock Rapids"),
    ("Charleston", "OH", "Gallipolis"), ("Albany", "VT", "Bennington"), ("Albany", "MA", "Pittsfield"),
    ("Spokane", "ID", "Coeur d'Alene"), ("Las Vegas", "AZ", "Bullhead City"), ("Reno", "CA", "Truckee"),
    ("Cheyenne", "CO", "Fort Collins"), ("Cheyenne", "NE", "Kimball"), ("Norfolk", "NC", "Moyock"),
    ("Buffalo", "PA", "Erie"), ("Detroit", "OH", "Toledo"), ("Burlington", "NY", "Plattsburgh"),
    ("Portland", "NH", "Portsmouth"), ("Grand Rapids", "IN", "Elkhart"), ("Knoxville", "KY", "Middlesboro"),
    ("Columbus", "WV", "Parkersburg"), ("Pittsburgh", "WV", "Wheeling"), ("Pittsburgh", "OH", "East Liverpool"),
    ("Jackson", "LA", "Tallulah"), ("Sioux Falls", "MN", "Pipestone"), ("Providence", "CT", "Killingly"), ("Tulsa", "KS", "Coffeyville"), ("Fort Worth", "OK", "Durant"),
];

/// The city of a location: the metro's own city in its state, a known city across a state line,
/// or a made-up town for rural places and unlisted crossings.
pub fn city_name(place: &Place) -> String {
    let state = place.postal.state();
    match place.origin {
        Origin::Metro(index) => match METROS.get(index) {
            Some(metro) if metro.state == state => metro.city.to_owned(),
            Some(metro) => CROSS_STATE_CITIES
                .iter()
                .find(|(city, other_state, _)| *city == metro.city && *other_state == state)
                .map_or_else(
                    || town_name(place.postal.code()),
                    |(_, _, name)| (*name).to_owned(),
                ),
            None => town_name(place.postal.code()),
        },
        Origin::Rural => town_name(place.postal.code()),
    }
}

/// Share of providers placed outside the metro table, at a random postal code.
pub const RURAL_SHARE: f64 = 0.15;

/// Metro scatter: the farthest a provider lands from the centre, from 25 km for a small metro
/// to 40 km for the largest (`MAX_SCATTER_KM` at 10 million people and above).
const MIN_SCATTER_KM: f64 = 25.0;
const MAX_SCATTER_KM: f64 = 40.0;
/// A scattered point whose nearest postal centroid is farther than this is probably in a lake,
/// a bay or the ocean, so it is drawn again.
const MAX_KM_FROM_A_POSTAL_CENTROID: f64 = 6.0;
const SCATTER_ATTEMPTS: usize = 8;
/// Rural points sit on their postal centroid, moved by at most this much.
pub const RURAL_JITTER_KM: f64 = 1.5;

const KM_PER_DEGREE_LATITUDE: f64 = 111.2;

/// Where a provider was placed, kept for tests and for naming.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Origin {
    /// Index into [`METROS`].
    Metro(usize),
    Rural,
}

/// A placed point with its nearest postal centroid.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub origin: Origin,
    pub latitude: f64,
    pub longitude: f64,
    pub postal: &'static PostalEntry,
}

impl Metro {
    /// How far providers scatter from this metro's centre.
    pub fn scatter_km(&self) -> f64 {
        let size = (f64::from(self.population_thousands) / 10_000.0).min(1.0);
        MIN_SCATTER_KM + (MAX_SCATTER_KM - MIN_SCATTER_KM) * size.sqrt()
    }
}

/// Cumulative metro populations, for a population-weighted choice by binary search.
fn cumulative_population() -> &'static [u64] {
    static CUMULATIVE: OnceLock<Vec<u64>> = OnceLock::new();
    CUMULATIVE.get_or_init(|| {
        let mut total = 0_u64;
        METROS
            .iter()
            .map(|metro| {
                total += u64::from(metro.population_thousands);
                total
            })
            .collect()
    })
}

/// Postal codes of the 50 states and DC: territories and military codes are left out so that
/// every rural provider has a state with a payer table.
fn rural_candidates(postal: PostalCodes) -> &'static [u32] {
    static CANDIDATES: OnceLock<Vec<u32>> = OnceLock::new();
    CANDIDATES.get_or_init(|| {
        postal
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, entry)| crate::payers::state(entry.state()).is_some())
            .map(|(index, _)| index as u32)
            .collect()
    })
}

pub fn choose_metro(rng: &mut ChaCha8Rng) -> usize {
    let cumulative = cumulative_population();
    let total = cumulative.last().copied().unwrap_or(1);
    let ticket = rng.random_range(0..total);
    cumulative.partition_point(|&bound| bound <= ticket)
}

/// A standard normal draw (Box-Muller); rand 0.9 without rand_distr has none.
pub fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let uniform: f64 = 1.0 - rng.random::<f64>(); // in (0, 1], so ln is finite
    let angle: f64 = rng.random::<f64>() * std::f64::consts::TAU;
    (-2.0 * uniform.ln()).sqrt() * angle.cos()
}

/// Moves a point by the given kilometres north and east.
pub fn offset(latitude: f64, longitude: f64, north_km: f64, east_km: f64) -> (f64, f64) {
    let new_latitude = latitude + north_km / KM_PER_DEGREE_LATITUDE;
    let km_per_degree_longitude = KM_PER_DEGREE_LATITUDE * latitude.to_radians().cos().max(0.01);
    let new_longitude = longitude + east_km / km_per_degree_longitude;
    (
        new_latitude.clamp(-90.0, 90.0),
        new_longitude.clamp(-180.0, 180.0),
    )
}

/// Places one provider: a metro by population, or (with [`RURAL_SHARE`]) a postal code.
/// `None` only if the postal table cannot place a point, which the tests rule out.
pub fn place(rng: &mut ChaCha8Rng, postal: PostalCodes) -> Option<Place> {
    if rng.random_bool(RURAL_SHARE) {
        place_rural(rng, postal)
    } else {
        let metro_index = choose_metro(rng);
        place_in_metro(rng, postal, metro_index)
    }
}

pub fn place_in_metro(rng: &mut ChaCha8Rng, postal: PostalCodes, index: usize) -> Option<Place> {
    let metro = METROS.get(index)?;
    let scatter_km = metro.scatter_km();
    // Two standard deviations reach the scatter radius; the tail is cut there.
    let sigma_km = scatter_km / 2.0;
    for _ in 0..SCATTER_ATTEMPTS {
        let north_km = (standard_normal(rng) * sigma_km).clamp(-scatter_km, scatter_km);
        let east_km = (standard_normal(rng) * sigma_km).clamp(-scatter_km, scatter_km);
        let (latitude, longitude) = offset(metro.latitude, metro.longitude, north_km, east_km);
        let Some(entry) = nearest(postal, latitude, longitude) else {
            continue;
        };
        let distance =
            carematch_domain::haversine_km(latitude, longitude, entry.latitude, entry.longitude);
        if distance <= MAX_KM_FROM_A_POSTAL_CENTROID {
            return Some(Place {
                origin: Origin::Metro(index),
                latitude,
                longitude,
                postal: entry,
            });
        }
    }
    // Still on water after every attempt: use the centre, which is on land.
    Some(Place {
        origin: Origin::Metro(index),
        latitude: metro.latitude,
        longitude: metro.longitude,
        postal: nearest(postal, metro.latitude, metro.longitude)?,
    })
}

pub fn place_rural(rng: &mut ChaCha8Rng, postal: PostalCodes) -> Option<Place> {
    let candidates = rural_candidates(postal);
    if candidates.is_empty() {
        return None;
    }
    let chosen = &postal.entries()[candidates[rng.random_range(0..candidates.len())] as usize];
    let jitter_km = rng.random::<f64>() * RURAL_JITTER_KM;
    let angle = rng.random::<f64>() * std::f64::consts::TAU;
    let (latitude, longitude) = offset(
        chosen.latitude,
        chosen.longitude,
        jitter_km * angle.sin(),
        jitter_km * angle.cos(),
    );
    // The nearest centroid gives the postal code and state; after a small jitter it is almost
    // always the chosen one.
    let entry = nearest(postal, latitude, longitude).unwrap_or(chosen);
    Some(Place {
        origin: Origin::Rural,
        latitude,
        longitude,
        postal: entry,
    })
}

/// Grid cells per degree of the demo's own nearest-centroid index. `PostalCodes::nearest` uses
/// one-degree cells and a haversine per candidate, which in a dense metro means a thousand
/// trigonometric distances per lookup; a finer grid with a flat-earth distance (exact enough
/// over the few kilometres between neighbouring centroids, not across hundreds of empty ones) is
/// about twenty times faster, and the tests check that it agrees with `PostalCodes::nearest`.
const CELLS_PER_DEGREE: f64 = 10.0;
const MAX_RINGS: i32 = 50;

struct NearestIndex {
    cells: HashMap<(i32, i32), Vec<u32>>,
}

fn cell_of(latitude: f64, longitude: f64) -> (i32, i32) {
    (
        (latitude * CELLS_PER_DEGREE).floor() as i32,
        (longitude * CELLS_PER_DEGREE).floor() as i32,
    )
}

fn nearest_index(postal: PostalCodes) -> &'static NearestIndex {
    static INDEX: OnceLock<NearestIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut cells: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        for (index, entry) in postal.entries().iter().enumerate() {
            cells
                .entry(cell_of(entry.latitude, entry.longitude))
                .or_default()
                .push(index as u32);
        }
        NearestIndex { cells }
    })
}

/// The postal entry whose centroid is nearest to the point (as `PostalCodes::nearest`, faster).
pub fn nearest(postal: PostalCodes, latitude: f64, longitude: f64) -> Option<&'static PostalEntry> {
    let index = nearest_index(postal);
    let entries = postal.entries();
    let centre = cell_of(latitude, longitude);
    // Longitude degrees shrink with latitude; one scale for the whole neighbourhood suffices.
    let longitude_scale = latitude.to_radians().cos().abs().max(0.05);
    let mut best: Option<(f64, u32)> = None;
    for ring in 0..=MAX_RINGS {
        for d_lat in -ring..=ring {
            let edge_row = d_lat.abs() == ring;
            let step = if edge_row { 1 } else { 2 * ring.max(1) };
            let mut d_lon = -ring;
            while d_lon <= ring {
                if let Some(candidates) = index.cells.get(&(centre.0 + d_lat, centre.1 + d_lon)) {
                    for &candidate in candidates {
                        let entry = &entries[candidate as usize];
                        let north = entry.latitude - latitude;
                        let east = (entry.longitude - longitude) * longitude_scale;
                        let distance_squared = north * north + east * east;
                        if best.is_none_or(|(best_distance, _)| distance_squared < best_distance) {
                            best = Some((distance_squared, candidate));
                        }
                    }
                }
                d_lon += step;
            }
        }
        // Every centroid not yet seen lies at least `ring` cells away in latitude or in
        // (scaled) longitude.
        if let Some((distance_squared, candidate)) = best {
            let reach = f64::from(ring) / CELLS_PER_DEGREE * longitude_scale;
            if distance_squared <= reach * reach {
                return Some(&entries[candidate as usize]);
            }
        }
    }
    postal.nearest(latitude, longitude)
}

const TOWN_STARTS: &[&str] = &[
    "Cedar", "Maple", "Oak", "Pine", "Willow", "Spring", "Fair", "Green", "Clear", "Red", "Stone",
    "Elk", "Bear", "Rock", "Silver", "Mill", "Lake", "River", "Clay", "Ash", "Prairie", "Eagle",
    "Walnut", "Hazel", "Cotton", "Sandy", "Pleasant", "Beaver", "Fox", "Deer",
];
const TOWN_ENDS: &[&str] = &[
    "ville",
    " Falls",
    " Springs",
    "field",
    " Creek",
    "wood",
    " Grove",
    "ton",
    " Hill",
    " Junction",
    " Valley",
    "dale",
    "burg",
    " Ridge",
    " Point",
    " Center",
    " City",
    "port",
];

/// A plausible town name for a rural postal code (the postal table has no city names). It
/// depends only on the code, so every provider in one postal code names the same town.
pub fn town_name(postal_code: &str) -> String {
    let number: usize = postal_code.parse().unwrap_or(0);
    let start = TOWN_STARTS[number % TOWN_STARTS.len()];
    let end = TOWN_ENDS[(number / TOWN_STARTS.len()) % TOWN_ENDS.len()];
    format!("{start}{end}")
}
