//! What each GraphQL request carries besides its query, read from its headers.

use axum::http::{HeaderMap, header};
use carematch_service::match_log::ClientInfo;

use crate::AppState;

/// Adds the `Authorization` header (checked by the resolvers that need it), the client's name
/// and version, and a fresh provider loader, so lookups batch within the request.
pub(super) fn with_request_data(
    app: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> async_graphql::Request {
    request
        .data(crate::graphql::RequestAuthorization(authorization(headers)))
        .data(client_info(headers))
        .data(crate::graphql::ProviderLoader::data_loader(
            std::sync::Arc::clone(&app.directory.index),
        ))
}

/// The `Authorization` header, when it is text.
fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The client's name and version, as Apollo clients and the router send them.
pub(super) fn client_info(headers: &HeaderMap) -> ClientInfo {
    let header_text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    ClientInfo::from_headers(
        header_text("apollographql-client-name"),
        header_text("apollographql-client-version"),
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_authorization_and_client_are_read_from_their_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(authorization(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        headers.insert(
            "apollographql-client-name",
            HeaderValue::from_static("ios-app"),
        );
        headers.insert(
            "apollographql-client-version",
            HeaderValue::from_static("4.2"),
        );
        assert_eq!(authorization(&headers).as_deref(), Some("Bearer abc"));
        let client = client_info(&headers);
        assert_eq!(client.name.as_deref(), Some("ios-app"));
        assert_eq!(client.version.as_deref(), Some("4.2"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").expect("a header value"),
        );
        assert_eq!(authorization(&headers), None, "not text: no authorization");
    }
}
