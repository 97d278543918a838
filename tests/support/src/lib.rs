//! The test world shared by every integration and end-to-end test: the local AWS (started by
//! `make local-up` or `make test`), fresh tables and buckets, the stack deployed from
//! `infra/template.yaml` with the real `bootstrap` binaries, the WhatsApp Web simulator and
//! Chromium. Missing parts fail the test loudly, naming the command that fixes them; nothing here
//! ever skips a test.
//!
//! - [`aws`]: the endpoint, SDK clients with few retries, fresh tables and buckets.
//! - [`campaigns`]: starting campaigns through the API, waiting on their status, counting deliveries.
//! - [`cli`]: the `wacamp` binary pointed at a stack.
//! - [`fixtures`]: campaigns built one way for every test.
//! - [`stack`]: deploying a stack and reading its outputs.
//! - [`http`]: calls with the test stacks' API key.
//! - [`lambda_sandbox`]: an OCI image run as Lambda runs it (read-only root, `/tmp` only), its memory measured.
//! - [`runtime_api`]: Lambda's Runtime API, for a `bootstrap` run outside Lambda.
//! - [`wait`]: waiting for a condition with a timeout (never a sleep as synchronisation).
//! - [`webhooks`]: a webhook endpoint that records what it gets and fails when told.
//! - [`logs`]: a deployed function's log lines, as the local AWS keeps them.
//! - [`world`]: a stack wired to its own simulator, and linking an account the way `wacamp setup` does.

pub mod aws;
pub mod campaigns;
pub mod cli;
pub mod fixtures;
pub mod http;
pub mod lambda_sandbox;
pub mod logs;
pub mod queue;
pub mod runtime_api;
pub mod stack;
pub mod wait;
pub mod webhooks;
pub mod world;

pub use aws::{endpoint, fresh_bucket, fresh_table, s3, sdk_config, sdk_config_at, unique};
pub use campaigns::{delete_campaign, delivered, numbered, start_campaign, wait_status};
pub use cli::{wacamp, wacamp_command, wacamp_in_terminal};
pub use http::{API_KEY, get_json, http, post_json};
pub use stack::{Stack, deploy, function_configuration, function_variables, invoke, root, stack, try_invoke};
pub use wait::eventually;
pub use world::{World, link_account, link_account_sealed};
