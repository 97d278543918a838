//! `campaign_status` Lambda: wiring only; the handler is in the library.

use campaign_status::{Config, Deps, handle};
use campaign_store::DynamoCampaignStore;
use lambda_http::{Error, run, service_fn};
use session_store::{S3ProfileStore, StoreConfig};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let s3 = platform::s3_client(&aws);
    let deps = Deps {
        store: Arc::new(DynamoCampaignStore::new(dynamo.clone(), config.table_name.clone())),
        windows: Arc::new(campaign_store::DynamoSendingWindows::new(
            dynamo.clone(),
            config.table_name.clone(),
        )),
        profiles: Arc::new(S3ProfileStore::new(
            s3,
            dynamo,
            StoreConfig::new(config.profile_bucket, config.table_name),
        )),
        api_key: config.api_key,
        clock: platform::clock(),
        session_warn_after: config.session_warn_after,
        warm_up: config.warm_up,
    };
    run(service_fn(|req| handle(&deps, req))).await
}
