//! The one error type of the domain: which input field is wrong, and why.

/// A rejected input. `field` is a dotted path from the input's root (`location.latitude`,
/// `locations[2].postalCode`), so the API can point the client at the exact value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    pub field: String,
    pub problem: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Puts `prefix` in front of the field path: `latitude` under `location` becomes
    /// `location.latitude`, and under `locations[2]` becomes `locations[2].latitude`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }

    /// Same as [`within`](Self::within) for the `index`-th element of the list `prefix`.
    pub fn within_item(self, prefix: &str, index: usize) -> Self {
        self.within(&format!("{prefix}[{index}]"))
    }
}

/// Checks that a list input stays under its bound.
pub(crate) fn check_list_len<T>(
    items: &[T],
    field: &str,
    max: usize,
) -> Result<(), ValidationError> {
    if items.len() > max {
        return Err(ValidationError::new(
            field,
            format!("at most {max} items are allowed, got {}", items.len()),
        ));
    }
    Ok(())
}
