//! The API's routes and the methods each takes, in one table for both HTTP functions (the gateway
//! sends every request no route names to `campaign_status`), so a known path asked with another
//! method is a 405 with `allow`, and only an unknown path is a 404.

use crate::ApiError;
use domain::ErrorCode;
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Response};

/// The methods the path of `segments` takes (`allow` header form), or `None` for no such path.
pub fn allowed_methods(segments: &[&str]) -> Option<&'static str> {
    match segments {
        ["campaigns"] => Some("GET, POST"),
        ["campaigns", _] => Some("GET, PATCH"),
        ["campaigns", _, "messages" | "messages.csv" | "view"] => Some("GET"),
        ["campaigns", _, "resume" | "cancel"] => Some("POST"),
        ["accounts", _, "session"] | ["view"] | ["assets", _] => Some("GET"),
        ["accounts", _, "opt-outs", _] => Some("PUT, DELETE"),
        ["accounts", _, "sending-window"] => Some("GET, PUT, DELETE"),
        ["accounts", _, "media"] => Some("POST"),
        _ => None,
    }
}

/// The answer to a request no handler took: 405 with `allow` for a known path asked with another
/// method, else 404 (no such path, or nothing there, e.g. an asset that does not exist).
pub fn unrouted(method: &str, path: &str, segments: &[&str]) -> Response<Body> {
    match allowed_methods(segments) {
        Some(allow) if !allow.split(", ").any(|m| m == method) => {
            let mut resp = ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("{path} does not take {method}; it takes {allow}"),
            )
            .into_response();
            resp.headers_mut().insert("allow", HeaderValue::from_static(allow));
            resp
        }
        _ => ApiError::not_found(format!("no route {method} {path}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::StatusCode;

    #[test]
    fn a_known_path_with_another_method_is_a_405_naming_the_allowed_ones() {
        let resp = unrouted("DELETE", "/campaigns/c-1", &["campaigns", "c-1"]);
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(resp.headers()["allow"], "GET, PATCH");
        assert_eq!(unrouted("PUT", "/campaigns", &["campaigns"]).headers()["allow"], "GET, POST");
        assert_eq!(unrouted("GET", "/nowhere", &["nowhere"]).status(), StatusCode::NOT_FOUND);
        assert_eq!(unrouted("GET", "/assets/x.js", &["assets", "x.js"]).status(), StatusCode::NOT_FOUND);
    }
}
