//! `session_keeper` Lambda: wiring only; the handler is in the library.

use campaign_store::{DynamoAccountGate, DynamoCampaignStore};
use lambda_runtime::{Error, run, service_fn};
use message_queue::SqsMessageQueue;
use sender::browser::ChromiumLauncher;
use session_keeper::alert::{Alerts, LoggedAlerts, SnsAlerts};
use session_keeper::{Config, Deps, handle};
use session_store::{S3ProfileStore, StoreConfig};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let driver = wa_driver::DriverConfig::from_env(std::env::temp_dir())?;
    let clock = domain::system_clock();
    let alerts: Arc<dyn Alerts> = match &config.alert_topic_arn {
        Some(topic) => Arc::new(SnsAlerts::new(aws_sdk_sns::Client::new(&aws), topic.clone())),
        None => Arc::new(LoggedAlerts),
    };
    let deps = Deps {
        profiles: Arc::new(S3ProfileStore::new(
            platform::s3_client(&aws),
            dynamo.clone(),
            StoreConfig::from_env()?,
        )),
        launcher: Arc::new(ChromiumLauncher { template: driver, take_over_conflict: false }),
        gate: Arc::new(DynamoAccountGate::new(dynamo.clone(), config.table_name.clone())),
        control: campaign_control::Control {
            store: Arc::new(DynamoCampaignStore::new(dynamo, config.table_name.clone())),
            queue: Arc::new(SqsMessageQueue::new(aws_sdk_sqs::Client::new(&aws), config.queue_url.clone())),
            clock: clock.clone(),
        },
        alerts,
        clock,
        config,
    };
    run(service_fn(|event| handle(&deps, event))).await
}
