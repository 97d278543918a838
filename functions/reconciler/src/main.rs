//! `reconciler` Lambda: wiring only; the handler is in the library.

use campaign_store::DynamoCampaignStore;
use lambda_runtime::{Error, run, service_fn};
use message_queue::{SqsDeadLetters, SqsMessageQueue};
use reconciler::{Config, handle};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let deps = reconcile::Deps {
        store: Arc::new(DynamoCampaignStore::new(dynamo.clone(), config.table_name.clone())),
        windows: Arc::new(campaign_store::DynamoSendingWindows::new(dynamo, config.table_name.clone())),
        queue: Arc::new(SqsMessageQueue::new(sqs.clone(), config.queue_url.clone())),
        dead_letters: Arc::new(SqsDeadLetters::new(sqs, config.dead_letter_queue_url.clone())),
        clock: platform::clock(),
        config: config.reconcile,
    };
    run(service_fn(|event| handle(&deps, event))).await
}
