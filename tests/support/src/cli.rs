//! The `wacamp` binary built by `make build`, pointed at a deployed stack.

use crate::stack::Stack;
use std::process::Command;

/// A `wacamp` command with `args`, its environment naming `stack` (API, key, bucket, table,
/// queue) and the local AWS.
pub fn wacamp_command(stack: &Stack, args: &[&str]) -> Command {
    let bin = crate::stack::root().join("target/debug/wacamp");
    assert!(bin.exists(), "{} is missing: run `make build`", bin.display());
    let mut command = Command::new(bin);
    command
        .args(args)
        .env("WACAMP_API_URL", &stack.http_base_url)
        .env("WACAMP_API_KEY", crate::http::API_KEY)
        .env("PROFILE_BUCKET", &stack.profile_bucket_name)
        .env("TABLE_NAME", &stack.table_name)
        .env("QUEUE_URL", &stack.queue_url)
        .env("AWS_ENDPOINT_URL", crate::aws::endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("RUST_BACKTRACE");
    command
}

/// Runs `wacamp` with `args` against `stack`; returns (success, stdout, stderr).
pub fn wacamp(stack: &Stack, args: &[&str]) -> (bool, String, String) {
    let out = wacamp_command(stack, args).output().unwrap_or_else(|e| panic!("running wacamp: {e}"));
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.success(), text(out.stdout), text(out.stderr))
}
