//! Reading an account's `SESSION` item, for the profile store and for the components that need
//! the session's health and nothing else (`DynamoSessionPointers`).

use super::items::{parse_pointer, session_key};
use crate::SessionStoreError;
use crate::model::SessionPointer;
use async_trait::async_trait;
use domain::AccountId;
use platform::retry;
use table_layout::keys;

/// The session pointers alone, read from the table: for the components that need an account's
/// session health and nothing else of its profile (no S3 access at all).
pub struct DynamoSessionPointers {
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoSessionPointers {
    /// Reads the pointers of `table` through `dynamo`.
    pub fn new(dynamo: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { dynamo, table: table.into() }
    }
}

#[async_trait]
impl crate::SessionPointers for DynamoSessionPointers {
    async fn pointer(&self, account: &AccountId) -> Result<Option<SessionPointer>, SessionStoreError> {
        read_pointer(&self.dynamo, &self.table, account).await
    }
}

/// The account's `SESSION` item, read consistently.
pub(super) async fn read_pointer(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    account: &AccountId,
) -> Result<Option<SessionPointer>, SessionStoreError> {
    let request =
        dynamo.get_item().table_name(table).set_key(Some(session_key(account))).consistent_read(true);
    let out = retry::call(|| request.clone().send())
        .await
        .map_err(|e| SessionStoreError::unavailable("DynamoDB GetItem SESSION", e))?;
    match out.item {
        None => Ok(None),
        Some(item) => parse_pointer(&item, &keys::session(account).to_string()).map(Some),
    }
}
