//! `start_campaign` Lambda: wiring only; the handler is in the library.

use campaign_store::{DynamoCampaignStore, DynamoSendingWindows};
use lambda_http::{Error, run, service_fn};
use message_queue::SqsMessageQueue;
use session_store::DynamoSessionPointers;
use start_campaign::{Config, Deps, handle};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let deps = Deps {
        store: Arc::new(DynamoCampaignStore::new(dynamo.clone(), config.table_name.clone())),
        queue: Arc::new(SqsMessageQueue::new(aws_sdk_sqs::Client::new(&aws), config.queue_url.clone())),
        sessions: Arc::new(DynamoSessionPointers::new(dynamo.clone(), config.table_name.clone())),
        windows: Arc::new(DynamoSendingWindows::new(dynamo, config.table_name.clone())),
        media: Arc::new(media_store::S3MediaStore::new(
            platform::s3_client(&aws),
            config.media_bucket.clone(),
        )),
        clock: platform::clock(),
        api_key: config.api_key,
    };
    run(service_fn(|req| handle(&deps, req))).await
}
