//! Where the profile key comes from: inline (`PROFILE_ENCRYPTION_KEY`) or an AWS Secrets Manager
//! secret named by ARN (`PROFILE_KEY_SECRET_ARN`), read once when a process starts (a Lambda cold
//! start, a CLI run) and kept for its life. Setting both is refused: which one seals would be a
//! guess. The secret holds the same text as the variable (one base64 key, or several separated by
//! commas, the sealing key first) as its string, or the 32 raw key bytes as its binary.
//!
//! A secret that cannot be read for good (no such secret, access denied, its KMS key refused) or
//! holds no valid key is `PROFILE_KEY_MISSING`, a configuration error naming the ARN; a failure
//! of the service itself (throttling after the SDK's retries, timeouts) is
//! `PROFILE_STORE_UNAVAILABLE`, worth trying again.

use crate::{ProfileKey, SessionStoreError, StoreConfig, crypto};
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

/// The variable naming the secret that holds the profile key.
pub const SECRET_ENV: &str = "PROFILE_KEY_SECRET_ARN";

/// The configured source of the profile key.
#[derive(Debug)]
pub enum KeySource {
    /// No key: archives are stored unencrypted.
    None,
    /// The key given inline.
    Inline(ProfileKey),
    /// A Secrets Manager secret, by ARN (or name).
    Secret(String),
}

impl KeySource {
    /// The source the two settings describe (each `None` when unset or blank).
    pub fn from_settings(inline: Option<&str>, secret: Option<&str>) -> Result<Self, SessionStoreError> {
        let blank = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        match (blank(inline), blank(secret)) {
            (Some(_), Some(_)) => Err(SessionStoreError::KeyMissing(format!(
                "both {} and {SECRET_ENV} are set; set one (the secret on AWS)",
                crypto::KEY_ENV
            ))),
            (Some(text), None) => ProfileKey::from_base64(&text)
                .map(Self::Inline)
                .map_err(|e| SessionStoreError::KeyMissing(e.to_string())),
            (None, Some(arn)) => Ok(Self::Secret(arn)),
            (None, None) => Ok(Self::None),
        }
    }

    /// The source `PROFILE_ENCRYPTION_KEY` and `PROFILE_KEY_SECRET_ARN` describe.
    pub fn from_env() -> Result<Self, SessionStoreError> {
        let inline = std::env::var(crypto::KEY_ENV).ok();
        let secret = std::env::var(SECRET_ENV).ok();
        Self::from_settings(inline.as_deref(), secret.as_deref())
    }
}

/// The key from the source `PROFILE_ENCRYPTION_KEY` or `PROFILE_KEY_SECRET_ARN` names, the secret
/// read now; `None` when neither is set.
pub async fn load_key(aws: &platform::SdkConfig) -> Result<Option<ProfileKey>, SessionStoreError> {
    match KeySource::from_env()? {
        KeySource::Secret(arn) => {
            read_secret(&aws_sdk_secretsmanager::Client::new(aws), &arn).await.map(Some)
        }
        KeySource::Inline(key) => Ok(Some(key)),
        KeySource::None => Ok(None),
    }
}

/// The key held by the secret `arn` (its current version).
pub async fn read_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<ProfileKey, SessionStoreError> {
    let out = secrets.get_secret_value().secret_id(arn).send().await.map_err(|e| unreadable(arn, e))?;
    if let Some(text) = out.secret_string() {
        return ProfileKey::from_base64(text).map_err(|e| {
            SessionStoreError::KeyMissing(format!("secret {arn} holds no valid profile key: {e}"))
        });
    }
    if let Some(blob) = out.secret_binary() {
        let bytes: [u8; 32] = blob.as_ref().try_into().map_err(|_| {
            SessionStoreError::KeyMissing(format!(
                "secret {arn} holds {} binary bytes; a profile key is 32",
                blob.as_ref().len()
            ))
        })?;
        return Ok(ProfileKey::from_bytes(bytes));
    }
    Err(SessionStoreError::KeyMissing(format!("secret {arn} has no value")))
}

fn unreadable(arn: &str, e: SdkError<GetSecretValueError>) -> SessionStoreError {
    let for_good = match &e {
        SdkError::ServiceError(service) => {
            matches!(
                service.err(),
                GetSecretValueError::ResourceNotFoundException(_)
                    | GetSecretValueError::DecryptionFailure(_)
                    | GetSecretValueError::InvalidRequestException(_)
                    | GetSecretValueError::InvalidParameterException(_)
            ) || service.raw().status().as_u16() == 400
        }
        _ => false,
    };
    if for_good {
        let reason = aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string();
        SessionStoreError::KeyMissing(format!("secret {arn} could not be read: {reason}"))
    } else {
        SessionStoreError::unavailable(format!("reading secret {arn}"), e)
    }
}

impl StoreConfig {
    /// Reads `PROFILE_BUCKET`, `TABLE_NAME`, `PROFILE_KEEP_GENERATIONS` (default 5) and the key
    /// from its configured source, the secret read now: call it once when the process starts.
    pub async fn load(aws: &platform::SdkConfig) -> Result<Self, SessionStoreError> {
        let mut config = Self::from_env_without_key()?;
        config.key = load_key(aws).await?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    #[test]
    fn an_inline_key_and_a_secret_together_are_refused_as_a_configuration_error() {
        let err = KeySource::from_settings(Some(KEY), Some("arn:aws:secretsmanager:x")).unwrap_err();
        assert_eq!(err.code().as_str(), "PROFILE_KEY_MISSING");
        assert!(err.to_string().contains(SECRET_ENV), "{err}");
    }

    #[test]
    fn blank_settings_mean_no_key_and_one_setting_names_its_source() {
        assert!(matches!(KeySource::from_settings(Some(" "), None), Ok(KeySource::None)));
        assert!(matches!(KeySource::from_settings(Some(KEY), Some("")), Ok(KeySource::Inline(_))));
        assert!(
            matches!(KeySource::from_settings(None, Some("arn:x")), Ok(KeySource::Secret(a)) if a == "arn:x")
        );
    }

    #[test]
    fn a_malformed_inline_key_is_a_missing_key_naming_the_variable() {
        let err = KeySource::from_settings(Some("not base64!"), None).unwrap_err();
        assert_eq!(err.code().as_str(), "PROFILE_KEY_MISSING");
        assert!(err.to_string().contains(crypto::KEY_ENV), "{err}");
    }
}
