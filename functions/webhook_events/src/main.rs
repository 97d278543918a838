//! `webhook_events` Lambda: wiring only; the handler is in the library.

use campaign_store::DynamoCampaignStore;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::sync::Arc;
use webhook_events::config::Config;
use webhook_events::events::{Deps, handle};
use webhook_events::outbox::SqsOutbox;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let deps = Deps {
        store: Arc::new(DynamoCampaignStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)),
        outbox: Arc::new(SqsOutbox::new(aws_sdk_sqs::Client::new(&aws), config.queue_url)),
        default_url: config.default_url,
    };
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deps = &deps;
        async move { handle(deps, event.payload).await.map_err(Error::from) }
    }))
    .await
}
