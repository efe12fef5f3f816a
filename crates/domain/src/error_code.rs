//! The public error codes: every `extensions.code` a client can read, in one table with the HTTP
//! statuses it comes with and what it means. Each crate's error type names its code through
//! [`HasErrorCode`]; the API writes the code's string on the wire, and a test holds
//! `docs/api.md`'s error table to this one.
//!
//! It lives in `domain` because every crate that has errors depends on it, and it needs no I/O:
//! a status is a number here, not an HTTP type.

use std::fmt;
use std::str::FromStr;

/// What an error says to the client: one code of the table.
pub trait HasErrorCode {
    /// The public code of this error.
    fn code(&self) -> ErrorCode;
}

/// Declares the table: the enum, its wire strings, HTTP statuses and descriptions, `ALL` in
/// declaration order, `FromStr` and `Display` on the wire string.
macro_rules! error_codes {
    ($($(#[$meta:meta])* $variant:ident => $code:literal, [$($status:literal),+], $description:literal;)+) => {
        /// A public error code (Apollo's codes where Apollo has one).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $($(#[$meta])* $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The string in `extensions.code`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// Every HTTP status an answer with this code can have: 200 for a GraphQL error
            /// answered as `application/json`, a 4xx or 5xx for a refusal before anything ran.
            pub const fn http_statuses(self) -> &'static [u16] {
                match self { $(ErrorCode::$variant => &[$($status),+],)+ }
            }

            /// When a client gets it, in a few words.
            pub const fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $description,)+ }
            }
        }

        impl FromStr for ErrorCode {
            type Err = crate::UnknownCode;
            fn from_str(code: &str) -> Result<Self, Self::Err> {
                match code {
                    $($code => Ok(ErrorCode::$variant),)+
                    _ => Err(crate::UnknownCode { vocabulary: "error code", code: code.to_owned() }),
                }
            }
        }
    };
}

error_codes! {
    /// A value is invalid, or a variable is missing or of the wrong type.
    BadUserInput => "BAD_USER_INPUT", [200, 400],
        "a value is invalid, or a variable is missing or has the wrong type";
    Unauthenticated => "UNAUTHENTICATED", [200, 401],
        "an admin operation without a valid token, or the router secret is missing";
    Forbidden => "FORBIDDEN", [200],
        "a valid token without the admin role";
    NotFound => "NOT_FOUND", [200],
        "the thing named does not exist";
    /// A bug or an outage: the message says nothing else and carries the request id.
    InternalServerError => "INTERNAL_SERVER_ERROR", [200, 500],
        "a bug or an outage; the error carries the request id";
    /// The replica is starting: its index is loading.
    ServiceUnavailable => "SERVICE_UNAVAILABLE", [503],
        "the replica is starting and its search index is still loading";
    GraphqlParseFailed => "GRAPHQL_PARSE_FAILED", [200, 400],
        "the document is not GraphQL";
    GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED", [200, 400],
        "the document does not fit the schema, a fragment spreads itself, or introspection is off";
    OperationResolutionFailure => "OPERATION_RESOLUTION_FAILURE", [200, 400],
        "several operations and no (or an unknown) operation name";
    /// The HTTP request is not a GraphQL request.
    BadRequest => "BAD_REQUEST", [200, 400, 415],
        "the request is not a GraphQL request, or may be a cross-site request forgery";
    PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND", [200, 400],
        "the persisted query's hash is not known";
    MethodNotAllowed => "METHOD_NOT_ALLOWED", [200, 405],
        "a mutation sent with GET";
    BatchingNotSupported => "BATCHING_NOT_SUPPORTED", [400],
        "a JSON array of operations was sent";
    PayloadTooLarge => "PAYLOAD_TOO_LARGE", [413],
        "the request body is larger than the limit";
    QueryTooLarge => "QUERY_TOO_LARGE", [200, 400, 414],
        "the query text is longer than the limit";
    QueryTooDeep => "QUERY_TOO_DEEP", [200, 400],
        "the query is nested deeper than the limit";
    QueryTooComplex => "QUERY_TOO_COMPLEX", [200, 400],
        "the query costs more than the limit";
    TooManyAliases => "TOO_MANY_ALIASES", [200, 400],
        "more aliases than the limit";
    TooManyRootFields => "TOO_MANY_ROOT_FIELDS", [200, 400],
        "more root fields than the limit";
    TooManyDirectives => "TOO_MANY_DIRECTIVES", [200, 400],
        "more directives on one field than the limit";
    RequestTimeout => "REQUEST_TIMEOUT", [200, 408],
        "the operation ran past its deadline, or the body arrived too slowly";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Lets a code be compared with the string a client read.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl HasErrorCode for crate::ValidationError {
    fn code(&self) -> ErrorCode {
        ErrorCode::BadUserInput
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_string_and_none_is_repeated() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(*code));
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(
                code.as_str()
                    .bytes()
                    .all(|byte| byte.is_ascii_uppercase() || byte == b'_'),
                "{code} is not SCREAMING_SNAKE_CASE"
            );
            assert!(!code.http_statuses().is_empty());
            assert!(!code.description().is_empty());
        }
        assert!("NOT_A_CODE".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn a_validation_error_is_bad_user_input() {
        let error = crate::ValidationError::new("location.latitude", "must be at most 90");
        assert_eq!(error.code(), ErrorCode::BadUserInput);
        assert_eq!(error.code(), "BAD_USER_INPUT");
    }
}
