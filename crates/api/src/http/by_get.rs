//! A GraphQL GET: the playground for a browser, or a query from the query string (mutations
//! are refused later, by the request guard and the document checks).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carematch_domain::ErrorCode;

use super::RouterState;
use super::execute::execute;
use super::response::{error_response, response_format};
use crate::limits::ArrivedByGet;

pub(super) async fn graphql_get(
    State(state): State<RouterState>,
    headers: HeaderMap,
    RawQuery(query_string): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        return if state.options.playground {
            crate::playground::page()
        } else {
            StatusCode::NOT_FOUND.into_response()
        };
    }
    let format = response_format(&headers);
    let query_string = query_string.unwrap_or_default();
    if query_string.len() > state.options.limits.max_body_bytes {
        return error_response(
            StatusCode::URI_TOO_LONG,
            ErrorCode::QueryTooLarge,
            "the query string is too long: send large requests with POST",
            format,
        );
    }
    match get_request(&query_string) {
        Ok(request) => {
            let operation_name = request.operation_name.clone();
            let request = request.data(ArrivedByGet { operation_name });
            execute(&state, &headers, request, format).await
        }
        Err(_) => error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "the query string must hold `query` and optional `operationName`, and `variables` \
             and `extensions` as JSON objects",
            format,
        ),
    }
}

/// A file of the playground's page; 404 while the playground is off.
pub(super) async fn playground_asset(
    State(state): State<RouterState>,
    uri: axum::http::Uri,
) -> Response {
    if !state.options.playground {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::playground::asset(&uri)
}

/// The parameters of a GraphQL GET. `operationName` is GraphQL over HTTP's name (and what
/// Apollo Client and the router send); async-graphql's own parser reads only `operation_name`,
/// which stays accepted.
#[derive(serde::Deserialize)]
struct GetParameters {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName", alias = "operation_name")]
    operation_name: Option<String>,
    /// JSON text.
    variables: Option<String>,
    /// JSON text.
    extensions: Option<String>,
}

/// The GraphQL request of a GET's query string; an error when a parameter is repeated, or
/// `variables` or `extensions` is not a JSON object.
fn get_request(query_string: &str) -> Result<async_graphql::Request, ()> {
    fn json_object<T: serde::de::DeserializeOwned + Default>(
        text: Option<String>,
    ) -> Result<T, ()> {
        text.map(|text| serde_json::from_str(&text).map_err(|_| ()))
            .transpose()
            .map(Option::unwrap_or_default)
    }
    let parameters: GetParameters = serde_urlencoded::from_str(query_string).map_err(|_| ())?;
    let mut request =
        async_graphql::Request::new(parameters.query).variables(json_object(parameters.variables)?);
    request.extensions = json_object(parameters.extensions)?;
    // An empty name is no name (GraphQL over HTTP).
    request.operation_name = parameters.operation_name.filter(|name| !name.is_empty());
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_reads_both_operation_name_spellings_and_json_parameters() {
        let request = get_request(
            "query=%7B%20a%20%7D&operationName=A&variables=%7B%22x%22%3A1%7D&extensions=%7B%7D",
        )
        .expect("valid");
        assert_eq!(request.query, "{ a }");
        assert_eq!(request.operation_name.as_deref(), Some("A"));
        assert_eq!(
            request.variables.get(&async_graphql::Name::new("x")),
            Some(&async_graphql::Value::from(1))
        );
        let older = get_request("query=%7Ba%7D&operation_name=B").expect("valid");
        assert_eq!(older.operation_name.as_deref(), Some("B"));
        let unnamed = get_request("query=%7Ba%7D&operationName=").expect("valid");
        assert_eq!(unnamed.operation_name, None, "an empty name is no name");
    }

    #[test]
    fn a_get_with_bad_json_or_a_repeated_parameter_is_refused() {
        assert!(get_request("query=%7Ba%7D&variables=%5B1%5D").is_err());
        assert!(get_request("query=%7Ba%7D&extensions=nope").is_err());
        assert!(get_request("query=%7Ba%7D&query=%7Bb%7D").is_err());
    }
}
