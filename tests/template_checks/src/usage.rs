//! The AWS calls a package makes: its `src/` and that of every workspace crate it depends on
//! (normal dependencies only), scanned for the SDK's fluent calls (`.put_item()`), each named by
//! the IAM action that authorises it.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The IAM action that authorises an SDK operation (by its fluent method name), for the
/// services the stack uses; `None` for any other method.
pub fn iam_action(operation: &str) -> Option<&'static str> {
    Some(match operation {
        "get_item" | "transact_get_items" => "dynamodb:GetItem",
        "put_item" => "dynamodb:PutItem",
        "update_item" => "dynamodb:UpdateItem",
        "delete_item" => "dynamodb:DeleteItem",
        "query" => "dynamodb:Query",
        "scan" => "dynamodb:Scan",
        "batch_write_item" => "dynamodb:BatchWriteItem",
        "batch_get_item" => "dynamodb:BatchGetItem",
        "transact_write_items" => "dynamodb:TransactWriteItems",
        "send_message" | "send_message_batch" => "sqs:SendMessage",
        "receive_message" => "sqs:ReceiveMessage",
        "delete_message" | "delete_message_batch" => "sqs:DeleteMessage",
        "change_message_visibility" | "change_message_visibility_batch" => "sqs:ChangeMessageVisibility",
        "get_queue_attributes" => "sqs:GetQueueAttributes",
        "purge_queue" => "sqs:PurgeQueue",
        "get_object" | "head_object" => "s3:GetObject",
        // A copy reads its source (GetObject, granted for the lookups before it) and writes here.
        "put_object" | "copy_object" => "s3:PutObject",
        "delete_object" | "delete_objects" => "s3:DeleteObject",
        "list_objects_v2" => "s3:ListBucket",
        "list_object_versions" => "s3:ListBucketVersions",
        "publish" => "sns:Publish",
        "get_secret_value" => "secretsmanager:GetSecretValue",
        "put_metric_data" => "cloudwatch:PutMetricData",
        _ => return None,
    })
}

/// The workspace's crates and what their code calls.
#[derive(Debug)]
pub struct CodeUsage {
    /// Package name → its directory.
    dirs: BTreeMap<String, PathBuf>,
    /// Package name → its normal dependencies that are workspace crates.
    deps: BTreeMap<String, Vec<String>>,
}

impl CodeUsage {
    /// Reads the workspace at `root` (its `Cargo.toml` members).
    pub fn read(root: &Path) -> Result<Self, String> {
        let manifest = read_toml(&root.join("Cargo.toml"))?;
        let members = manifest
            .get("workspace")
            .and_then(|w| w.get("members"))
            .and_then(toml::Value::as_array)
            .ok_or("the workspace Cargo.toml lists no members")?;
        let mut dirs = BTreeMap::new();
        let mut raw_deps = BTreeMap::new();
        for member in members.iter().filter_map(toml::Value::as_str) {
            let dir = root.join(member);
            let package = read_toml(&dir.join("Cargo.toml"))?;
            let name = package
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(toml::Value::as_str)
                .ok_or_else(|| format!("{member}/Cargo.toml has no package name"))?
                .to_owned();
            let deps: Vec<String> = package
                .get("dependencies")
                .and_then(toml::Value::as_table)
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default();
            dirs.insert(name.clone(), dir);
            raw_deps.insert(name, deps);
        }
        let deps = raw_deps
            .into_iter()
            .map(|(name, list)| (name, list.into_iter().filter(|d| dirs.contains_key(d)).collect()))
            .collect();
        Ok(Self { dirs, deps })
    }

    /// The package and every workspace crate it depends on, transitively.
    pub fn closure(&self, package: &str) -> Result<BTreeSet<String>, String> {
        if !self.dirs.contains_key(package) {
            return Err(format!("no workspace package named {package}"));
        }
        let mut seen = BTreeSet::new();
        let mut todo = vec![package.to_owned()];
        while let Some(next) = todo.pop() {
            if seen.insert(next.clone()) {
                todo.extend(self.deps.get(&next).into_iter().flatten().cloned());
            }
        }
        Ok(seen)
    }

    /// The IAM actions of the AWS calls in the code of `package` and its workspace dependencies.
    pub fn actions(&self, package: &str) -> Result<BTreeSet<&'static str>, String> {
        let call = Regex::new(r"\.([a-z0-9_]+)\(\)").expect("a valid pattern");
        let mut actions = BTreeSet::new();
        for name in self.closure(package)? {
            for file in rust_files(&self.dirs[&name].join("src"))? {
                let source =
                    std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
                actions.extend(call.captures_iter(&source).filter_map(|c| iam_action(&c[1])));
            }
        }
        Ok(actions)
    }
}

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.parse().map_err(|e| format!("{}: {e}", path.display()))
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else { continue };
        for entry in entries {
            let path = entry.map_err(|e| format!("{}: {e}", next.display()))?.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_and_head_calls_are_authorised_by_their_single_actions() {
        assert_eq!(iam_action("send_message_batch"), Some("sqs:SendMessage"));
        assert_eq!(iam_action("head_object"), Some("s3:GetObject"));
        assert_eq!(iam_action("build"), None);
    }
}
