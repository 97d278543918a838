//! Where a campaign's events are posted: an absolute `https://` (or `http://`, for endpoints
//! inside the operator's own network) URL with a host, no credentials and no fragment, kept in
//! its normal ASCII form (an international host as punycode).

use serde::{Deserialize, Serialize};

/// The longest URL accepted.
pub const MAX_WEBHOOK_URL: usize = 2048;

/// Why a webhook URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// Not an absolute URL.
    #[error("is not an absolute URL: {0}")]
    Unparsable(String),
    /// A scheme other than http and https.
    #[error("must use https:// or http://, not {0}://")]
    Scheme(String),
    /// Credentials in the URL would be stored and logged with it.
    #[error("must not carry a user name or password (sign requests with the webhook secret instead)")]
    Credentials,
    /// A fragment is never sent, so it is a mistake.
    #[error("must not have a #fragment")]
    Fragment,
    /// Over the limit.
    #[error("must be at most {MAX_WEBHOOK_URL} characters")]
    TooLong,
}

/// A checked webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Parses a URL given by a caller.
    pub fn parse(raw: &str) -> Result<Self, WebhookUrlError> {
        if raw.len() > MAX_WEBHOOK_URL {
            return Err(WebhookUrlError::TooLong);
        }
        let url = url::Url::parse(raw.trim()).map_err(|e| WebhookUrlError::Unparsable(e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(WebhookUrlError::Scheme(url.scheme().to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(WebhookUrlError::Unparsable("it has no host".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::Credentials);
        }
        if url.fragment().is_some() {
            return Err(WebhookUrlError::Fragment);
        }
        Ok(Self(url.to_string()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WebhookUrl {
    type Error = WebhookUrlError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<WebhookUrl> for String {
    fn from(u: WebhookUrl) -> String {
        u.0
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_or_http_url_with_a_host_is_accepted_as_written() {
        let url = WebhookUrl::parse("https://hooks.example.com/wacamp?team=7").map(String::from);
        assert_eq!(url.as_deref(), Ok("https://hooks.example.com/wacamp?team=7"));
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/events").is_ok());
        let international = WebhookUrl::parse("https://bücher.example/h").map(String::from);
        assert_eq!(international.as_deref(), Ok("https://xn--bcher-kva.example/h"), "kept as ASCII");
    }

    #[test]
    fn other_schemes_credentials_fragments_and_relative_urls_are_refused() {
        assert_eq!(WebhookUrl::parse("ftp://example.com/x"), Err(WebhookUrlError::Scheme("ftp".into())));
        assert_eq!(WebhookUrl::parse("https://me:pw@example.com/"), Err(WebhookUrlError::Credentials));
        assert_eq!(WebhookUrl::parse("https://example.com/#x"), Err(WebhookUrlError::Fragment));
        assert!(matches!(WebhookUrl::parse("/events"), Err(WebhookUrlError::Unparsable(_))));
        let long = format!("https://example.com/{}", "a".repeat(MAX_WEBHOOK_URL));
        assert_eq!(WebhookUrl::parse(&long), Err(WebhookUrlError::TooLong));
    }
}
