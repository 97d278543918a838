//! `session_keeper` Lambda: wiring only; the handler is in the library.

use lambda_runtime::{Error, run, service_fn};
use session_keeper::alert::{Alerts, LoggedAlerts, SnsAlerts};
use session_keeper::{Config, Deps, handle};
use session_store::StoreConfig;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let driver = wa_driver::DriverConfig::from_env(std::env::temp_dir())?;
    let alerts: Arc<dyn Alerts> = match &config.alert_topic_arn {
        Some(topic) => Arc::new(SnsAlerts::new(aws_sdk_sns::Client::new(&aws), topic.clone())),
        None => Arc::new(LoggedAlerts),
    };
    let deps = Deps::on_aws(&aws, config, StoreConfig::load(&aws).await?, driver, alerts);
    run(service_fn(|event| handle(&deps, event))).await
}
