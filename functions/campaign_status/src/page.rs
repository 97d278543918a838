//! The status pages, served by the function itself so they work without any other host or CDN:
//! `GET /view` (an account's campaigns) and `GET /campaigns/{id}/view` (one campaign, live),
//! with their script and style under `/assets/`.
//!
//! The pages and assets carry no data and need no key: the script asks for the API key once,
//! keeps it in the tab's `sessionStorage` and sends it as `x-api-key` to the JSON routes, which
//! check it as for any client. Every answer here forbids inline script and framing and is never
//! cached.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};

const CAMPAIGN_HTML: &str = include_str!("../assets/campaign.html");
const CAMPAIGNS_HTML: &str = include_str!("../assets/campaigns.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

/// The page's Content-Security-Policy: only this origin's script, style and API, no inline
/// script or style, no framing, no form posts, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What a path names among the page routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    /// The campaigns of an account.
    CampaignsPage,
    /// One campaign.
    CampaignPage,
    /// The pages' script.
    Script,
    /// The pages' style.
    Style,
}

impl Asset {
    /// The page route `segments` name, if any (the campaign page for any id that parses).
    pub fn of(segments: &[&str]) -> Option<Self> {
        match segments {
            ["view"] => Some(Self::CampaignsPage),
            ["campaigns", id, "view"] if domain::CampaignId::parse(id).is_ok() => Some(Self::CampaignPage),
            ["assets", "app.js"] => Some(Self::Script),
            ["assets", "app.css"] => Some(Self::Style),
            _ => None,
        }
    }

    fn body_and_type(self) -> (&'static str, &'static str) {
        match self {
            Self::CampaignsPage => (CAMPAIGNS_HTML, "text/html; charset=utf-8"),
            Self::CampaignPage => (CAMPAIGN_HTML, "text/html; charset=utf-8"),
            Self::Script => (APP_JS, "text/javascript; charset=utf-8"),
            Self::Style => (APP_CSS, "text/css; charset=utf-8"),
        }
    }

    /// The answer, with the security headers.
    pub fn response(self) -> Response<Body> {
        let (body, content_type) = self.body_and_type();
        let mut resp = Response::new(Body::Text(body.to_owned()));
        *resp.status_mut() = StatusCode::OK;
        let headers = resp.headers_mut();
        for (name, value) in [
            ("content-type", content_type),
            ("content-security-policy", CONTENT_SECURITY_POLICY),
            ("cache-control", "no-store"),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_reference_only_their_own_script_and_style_and_hold_no_inline_script() {
        for html in [CAMPAIGN_HTML, CAMPAIGNS_HTML] {
            assert!(html.contains("assets/app.js\" defer></script>"));
            assert!(!html.contains("<script>"), "inline script");
            assert!(
                !html.contains("style=") && !html.contains("onclick=") && !html.contains("http"),
                "inline or remote"
            );
        }
        assert!(!APP_JS.contains("innerHTML"), "API values are written as text");
        assert!(!APP_JS.contains("localStorage"), "the key stays in the tab");
    }

    #[test]
    fn only_the_page_routes_are_pages() {
        assert_eq!(Asset::of(&["view"]), Some(Asset::CampaignsPage));
        assert_eq!(Asset::of(&["campaigns", "c-1", "view"]), Some(Asset::CampaignPage));
        assert_eq!(Asset::of(&["campaigns", "../x", "view"]), None);
        assert_eq!(Asset::of(&["assets", "app.js"]), Some(Asset::Script));
        assert_eq!(Asset::of(&["assets", "other.js"]), None);
        assert_eq!(Asset::of(&["campaigns", "c-1"]), None);
        let resp = Asset::CampaignPage.response();
        assert_eq!(resp.headers()["cache-control"], "no-store");
        assert!(
            resp.headers()["content-security-policy"]
                .to_str()
                .unwrap_or("")
                .contains("frame-ancestors 'none'")
        );
    }
}
