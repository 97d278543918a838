//! The HTTP API as the CLI calls it: one client with the key as a sensitive header, answers read
//! into the `api_types` bodies, and failures shown as the API's `{code, message, hint}`.

use anyhow::{Context, Result, anyhow};
use api_types::Problem;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A client for the API at `base`.
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client sending `key` as `x-api-key` (never logged, never in a URL).
    pub fn new(base: String, key: &str) -> Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        let mut value = reqwest::header::HeaderValue::from_str(key)
            .context("the API key has characters a header cannot carry")?;
        value.set_sensitive(true);
        headers.insert("x-api-key", value);
        let http =
            reqwest::Client::builder().timeout(Duration::from_secs(30)).default_headers(headers).build()?;
        Ok(Self { http, base })
    }

    /// `GET {base}{path}`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        call(self.http.get(format!("{}{path}", self.base))).await
    }

    /// The absolute URL of `path` on the API.
    pub fn url(&self, path: &str) -> Result<reqwest::Url> {
        reqwest::Url::parse(&format!("{}{path}", self.base))
            .with_context(|| format!("'{}' is not a URL", self.base))
    }

    /// `GET url` of a page that is not JSON: its body and its `link` header, if any. A failure
    /// becomes an error carrying the API's code, message and hint.
    pub async fn get_page(&self, url: reqwest::Url) -> Result<(Vec<u8>, Option<String>)> {
        let resp = self.http.get(url).send().await.context("the API did not answer")?;
        let status = resp.status();
        let link = resp.headers().get("link").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = resp.bytes().await.context("the API's answer was cut off")?;
        if !status.is_success() {
            return Err(problem(status, &bytes));
        }
        Ok((bytes.to_vec(), link))
    }

    /// `POST {base}{path}` without a body.
    pub async fn post<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        call(self.http.post(format!("{}{path}", self.base))).await
    }

    /// The client, with the key, for the methods the helpers here do not cover.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request builder for `PATCH {base}{path}`.
    pub fn patch_builder(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.patch(format!("{}{path}", self.base))
    }

    /// A request builder for `POST {base}{path}`, for calls with a body or headers.
    pub fn post_builder(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base))
    }
}

/// Sends `req` and reads a success into `T`; a failure becomes an error carrying the API's code,
/// message and hint.
pub async fn call<T: DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T> {
    let resp = req.send().await.context("the API did not answer")?;
    let status = resp.status();
    let bytes = resp.bytes().await.context("the API's answer was cut off")?;
    if !status.is_success() {
        return Err(problem(status, &bytes));
    }
    serde_json::from_slice(&bytes).with_context(|| {
        format!("the API answered {} with a body this version of wacamp does not understand", status.as_u16())
    })
}

/// The error for a failed call: the API's code, message and hint when the body is its error
/// shape.
pub fn problem(status: reqwest::StatusCode, body: &[u8]) -> anyhow::Error {
    match serde_json::from_slice::<Problem>(body) {
        Ok(p) => anyhow!("{} {}: {}\nhint: {}", status.as_u16(), p.code, p.message, p.hint),
        Err(_) => anyhow!("{} from the API, with a body that is not its error shape", status.as_u16()),
    }
}

/// Prints `body` as one line of JSON (the `--json` output: it parses into the same `api_types`).
pub fn print_json(body: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(body)?);
    Ok(())
}
