//! `wacamp`: the operator's command line. Starts campaigns from a CSV and follows their
//! progress through the HTTP API; links accounts and manages their stored sessions.

mod keep;
mod messages;
mod recipients;
mod reconcile;
mod session;
mod setup;
mod start;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "wacamp", version, about = "WhatsApp campaigns through WhatsApp Web, on AWS Lambda")]
struct Cli {
    /// Base URL of the HTTP API; by default read from `.local/stacks/<stack>.json` (written by `make deploy`).
    #[arg(long, env = "WACAMP_API_URL", global = true)]
    api_url: Option<String>,
    /// The API key (sent as x-api-key).
    #[arg(long, env = "WACAMP_API_KEY", global = true, hide_env_values = true)]
    api_key: Option<String>,
    /// The locally deployed stack whose URL to use when --api-url is not given.
    #[arg(long, env = "WACAMP_STACK", default_value = "wacamp-local", global = true)]
    stack: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a campaign from a CSV with a `phone` column (other columns are template variables).
    Start {
        /// The recipients CSV.
        #[arg(long)]
        csv: PathBuf,
        /// The sending account (as set up with `wacamp setup`).
        #[arg(long)]
        account: String,
        /// The message, with `{{column}}` placeholders.
        #[arg(long)]
        template: String,
        /// A name to recognise the campaign by.
        #[arg(long, default_value = "campaign")]
        name: String,
        /// Region for national numbers (ISO code, e.g. DE).
        #[arg(long)]
        region: Option<String>,
        /// Refuse the whole list when any number is invalid.
        #[arg(long)]
        strict: bool,
        /// The start's idempotency key (by default derived from everything sent, so the same
        /// command run again returns the campaign already started); a new value starts the same
        /// list again as a new campaign.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Compare campaigns with their rows and repair what fell through: counters drifted from the
    /// rows, messages stranded QUEUED or SENDING, dead-lettered records, campaigns left open.
    Reconcile {
        /// Only this campaign (default: every campaign not over yet, and the dead-letter queue).
        campaign: Option<String>,
        /// Seconds a QUEUED message may sit unmoved before its record counts as lost.
        #[arg(long, default_value_t = 600)]
        grace: u64,
        /// Seconds past its claim lease a SENDING message counts as stranded.
        #[arg(long, default_value_t = 3600)]
        stale_claim: u64,
    },
    /// Link a WhatsApp account: scan the QR code with the phone; the session is stored for the sender.
    Setup {
        /// The account to link.
        #[arg(long)]
        account: String,
        /// Link a new device even when the stored session still works.
        #[arg(long)]
        force: bool,
        /// WhatsApp Web's address (default: the real one, or WA_URL).
        #[arg(long)]
        wa_url: Option<String>,
        /// Seconds to wait for the scan.
        #[arg(long, default_value_t = 180)]
        timeout: u64,
        /// Do not resume the account's campaigns that paused because its session stopped working.
        #[arg(long)]
        no_resume: bool,
    },
    /// Queue a paused campaign's messages again (after `wacamp setup` fixed the session).
    Resume {
        /// The campaign id.
        campaign: String,
        /// Also queue again the messages that failed with a retryable code (one more attempt each).
        #[arg(long)]
        retry_failed: bool,
    },
    /// Stop a campaign: what is not sent yet is never sent (a message being sent finishes).
    Cancel {
        /// The campaign id.
        campaign: String,
    },
    /// List a campaign's messages (phone, status, code, attempts), walking every page.
    Messages {
        /// The campaign id.
        campaign: String,
        /// Only messages in this status.
        #[arg(long, ignore_case = true, value_parser = ["QUEUED", "SENDING", "SENT", "FAILED", "PAUSED", "CANCELLED"])]
        status: Option<String>,
        /// Messages fetched per request (1 to 1000).
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1000))]
        page_size: u32,
    },
    /// An account's stored WhatsApp Web session: generations, health, restoring an older one.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Show a campaign's progress.
    Status {
        /// The campaign id printed by `wacamp start`.
        campaign: String,
        /// Keep polling until nothing more will happen without you (all sent, failed, or paused).
        #[arg(long)]
        watch: bool,
        /// Give up watching after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
enum SessionCommand {
    /// List the stored profile generations, newest first (`*` marks the current one).
    List {
        /// The account.
        #[arg(long)]
        account: String,
    },
    /// Show the session's health as the API reports it: state, generations, last check and backup.
    Check {
        /// The account.
        #[arg(long)]
        account: String,
    },
    /// Run the session keeper once for the account, here: check its session under the account's
    /// browser lease, store a fresh generation when it logs in, mark it EXPIRED when it does not.
    Keep {
        /// The account.
        #[arg(long)]
        account: String,
        /// WhatsApp Web's address (default: the real one, or WA_URL).
        #[arg(long)]
        wa_url: Option<String>,
    },
    /// Make an older generation current again (e.g. one that still logs in).
    Restore {
        /// The account.
        #[arg(long)]
        account: String,
        /// The generation id, as `wacamp session list` shows it.
        #[arg(long)]
        generation: String,
        /// Promote it even when it is marked bad.
        #[arg(long)]
        force: bool,
    },
}

fn api_url(cli: &Cli) -> Result<String> {
    if let Some(url) = &cli.api_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let path = PathBuf::from(format!(".local/stacks/{}.json", cli.stack));
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("no --api-url given and {} is missing: run `make deploy`", path.display())
    })?;
    let outputs: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    outputs["HttpBaseUrl"]
        .as_str()
        .map(|s| s.trim_end_matches('/').to_owned())
        .with_context(|| format!("{} has no HttpBaseUrl", path.display()))
}

pub(crate) async fn call(req: reqwest::RequestBuilder) -> Result<Value> {
    let resp = req.send().await.context("the API did not answer")?;
    let status = resp.status();
    let body: Value = resp.json().await.context("the API answered with something that is not JSON")?;
    if !status.is_success() {
        bail!(
            "{} {}: {}\nhint: {}",
            status.as_u16(),
            body["code"].as_str().unwrap_or("ERROR"),
            body["message"].as_str().unwrap_or(""),
            body["hint"].as_str().unwrap_or("")
        );
    }
    Ok(body)
}

fn print_status(s: &Value) {
    let c = &s["counts"];
    println!(
        "{} [{}] {}%  sent {}  failed {}  paused {}  queued {}  sending {}  of {}",
        s["campaign_id"].as_str().unwrap_or("?"),
        s["status"].as_str().unwrap_or("?"),
        s["percent"],
        c["sent"],
        c["failed"],
        c["paused"],
        c["queued"],
        c["sending"],
        c["total"]
    );
    if let (Some(reason), Some(hint)) = (s["reason"].as_str(), s["hint"].as_str()) {
        println!("  {reason}: {hint}");
    }
}

fn settled(s: &Value) -> bool {
    let c = &s["counts"];
    c["queued"].as_u64() == Some(0) && c["sending"].as_u64() == Some(0)
}

/// A value from the local stack's outputs (`make deploy`), for commands that talk to AWS directly.
fn stack_output(cli: &Cli, env: &str, key: &str) -> Result<String> {
    if let Ok(v) = std::env::var(env)
        && !v.is_empty()
    {
        return Ok(v);
    }
    let path = PathBuf::from(format!(".local/stacks/{}.json", cli.stack));
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("set {env}, or deploy locally first (`make deploy`, writes {})", path.display())
    })?;
    let outputs: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    outputs[key].as_str().map(str::to_owned).with_context(|| format!("{} has no {key}", path.display()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let store = || -> Result<session::StoreLocation> {
        Ok(session::StoreLocation {
            bucket: stack_output(&cli, "PROFILE_BUCKET", "ProfileBucketName")?,
            table: stack_output(&cli, "TABLE_NAME", "TableName")?,
        })
    };
    match &cli.command {
        Command::Setup { account, force, wa_url, timeout, no_resume } => {
            let at = store()?;
            let resume_into =
                if *no_resume { None } else { Some(stack_output(&cli, "QUEUE_URL", "QueueUrl")?) };
            return setup::run(setup::SetupArgs {
                account: account.clone(),
                force: *force,
                wa_url: wa_url.clone(),
                timeout: Duration::from_secs(*timeout),
                bucket: at.bucket,
                table: at.table,
                resume_into,
            })
            .await;
        }
        Command::Session(SessionCommand::List { account }) => return session::list(&store()?, account).await,
        Command::Session(SessionCommand::Restore { account, generation, force }) => {
            return session::restore(&store()?, account, generation, *force).await;
        }
        Command::Session(SessionCommand::Keep { account, wa_url }) => {
            let queue_url = stack_output(&cli, "QUEUE_URL", "QueueUrl")?;
            return keep::run(&store()?, queue_url, account, wa_url.clone()).await;
        }
        Command::Reconcile { campaign, grace, stale_claim } => {
            return reconcile::run(reconcile::ReconcileArgs {
                campaign: campaign.clone(),
                table: stack_output(&cli, "TABLE_NAME", "TableName")?,
                queue_url: stack_output(&cli, "QUEUE_URL", "QueueUrl")?,
                dead_letter_queue_url: stack_output(&cli, "DEAD_LETTER_QUEUE_URL", "DeadLetterQueueUrl")?,
                grace: Duration::from_secs(*grace),
                stale_claim: Duration::from_secs(*stale_claim),
            })
            .await;
        }
        _ => {}
    }
    let base = api_url(&cli)?;
    let key = cli.api_key.clone().context("no API key: set WACAMP_API_KEY or pass --api-key")?;
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&key)
        .context("the API key has characters a header cannot carry")?;
    value.set_sensitive(true);
    headers.insert("x-api-key", value);
    let http =
        reqwest::Client::builder().timeout(Duration::from_secs(30)).default_headers(headers).build()?;
    match &cli.command {
        Command::Start { csv, account, template, name, region, strict, idempotency_key } => {
            let args = start::StartArgs {
                csv: csv.clone(),
                account: account.clone(),
                template: template.clone(),
                name: name.clone(),
                region: region.clone(),
                strict: *strict,
                idempotency_key: idempotency_key.clone(),
            };
            start::run(&http, &base, &args).await?;
        }
        // Local commands: they talk to the store directly and returned above.
        Command::Setup { .. }
        | Command::Reconcile { .. }
        | Command::Session(
            SessionCommand::List { .. } | SessionCommand::Restore { .. } | SessionCommand::Keep { .. },
        ) => {}
        Command::Session(SessionCommand::Check { account }) => {
            let health = call(http.get(format!("{base}/accounts/{account}/session"))).await?;
            session::print_health(&health);
        }
        Command::Messages { campaign, status, page_size } => {
            let status = status.as_deref().map(str::to_ascii_uppercase);
            messages::walk(&http, &base, campaign, status.as_deref(), *page_size).await?;
        }
        Command::Resume { campaign, retry_failed } => {
            let out =
                call(http.post(format!("{base}/campaigns/{campaign}/resume?retry_failed={retry_failed}")))
                    .await?;
            println!("campaign {campaign} resumed: {} messages queued again", out["requeued"]);
        }
        Command::Cancel { campaign } => {
            let out = call(http.post(format!("{base}/campaigns/{campaign}/cancel"))).await?;
            println!(
                "campaign {campaign} {}: {} messages will not be sent",
                out["status"].as_str().unwrap_or("?"),
                out["cancelled"]
            );
        }
        Command::Status { campaign, watch, timeout } => {
            let url = format!("{base}/campaigns/{campaign}");
            let deadline = Instant::now() + Duration::from_secs(*timeout);
            loop {
                let s = call(http.get(&url)).await?;
                print_status(&s);
                if !watch || settled(&s) {
                    break;
                }
                if Instant::now() >= deadline {
                    bail!("still in progress after {timeout} s");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    Ok(())
}
