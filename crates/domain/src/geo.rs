//! Points on the earth and search radii, valid by construction.

use crate::ValidationError;
use crate::limits::MAX_RADIUS_KM;

/// Mean earth radius used by the haversine formula (IUGG).
const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// A WGS84 point: latitude in [-90, 90], longitude in [-180, 180], both finite.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GeoPoint {
    latitude: f64,
    longitude: f64,
}

impl GeoPoint {
    /// Errors name the field (`latitude` or `longitude`); callers add their prefix.
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, ValidationError> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(ValidationError::new(
                "latitude",
                "must be a number between -90 and 90",
            ));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(ValidationError::new(
                "longitude",
                "must be a number between -180 and 180",
            ));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    pub fn latitude(self) -> f64 {
        self.latitude
    }

    pub fn longitude(self) -> f64 {
        self.longitude
    }

    pub fn distance_km(self, other: GeoPoint) -> f64 {
        haversine_km(
            self.latitude,
            self.longitude,
            other.latitude,
            other.longitude,
        )
    }
}

/// Great-circle distance in kilometres between two points given in degrees.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let delta_phi = (lat2 - lat1).to_radians();
    let delta_lambda = (lon2 - lon1).to_radians();
    let a = (delta_phi / 2.0).sin().powi(2)
        + phi1.cos() * phi2.cos() * (delta_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// A search or service radius in kilometres, in (0, 200].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
pub struct RadiusKm(f64);

impl RadiusKm {
    pub fn new(kilometres: f64) -> Result<Self, ValidationError> {
        if !kilometres.is_finite() || kilometres <= 0.0 || kilometres > MAX_RADIUS_KM {
            return Err(ValidationError::new(
                "",
                format!("must be more than 0 and at most {MAX_RADIUS_KM} km"),
            ));
        }
        Ok(Self(kilometres))
    }

    pub fn kilometres(self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latitude_and_longitude_are_checked_at_their_bounds() {
        assert!(GeoPoint::new(90.0, 180.0).is_ok());
        assert!(GeoPoint::new(-90.0, -180.0).is_ok());
        assert_eq!(GeoPoint::new(90.0001, 0.0).unwrap_err().field, "latitude");
        assert_eq!(GeoPoint::new(-91.0, 0.0).unwrap_err().field, "latitude");
        assert_eq!(GeoPoint::new(0.0, 180.5).unwrap_err().field, "longitude");
        assert_eq!(GeoPoint::new(0.0, -181.0).unwrap_err().field, "longitude");
    }

    #[test]
    fn non_finite_coordinates_are_rejected() {
        assert_eq!(GeoPoint::new(f64::NAN, 0.0).unwrap_err().field, "latitude");
        assert_eq!(
            GeoPoint::new(0.0, f64::INFINITY).unwrap_err().field,
            "longitude"
        );
    }

    #[test]
    fn radius_must_be_positive_and_at_most_200_km() {
        assert!(RadiusKm::new(0.0).is_err());
        assert!(RadiusKm::new(-5.0).is_err());
        assert!(RadiusKm::new(200.01).is_err());
        assert!(RadiusKm::new(f64::NAN).is_err());
        assert_eq!(RadiusKm::new(200.0).unwrap().kilometres(), 200.0);
        assert_eq!(RadiusKm::new(0.1).unwrap().kilometres(), 0.1);
    }

    #[test]
    fn haversine_matches_a_known_distance() {
        // Portland, OR to Seattle, WA is about 233 km great-circle.
        let portland = GeoPoint::new(45.5152, -122.6784).unwrap();
        let seattle = GeoPoint::new(47.6062, -122.3321).unwrap();
        let distance = portland.distance_km(seattle);
        assert!((distance - 233.4).abs() < 1.5, "{distance}");
        assert_eq!(portland.distance_km(portland), 0.0);
    }
}
