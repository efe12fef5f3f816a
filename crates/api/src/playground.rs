//! The playground: GraphiQL, served from files built into the binary (`assets/graphiql`,
//! vendored from npm with their licences), so it works offline and under a strict
//! Content-Security-Policy. The page is answered on a browser GET of `/graphql`, its scripts
//! and styles under [`ASSET_PREFIX`]; both only while the `playground` setting is on.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Where the playground's files are served; the version in the path lets browsers keep them.
pub(crate) const ASSET_PREFIX: &str = "/graphiql/4.1.2/";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file the page loads: name under [`ASSET_PREFIX`], media type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "react.production.min.js",
        JAVASCRIPT,
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        JAVASCRIPT,
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        JAVASCRIPT,
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        CSS,
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "page.css",
        CSS,
        include_bytes!("../assets/graphiql/page.css"),
    ),
    (
        "init.js",
        JAVASCRIPT,
        include_bytes!("../assets/graphiql/init.js"),
    ),
];

/// Only this origin's scripts, styles and connections; GraphiQL's stylesheet inlines its fonts
/// as `data:` URLs, and its editors set inline styles.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The playground's page.
pub(crate) fn page() -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../assets/graphiql/index.html"),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// One of the page's files, or 404.
pub(crate) fn asset(uri: &Uri) -> Response {
    let found = uri
        .path()
        .strip_prefix(ASSET_PREFIX)
        .and_then(|name| ASSETS.iter().find(|(asset, _, _)| *asset == name));
    let Some((_, content_type, bytes)) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, *content_type),
            // Versioned paths: a new GraphiQL is a new path.
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        *bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_files_that_are_served() {
        let page = include_str!("../assets/graphiql/index.html");
        let mut loaded = 0;
        for reference in page
            .split(['"', '\''])
            .filter(|text| text.starts_with("graphiql/"))
        {
            let uri: Uri = format!("/{reference}").parse().unwrap();
            assert_eq!(asset(&uri).status(), StatusCode::OK, "{reference}");
            loaded += 1;
        }
        assert_eq!(loaded, ASSETS.len(), "every asset is used by the page");
        assert!(!page.contains("http"), "nothing from another origin");
    }
}
