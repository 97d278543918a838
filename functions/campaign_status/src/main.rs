//! `campaign_status` Lambda: wiring only; the handler is in the library.

use campaign_status::{Config, Deps, handle};
use campaign_store::DynamoCampaignStore;
use lambda_http::{Error, run, service_fn};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let deps = Deps {
        store: Arc::new(DynamoCampaignStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)),
        api_key: config.api_key,
    };
    run(service_fn(|req| handle(&deps, req))).await
}
