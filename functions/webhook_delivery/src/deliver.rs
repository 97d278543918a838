//! `webhook_delivery`: each queued event posted to its endpoint, signed (see the `webhook`
//! crate), ten at a time in parallel. A 2xx answer delivers it; any other answer, a timeout or
//! no connection leaves it on the queue, hidden for a backoff that doubles with each receive
//! (from the base up to 15 minutes), until the queue's receive limit moves it to the webhook
//! dead-letter queue. An envelope that does not parse fails the same way, so it ends there too
//! instead of being dropped. Logs name the event's id, type and the endpoint's host, never
//! its body (it carries phone numbers).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use domain::Clock;
use std::sync::Arc;
use std::time::Duration;
use webhook::Envelope;

/// The longest backoff (SQS allows 12 hours; an endpoint back after a quarter of an hour
/// should not wait longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(900);

/// What the delivery function works with.
pub struct Deps {
    /// The HTTP client (with its timeout).
    pub http: reqwest::Client,
    /// The deployment's webhook secret.
    pub secret: Vec<u8>,
    /// The webhook queue, to hide a failed event for its backoff.
    pub sqs: aws_sdk_sqs::Client,
    /// Its URL.
    pub queue_url: String,
    /// The first backoff.
    pub retry_base: Duration,
    /// Time, for the signature's timestamp.
    pub clock: Arc<dyn Clock>,
}

/// How long an event that failed on its `receive`-th receive waits before the next try.
pub fn backoff(receive: u32, base: Duration) -> Duration {
    let doublings = receive.saturating_sub(1).min(16);
    base.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// What an endpoint's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It has the event.
    Delivered,
    /// Try again later.
    Retry,
}

/// The outcome of an HTTP status.
pub fn outcome(status: u16) -> Outcome {
    if (200..300).contains(&status) { Outcome::Delivered } else { Outcome::Retry }
}

fn host(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "?".into())
}

/// Posts one envelope; `Err` says why it was not delivered.
async fn post(deps: &Deps, envelope: &Envelope) -> Result<(), String> {
    let timestamp = deps.clock.unix_millis() / 1000;
    let signature = webhook::sign(&deps.secret, timestamp, envelope.body.as_bytes());
    let answer = deps
        .http
        .post(&envelope.url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("wacamp-webhooks/", env!("CARGO_PKG_VERSION")))
        .header(webhook::SIGNATURE_HEADER, signature)
        .header(webhook::TIMESTAMP_HEADER, timestamp.to_string())
        .header(webhook::EVENT_ID_HEADER, &envelope.id)
        .header(webhook::EVENT_TYPE_HEADER, &envelope.kind)
        .body(envelope.body.clone())
        .send()
        .await
        .map_err(|e| format!("no answer: {}", e.without_url()))?;
    match outcome(answer.status().as_u16()) {
        Outcome::Delivered => Ok(()),
        Outcome::Retry => Err(format!("answered {}", answer.status())),
    }
}

fn receive_count(message: &SqsMessage) -> u32 {
    message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1)
}

/// Delivers one queued message; `false` when it must stay on the queue.
async fn deliver(deps: &Deps, message: &SqsMessage) -> bool {
    let body = message.body.as_deref().unwrap_or_default();
    let envelope: Envelope = match serde_json::from_str(body) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "a webhook queue message is not an event envelope; it goes to the dead-letter queue");
            return false;
        }
    };
    let host = host(&envelope.url);
    match post(deps, &envelope).await {
        Ok(()) => {
            tracing::info!(event = %envelope.id, kind = %envelope.kind, %host, "webhook delivered");
            true
        }
        Err(reason) => {
            let receive = receive_count(message);
            let wait = backoff(receive, deps.retry_base);
            tracing::warn!(event = %envelope.id, kind = %envelope.kind, %host, %reason, receive,
                retry_in_s = wait.as_secs(), "webhook not delivered; it is tried again");
            if let Some(handle) = &message.receipt_handle {
                let hidden = deps
                    .sqs
                    .change_message_visibility()
                    .queue_url(&deps.queue_url)
                    .receipt_handle(handle)
                    .visibility_timeout(i32::try_from(wait.as_secs()).unwrap_or(900))
                    .send()
                    .await;
                if let Err(e) = hidden {
                    // The queue's own visibility timeout applies instead.
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "could not set the webhook's backoff");
                }
            }
            false
        }
    }
}

/// Handles one batch of queued events; the ones not delivered are reported as failures.
pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let outcomes = futures::future::join_all(event.records.iter().map(|m| deliver(deps, m))).await;
    let mut response = SqsBatchResponse::default();
    for (message, delivered) in event.records.iter().zip(outcomes) {
        if !delivered {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_the_base_and_stops_at_a_quarter_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(1, base), base);
        assert_eq!(backoff(2, base), Duration::from_secs(60));
        assert_eq!(backoff(4, base), Duration::from_secs(240));
        assert_eq!(backoff(6, base), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX, base), MAX_BACKOFF);
        assert_eq!(backoff(0, base), base, "a missing count is the first receive");
    }

    #[test]
    fn only_a_2xx_answer_delivers() {
        assert_eq!(outcome(200), Outcome::Delivered);
        assert_eq!(outcome(204), Outcome::Delivered);
        for status in [301, 400, 404, 429, 500, 503] {
            assert_eq!(outcome(status), Outcome::Retry, "{status}");
        }
    }

    #[test]
    fn a_log_names_only_the_endpoints_host() {
        assert_eq!(host("https://hooks.example.com/path?token=secret"), "hooks.example.com");
        assert_eq!(host("not a url"), "?");
    }
}
