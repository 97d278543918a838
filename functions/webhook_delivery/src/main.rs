//! `webhook_delivery` Lambda: wiring only; the handler is in the library.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use webhook_delivery::config::{Config, read_secret};
use webhook_delivery::deliver::{Deps, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::init_tracing();
    let config = Config::from_env()?;
    let aws = platform::aws_config().await;
    let secret = read_secret(&aws_sdk_secretsmanager::Client::new(&aws), &config.secret_arn).await?;
    let deps = Deps {
        // A redirect is an answer like any other non-2xx: the event is tried again, never
        // re-posted (or turned into a GET) somewhere the campaign did not name.
        http: reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        secret,
        sqs: aws_sdk_sqs::Client::new(&aws),
        queue_url: config.queue_url,
        retry_base: config.retry_base,
        clock: platform::clock(),
    };
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let deps = &deps;
        async move { Ok::<_, Error>(handle(deps, event.payload).await) }
    }))
    .await
}
