//! HTTP calls to a test stack, with its API key.

/// The API key the test stacks are deployed with.
pub const API_KEY: &str = "e2e-test-key";

/// An HTTP client that sends the test stacks' API key.
pub fn http() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-api-key", reqwest::header::HeaderValue::from_static(API_KEY));
    reqwest::Client::builder().default_headers(headers).build().unwrap_or_default()
}

/// GETs `url` with the test API key and returns the JSON body.
pub async fn get_json(url: String) -> serde_json::Value {
    json_of(http().get(&url), &url).await
}

/// POSTs to `url` (no body) with the test API key and returns the JSON body.
pub async fn post_json(url: String) -> serde_json::Value {
    json_of(http().post(&url), &url).await
}

async fn json_of(request: reqwest::RequestBuilder, url: &str) -> serde_json::Value {
    let resp = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    resp.json().await.unwrap_or_else(|e| panic!("{url}: the body is not JSON: {e}"))
}
