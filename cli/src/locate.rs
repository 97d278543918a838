//! Where the stack is: the CLI finds its API URL and stack outputs (bucket, table, queues) from
//! any directory, in this order:
//!
//! 1. a flag (`--api-url`) or the variable named for the value (`WACAMP_API_URL`, `TABLE_NAME`,
//!    `PROFILE_BUCKET`, `QUEUE_URL`, `DEAD_LETTER_QUEUE_URL`);
//! 2. the config file (`--config`, `WACAMP_CONFIG`, else `$XDG_CONFIG_HOME/wacamp/config.toml` or
//!    `~/.config/wacamp/config.toml`), written by `make deploy`: one table per stack with its
//!    outputs, and for a local stack the emulator's endpoint;
//! 3. `.local/stacks/<stack>.json` in the current directory (what `make deploy` also writes).
//!
//! The stack is `--stack` / `WACAMP_STACK`, else the config file's `stack`, else `wacamp-local`.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stack used when nothing names one.
pub const DEFAULT_STACK: &str = "wacamp-local";

/// The config file as `make deploy` writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The stack commands use when none is named.
    pub stack: Option<String>,
    /// Every deployed stack, by name.
    #[serde(default)]
    pub stacks: BTreeMap<String, StackEntry>,
}

/// One deployed stack.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackEntry {
    /// The AWS endpoint of a local stack (the emulator); absent for AWS itself.
    pub aws_endpoint_url: Option<String>,
    /// Its region.
    pub aws_region: Option<String>,
    /// The stack outputs (`HttpBaseUrl`, `TableName`, `ProfileBucketName`, `QueueUrl`, ...).
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
}

/// The stack the CLI talks to, and where each of its values came from.
#[derive(Debug, Clone)]
pub struct Located {
    /// The stack's name.
    pub stack: String,
    /// What the config file or the local outputs file say about it.
    pub entry: StackEntry,
    /// Where `entry` was read from (for the error that says what is missing).
    pub source: String,
}

impl Located {
    /// A value: the variable `env` when set, else the stack output `key`.
    pub fn output(&self, env: &str, key: &str) -> Result<String> {
        if let Ok(v) = std::env::var(env)
            && !v.is_empty()
        {
            return Ok(v);
        }
        self.entry.outputs.get(key).cloned().with_context(|| {
            format!(
                "set {env}, or deploy stack {} first (`make deploy` writes {key} to the config file); looked in {}",
                self.stack, self.source
            )
        })
    }

    /// The AWS configuration for the stack: the emulator's endpoint (and its test credentials,
    /// unless others are set) for a local stack, the standard chain otherwise.
    pub async fn aws(&self) -> platform::SdkConfig {
        let no_endpoint_set = std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty()).is_none();
        match (&self.entry.aws_endpoint_url, no_endpoint_set) {
            (Some(endpoint), true) => {
                platform::aws_config_at(endpoint, self.entry.aws_region.as_deref()).await
            }
            _ => platform::aws_config().await,
        }
    }
}

/// The default config file path.
pub fn default_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("wacamp/config.toml"))
}

/// Finds the stack: `stack_flag` (from `--stack` or `WACAMP_STACK`), the config file at
/// `config_path` (when it exists), then `.local/stacks/<stack>.json` under `cwd`.
pub fn locate(stack_flag: Option<&str>, config_path: Option<&Path>, cwd: &Path) -> Result<Located> {
    let config = match config_path {
        Some(path) if path.exists() => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let parsed: ConfigFile = toml::from_str(&text)
                .with_context(|| format!("{} is not a wacamp config", path.display()))?;
            Some((path.to_path_buf(), parsed))
        }
        _ => None,
    };
    let stack = stack_flag
        .map(str::to_owned)
        .or_else(|| config.as_ref().and_then(|(_, c)| c.stack.clone()))
        .unwrap_or_else(|| DEFAULT_STACK.to_owned());
    if let Some((path, c)) = &config
        && let Some(entry) = c.stacks.get(&stack)
    {
        return Ok(Located { stack, entry: entry.clone(), source: path.display().to_string() });
    }
    let legacy = cwd.join(format!(".local/stacks/{stack}.json"));
    let mut searched = config.as_ref().map(|(p, _)| format!("{}, ", p.display())).unwrap_or_default();
    searched.push_str(&legacy.display().to_string());
    let entry = match std::fs::read_to_string(&legacy) {
        Ok(text) => {
            let outputs: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", legacy.display()))?;
            let outputs =
                outputs.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned()))).collect();
            StackEntry { outputs, ..StackEntry::default() }
        }
        Err(_) => StackEntry::default(),
    };
    Ok(Located { stack, entry, source: searched })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(dir)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    const CONFIG: &str = r#"
stack = "demo"
[stacks.demo]
aws_endpoint_url = "http://127.0.0.1:4566"
outputs = { HttpBaseUrl = "http://api/demo", TableName = "t-demo" }
[stacks.other.outputs]
HttpBaseUrl = "http://api/other"
"#;

    #[test]
    fn the_config_file_names_the_default_stack_and_a_flag_picks_another() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let config = write(dir.path(), "config.toml", CONFIG);
        let found = locate(None, Some(&config), dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((found.stack.as_str(), found.entry.outputs["TableName"].as_str()), ("demo", "t-demo"));
        assert_eq!(found.entry.aws_endpoint_url.as_deref(), Some("http://127.0.0.1:4566"));
        let other = locate(Some("other"), Some(&config), dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(other.entry.outputs["HttpBaseUrl"], "http://api/other");
    }

    #[test]
    fn without_a_config_entry_the_local_outputs_file_is_read_and_a_missing_value_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(
            dir.path(),
            ".local/stacks/wacamp-local.json",
            r#"{"HttpBaseUrl": "http://api/local", "N": 3}"#,
        );
        let found =
            locate(None, Some(&dir.path().join("absent.toml")), dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.entry.outputs["HttpBaseUrl"], "http://api/local");
        let err = found.output("WACAMP_SURELY_UNSET_VARIABLE", "TableName").unwrap_err().to_string();
        assert!(
            err.contains("set WACAMP_SURELY_UNSET_VARIABLE") && err.contains("wacamp-local.json"),
            "{err}"
        );
    }

    #[test]
    fn a_config_file_with_unknown_keys_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let config = write(dir.path(), "config.toml", "stak = \"x\"\n");
        let err = locate(None, Some(&config), dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains("config.toml is not a wacamp config"), "{err:#}");
    }
}
