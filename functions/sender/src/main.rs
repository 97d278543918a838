//! `sender` Lambda: wiring only; the handler is in the library.

use campaign_store::{DynamoAccountGate, DynamoCampaignStore, DynamoSendingWindows};
use lambda_runtime::{Error, run, service_fn};
use media_store::S3MediaStore;
use message_queue::SqsMessageQueue;
use sender::browser::ChromiumLauncher;
use sender::media_files::MediaFiles;
use sender::{Config, Deps, handle};
use session_store::{S3ProfileStore, StoreConfig};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    // Inert unless built with the `failpoints` feature (test stacks only) and FAILPOINTS is set.
    let _crash_points = sender::crash::setup();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let driver = wa_driver::DriverConfig::from_env(std::env::temp_dir())?;
    let deps = Deps {
        store: Arc::new(DynamoCampaignStore::new(dynamo.clone(), config.table_name.clone())),
        gate: Arc::new(DynamoAccountGate::new(dynamo.clone(), config.table_name.clone())),
        windows: Arc::new(DynamoSendingWindows::new(dynamo.clone(), config.table_name.clone())),
        queue: Arc::new(SqsMessageQueue::new(aws_sdk_sqs::Client::new(&aws), config.queue_url.clone())),
        profiles: Arc::new(S3ProfileStore::new(
            platform::s3_client(&aws),
            dynamo,
            StoreConfig::load(&aws).await?,
        )),
        files: Arc::new(MediaFiles::new(
            Arc::new(S3MediaStore::new(platform::s3_client(&aws), config.media_bucket.clone())),
            std::env::temp_dir().join("wacamp-media"),
            sender::media_files::DEFAULT_BUDGET,
        )),
        launcher: Arc::new(ChromiumLauncher {
            template: driver,
            take_over_conflict: config.take_over_conflict,
        }),
        config,
        clock: platform::clock(),
    };
    run(service_fn(|event| handle(&deps, event))).await
}
