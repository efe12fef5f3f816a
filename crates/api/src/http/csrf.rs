//! Apollo Server's cross-site request forgery prevention: a POST that a page on another site
//! could have made its visitor's browser send without a CORS preflight is refused.

use axum::http::{HeaderMap, header};

/// The content types a browser sends to another origin without asking first (a CORS
/// preflight): a page on any site can POST them with a form or `fetch(..., {mode: "no-cors"})`.
const SIMPLE_CONTENT_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// Headers a browser never sends to another origin without a preflight, which the CORS
/// policy then decides: a client that cannot set a content type proves it is not a forged
/// form with one of these (Apollo's names).
const PREFLIGHT_HEADERS: [&str; 2] = ["x-apollo-operation-name", "apollo-require-preflight"];

/// Apollo Server's CSRF prevention, for POST: a request that a page on another site could have
/// made its visitor's browser send without a CORS preflight (no content type, or a simple one,
/// and none of [`PREFLIGHT_HEADERS`]). Its body would still be read as JSON, so a `text/plain`
/// form could otherwise run a mutation. A content type that does not parse as a MIME type is
/// not simple: browsers preflight it.
pub(super) fn may_be_forged_cross_site(headers: &HeaderMap) -> bool {
    let simple_content_type = match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(mime_essence)
            .is_some_and(|essence| SIMPLE_CONTENT_TYPES.contains(&essence.as_str())),
    };
    let preflight_header = PREFLIGHT_HEADERS.iter().any(|name| {
        headers
            .get(*name)
            .is_some_and(|value| !value.as_bytes().is_empty())
    });
    simple_content_type && !preflight_header
}

/// `type/subtype` of a MIME type in lower case, parameters dropped; `None` when it does not
/// parse (WHATWG MIME sniffing's rules: both parts non-empty HTTP tokens).
fn mime_essence(value: &str) -> Option<String> {
    let is_token = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
    };
    let value = value.trim_matches([' ', '\t', '\r', '\n']);
    let (kind, rest) = value.split_once('/')?;
    let subtype = rest
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_end_matches([' ', '\t', '\r', '\n']);
    (is_token(kind) && is_token(subtype)).then(|| format!("{kind}/{subtype}").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_content_type(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("a header value"),
        );
        headers
    }

    #[test]
    fn a_simple_content_type_or_none_may_be_forged_unless_a_preflight_header_is_sent() {
        assert!(may_be_forged_cross_site(&HeaderMap::new()));
        assert!(may_be_forged_cross_site(&with_content_type("text/plain")));
        assert!(may_be_forged_cross_site(&with_content_type(
            " Multipart/Form-Data; boundary=x"
        )));
        assert!(!may_be_forged_cross_site(&with_content_type(
            "application/json"
        )));
        // Browsers preflight a content type that does not parse.
        assert!(!may_be_forged_cross_site(&with_content_type("text/")));
        let mut preflighted = with_content_type("text/plain");
        preflighted.insert("apollo-require-preflight", HeaderValue::from_static("true"));
        assert!(!may_be_forged_cross_site(&preflighted));
        let mut empty = with_content_type("text/plain");
        empty.insert("x-apollo-operation-name", HeaderValue::from_static(""));
        assert!(
            may_be_forged_cross_site(&empty),
            "an empty header proves nothing"
        );
    }

    #[test]
    fn a_mime_essence_is_type_and_subtype_in_lower_case() {
        assert_eq!(
            mime_essence("Text/Plain; charset=utf-8").as_deref(),
            Some("text/plain")
        );
        assert_eq!(
            mime_essence("\ttext/plain \t").as_deref(),
            Some("text/plain")
        );
        assert_eq!(mime_essence("text"), None);
        assert_eq!(mime_essence("/plain"), None);
        assert_eq!(mime_essence("te xt/plain"), None);
    }
}
