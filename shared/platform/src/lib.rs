//! What every wacamp binary needs before its first request: structured logs, configuration read
//! from the environment with errors that name the variable, one AWS SDK configuration that
//! honours `AWS_ENDPOINT_URL` (so the same code talks to AWS or to the local emulator), one
//! policy for trying AWS calls again ([`retry`]), and the clock a function runs on ([`clock`]).

pub mod clock;
pub mod metrics;
pub mod retry;

pub use clock::clock;

use std::str::FromStr;
use std::time::Duration;

/// A configuration variable is missing or malformed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Required and not set.
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// Set but not parseable.
    #[error("environment variable {name} has an invalid value '{value}': {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
        /// Why it was refused.
        reason: String,
    },
}

/// A required variable.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// An optional variable parsed as `T`, with a default when unset.
pub fn optional<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse::<T>().map_err(|e| ConfigError::Invalid {
            name,
            value: v.clone(),
            reason: e.to_string(),
        }),
        _ => Ok(default),
    }
}

/// A required variable parsed as `T`.
pub fn parsed<T>(name: &'static str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw = required(name)?;
    raw.trim().parse::<T>().map_err(|e| ConfigError::Invalid {
        name,
        value: "<redacted>".into(),
        reason: e.to_string(),
    })
}

/// An optional duration given in whole seconds.
pub fn seconds(name: &'static str, default_secs: u64) -> Result<Duration, ConfigError> {
    optional::<u64>(name, default_secs).map(Duration::from_secs)
}

/// The dependencies kept at warn whatever level our crates log at: the browser transport
/// (headless_chrome and its websocket) and the HTTP and AWS stacks, so a batch logs its own lines
/// and not their chatter.
const QUIET_DEPENDENCIES: &str = "headless_chrome=warn,tungstenite=warn,hyper=warn,hyper_util=warn,\
                                  rustls=warn,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_s3=warn";

/// The filter for a `RUST_LOG` value: unset or empty means `info`; a bare level (`debug`) sets
/// our crates' level and keeps the dependencies quiet; anything else is a full filter, taken as
/// given.
pub fn log_filter(rust_log: Option<&str>) -> String {
    let value = rust_log.map(str::trim).filter(|v| !v.is_empty()).unwrap_or("info");
    let bare_level =
        ["trace", "debug", "info", "warn", "error", "off"].contains(&value.to_ascii_lowercase().as_str());
    if bare_level { format!("{value},{QUIET_DEPENDENCIES}") } else { value.to_owned() }
}

/// Starts JSON logs on stderr filtered by `RUST_LOG` (see [`log_filter`]), as Lambda and
/// CloudWatch expect; ANSI colours off. Call once, first thing in `main`.
pub fn init_tracing() {
    let directives = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter(None)));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .try_init();
}

/// [`aws_config`] for a stack on a local AWS emulator at `endpoint` (from the CLI's config
/// file): that endpoint and region, and the emulator's test credentials unless credentials are
/// set in the environment.
pub async fn aws_config_at(endpoint: &str, region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(retry::sdk_policy())
        .endpoint_url(endpoint);
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        let test = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "local-emulator");
        loader = loader.credentials_provider(test);
    }
    loader.load().await
}

/// The SDK configuration every client is built from.
pub use aws_config::SdkConfig;

/// The shared AWS SDK configuration. Region and endpoint come from the standard variables
/// (`AWS_REGION`, `AWS_ENDPOINT_URL`), so nothing here branches on where it runs.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).retry_config(retry::sdk_policy()).load().await
}

/// Whether S3 must be addressed path-style: true when `AWS_ENDPOINT_URL` or
/// `AWS_ENDPOINT_URL_S3` points at a local emulator (it has no per-bucket host names), false on
/// AWS.
pub fn path_style_s3() -> bool {
    ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

/// The S3 client every wacamp component uses: the shared configuration, path-style addressing
/// when a local endpoint is set (see [`path_style_s3`]).
pub fn s3_client(aws: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(aws).force_path_style(path_style_s3()).build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_required_variable_is_named() {
        let err = required("WACAMP_SURELY_UNSET_VARIABLE").unwrap_err();
        assert_eq!(err.to_string(), "environment variable WACAMP_SURELY_UNSET_VARIABLE is not set");
    }

    #[test]
    fn an_unset_optional_variable_takes_its_default() {
        assert_eq!(optional::<u32>("WACAMP_SURELY_UNSET_VARIABLE", 7).unwrap(), 7);
    }

    #[test]
    fn a_bare_level_keeps_the_browser_transport_quiet_and_a_full_filter_is_taken_as_given() {
        for unset in [None, Some(""), Some("  ")] {
            assert!(log_filter(unset).starts_with("info,headless_chrome=warn,"));
        }
        assert!(log_filter(Some("debug")).starts_with("debug,headless_chrome=warn,"));
        assert_eq!(log_filter(Some("sender=trace,info")), "sender=trace,info");
        assert!(tracing_subscriber::EnvFilter::try_new(log_filter(None)).is_ok());
    }
}
