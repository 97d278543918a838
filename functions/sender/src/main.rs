//! `sender` Lambda: wiring only; the handler is in the library.

use campaign_store::{DynamoCampaignStore, SqsMessageQueue};
use lambda_runtime::{Error, run, service_fn};
use sender::{Config, Deps, handle};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let deps = Deps {
        store: Arc::new(DynamoCampaignStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            config.table_name.clone(),
        )),
        queue: Arc::new(SqsMessageQueue::new(aws_sdk_sqs::Client::new(&aws), config.queue_url.clone())),
        config,
        clock: Arc::new(sender::utc_now),
    };
    run(service_fn(|event| handle(&deps, event))).await
}
