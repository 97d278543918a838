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

/// Runs `wacamp` with `args` against `stack` in a pseudo-terminal (util-linux `script`), as an
/// operator at a terminal would; returns its exit code and everything the terminal showed.
pub fn wacamp_in_terminal(stack: &Stack, args: &[&str]) -> (Option<i32>, String) {
    let inner = wacamp_command(stack, args);
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(&inner.get_program().to_string_lossy());
    for arg in inner.get_args() {
        line.push(' ');
        line.push_str(&quote(&arg.to_string_lossy()));
    }
    let mut command = Command::new("script");
    command.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    for (key, value) in inner.get_envs() {
        match value {
            Some(v) => command.env(key, v),
            None => command.env_remove(key),
        };
    }
    command.env("TERM", "xterm-256color").env("COLUMNS", "120").env("LINES", "40");
    let out = command.output().unwrap_or_else(|e| panic!("running wacamp under `script`: {e}"));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}
