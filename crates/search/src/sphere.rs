//! Points on the earth as 3-D coordinates in kilometres, so the R*-tree's straight-line (chord)
//! distance orders points exactly as the great-circle distance does: a radius query is one
//! sphere query, and nearest-neighbour search needs no projection or seam at the antimeridian.

use carematch_domain::GeoPoint;

/// Mean earth radius (IUGG), the same as `carematch_domain::haversine_km` uses.
pub const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// A point on the sphere. `f32` keeps the tree small; at earth scale its step is about half a
/// metre, and every distance that matters is recomputed exactly with haversine.
pub type SpherePoint = [f32; 3];

pub fn sphere_point(latitude: f64, longitude: f64) -> SpherePoint {
    let (latitude, longitude) = (latitude.to_radians(), longitude.to_radians());
    [
        (EARTH_RADIUS_KM * latitude.cos() * longitude.cos()) as f32,
        (EARTH_RADIUS_KM * latitude.cos() * longitude.sin()) as f32,
        (EARTH_RADIUS_KM * latitude.sin()) as f32,
    ]
}

/// The same point in `f64`, for the query's side of a distance.
pub fn sphere_point_exact(point: GeoPoint) -> [f64; 3] {
    let (latitude, longitude) = (
        point.latitude().to_radians(),
        point.longitude().to_radians(),
    );
    [
        EARTH_RADIUS_KM * latitude.cos() * longitude.cos(),
        EARTH_RADIUS_KM * latitude.cos() * longitude.sin(),
        EARTH_RADIUS_KM * latitude.sin(),
    ]
}

/// Great-circle distance in kilometres from the chord between two points: the same value as
/// haversine, within the `f32` step of the stored point (about half a metre).
pub fn great_circle_km(origin: [f64; 3], point: &SpherePoint) -> f64 {
    let squared: f64 = (0..3)
        .map(|axis| (origin[axis] - f64::from(point[axis])).powi(2))
        .sum();
    let chord = squared.sqrt();
    if chord < 200.0 {
        // Arcsine series: d = c + c^3/(24 R^2) + 3 c^5/(640 R^4); under a millimetre off at
        // 200 km (the largest radius), and several times cheaper than `asin` on the hot path.
        let ratio_squared = squared / (EARTH_RADIUS_KM * EARTH_RADIUS_KM);
        chord * (1.0 + ratio_squared / 24.0 + 3.0 * ratio_squared * ratio_squared / 640.0)
    } else {
        2.0 * EARTH_RADIUS_KM * (chord / (2.0 * EARTH_RADIUS_KM)).min(1.0).asin()
    }
}

pub fn sphere_point_of(point: GeoPoint) -> SpherePoint {
    sphere_point(point.latitude(), point.longitude())
}

/// The squared chord length for a great-circle distance, padded by a few metres so `f32`
/// rounding never drops a point that haversine puts inside the radius.
pub fn squared_chord_for_distance_km(distance_km: f64) -> f32 {
    let half_angle = (distance_km / (2.0 * EARTH_RADIUS_KM)).min(std::f64::consts::FRAC_PI_2);
    let chord = 2.0 * EARTH_RADIUS_KM * half_angle.sin() + 0.005;
    (chord * chord) as f32
}

/// The squared chord length for a great-circle distance, shrunk by the same few metres: every
/// point whose chord is below it is nearer than `distance_km` by haversine.
pub fn squared_chord_inside_distance_km(distance_km: f64) -> f32 {
    let half_angle = (distance_km / (2.0 * EARTH_RADIUS_KM)).min(std::f64::consts::FRAC_PI_2);
    let chord = (2.0 * EARTH_RADIUS_KM * half_angle.sin() - 0.005).max(0.0);
    (chord * chord) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use carematch_domain::haversine_km;

    fn squared_chord(first: SpherePoint, second: SpherePoint) -> f32 {
        (0..3)
            .map(|axis| (first[axis] - second[axis]).powi(2))
            .sum()
    }

    #[test]
    fn chord_bounds_agree_with_haversine_around_a_radius() {
        let origin = (45.5152, -122.6784);
        for (latitude, longitude) in [(45.6, -122.6), (45.3, -123.0), (44.0582, -121.3153)] {
            let distance = haversine_km(origin.0, origin.1, latitude, longitude);
            let chord = squared_chord(
                sphere_point(origin.0, origin.1),
                sphere_point(latitude, longitude),
            );
            assert!(chord <= squared_chord_for_distance_km(distance));
            assert!(chord > squared_chord_for_distance_km(distance * 0.99));
            assert!(chord >= squared_chord_inside_distance_km(distance));
            assert!(chord < squared_chord_inside_distance_km(distance * 1.01));
            let from_chord = great_circle_km(
                sphere_point_exact(GeoPoint::new(origin.0, origin.1).unwrap()),
                &sphere_point(latitude, longitude),
            );
            assert!(
                (from_chord - distance).abs() < 0.002,
                "{from_chord} {distance}"
            );
        }
    }
}
