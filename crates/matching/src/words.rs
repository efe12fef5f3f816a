//! Small helpers that turn numbers and lists into the plain words of reasons and notes.

/// "a", "a and b", "a, b and c".
pub fn join(items: &[&str]) -> String {
    join_with(items, "and")
}

/// "a", "a or b", "a, b or c".
pub fn join_with_or(items: &[&str]) -> String {
    join_with(items, "or")
}

fn join_with(items: &[&str], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// A radius as she gave it: "10 km", "12.5 km".
pub fn kilometres(kilometres: f64) -> String {
    if (kilometres - kilometres.round()).abs() < 0.05 {
        format!("{kilometres:.0} km")
    } else {
        format!("{kilometres:.1} km")
    }
}

/// A distance to a provider: "0.4 km", "3.2 km", "42 km".
pub fn distance(kilometres: f64) -> String {
    if kilometres < 10.0 {
        format!("{kilometres:.1} km")
    } else {
        format!("{kilometres:.0} km")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_a_sentence() {
        assert_eq!(join(&[]), "");
        assert_eq!(join(&["leaking urine"]), "leaking urine");
        assert_eq!(join(&["a", "b"]), "a and b");
        assert_eq!(join(&["a", "b", "c"]), "a, b and c");
        assert_eq!(join_with_or(&["Spanish", "English"]), "Spanish or English");
    }

    #[test]
    fn distances_are_rounded_for_reading() {
        assert_eq!(kilometres(10.0), "10 km");
        assert_eq!(kilometres(12.5), "12.5 km");
        assert_eq!(distance(3.24), "3.2 km");
        assert_eq!(distance(42.4), "42 km");
    }
}
