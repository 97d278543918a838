//! `wacamp`: the operator's command line. Starts campaigns from a CSV and follows their
//! progress through the HTTP API; links accounts and manages their stored sessions.
//!
//! One concept, kept whole: the command line's definition (clap's `Command`, one variant per
//! subcommand with its help) and the dispatch of each variant to its module. Every subcommand's
//! work lives in its own module; splitting the definition would only scatter its help text.

mod api;
mod campaigns;
mod export;
mod keep;
mod local;
mod locate;
mod media;
mod messages;
mod opt_out;
mod qr_png;
mod recipients;
mod reconcile;
mod schedule;
mod session;
mod setup;
mod start;
mod watch;
mod window;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "wacamp", version, about = "WhatsApp campaigns through WhatsApp Web, on AWS Lambda")]
struct Cli {
    /// Base URL of the HTTP API; by default the stack's, from the config file (written by
    /// `make deploy`) or `.local/stacks/<stack>.json`.
    #[arg(long, env = "WACAMP_API_URL", global = true)]
    api_url: Option<String>,
    /// The config file naming the deployed stacks (default: $XDG_CONFIG_HOME/wacamp/config.toml,
    /// or ~/.config/wacamp/config.toml).
    #[arg(long, env = "WACAMP_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The API key (sent as x-api-key).
    #[arg(long, env = "WACAMP_API_KEY", global = true, hide_env_values = true)]
    api_key: Option<String>,
    /// The deployed stack to use (default: the config file's `stack`, else wacamp-local).
    #[arg(long, env = "WACAMP_STACK", global = true)]
    stack: Option<String>,
    /// Print the API's answers as JSON (one object per line) for `start`, `status`, `messages`
    /// and `campaigns`.
    #[arg(long, global = true)]
    json: bool,
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
        /// Post the campaign's events (sent, delivered, read, failed, paused, …) to this URL,
        /// signed with the deployment's webhook secret (default: the deployment's webhook URL).
        #[arg(long)]
        webhook: Option<String>,
        /// Start at this time instead of now (RFC 3339 with an offset, e.g.
        /// 2027-01-15T09:00:00+01:00); until then the campaign is SCHEDULED and nothing is sent.
        #[arg(long)]
        at: Option<String>,
        /// The start's idempotency key (by default derived from everything sent, so the same
        /// command run again returns the campaign already started); a new value starts the same
        /// list again as a new campaign.
        #[arg(long)]
        idempotency_key: Option<String>,
        /// A JPEG or PNG image (at most 5 MB) or a PDF (at most 100 MB) every recipient gets, the
        /// message its caption (at most 1,024 characters); a CSV column `media` gives a
        /// recipient its own file instead (a path relative to the CSV).
        #[arg(long)]
        media: Option<PathBuf>,
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
        /// Where to write the QR code as a PNG as well, removed when setup ends (default:
        /// wacamp-qr-<account>.png in the temp directory).
        #[arg(long)]
        qr_png: Option<PathBuf>,
    },
    /// Move a scheduled campaign's start time, or start it now.
    Reschedule {
        /// The campaign id.
        campaign: String,
        /// The new start time (RFC 3339 with an offset).
        #[arg(long, conflicts_with = "now", required_unless_present = "now")]
        at: Option<String>,
        /// Start it now.
        #[arg(long)]
        now: bool,
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
        #[arg(long, ignore_case = true, value_parser = message_status())]
        status: Option<String>,
        /// Messages fetched per request (1 to 1000).
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1000))]
        page_size: u32,
    },
    /// Write a campaign's report as CSV to stdout (row, phone, variables, status, code, attempts,
    /// times), fetched page by page: `wacamp export <id> > report.csv`.
    Export {
        /// The campaign id.
        campaign: String,
        /// Only messages in this status.
        #[arg(long, ignore_case = true, value_parser = message_status())]
        status: Option<String>,
        /// Rows fetched per request (1 to 1000).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
        page_size: u32,
    },
    /// An account's stored WhatsApp Web session: generations, health, restoring an older one.
    #[command(subcommand)]
    Session(SessionCommand),
    /// An account's opt-out list: numbers its campaigns never message.
    #[command(subcommand)]
    OptOut(opt_out::OptOutCommand),
    /// An account's sending window: the hours its messages may reach a recipient, in the
    /// recipient's local time (quiet hours outside it).
    #[command(subcommand)]
    Window(window::WindowCommand),
    /// Bring up everything locally from a source checkout: the local AWS, the WhatsApp Web
    /// simulator (unless --wa-url), the stack deployed against it and recorded in the config
    /// file; prints the URLs and keeps the simulator running until Ctrl-C.
    Local {
        /// A WhatsApp Web to deploy against instead of starting the simulator (e.g. the real one).
        #[arg(long, env = "WA_URL")]
        wa_url: Option<String>,
        /// The simulator's port.
        #[arg(long, default_value_t = 8790)]
        sim_port: u16,
        /// The source checkout (default: the current directory or one above it).
        #[arg(long)]
        source: Option<PathBuf>,
    },
    /// List an account's campaigns, newest first.
    Campaigns {
        /// The account.
        #[arg(long)]
        account: String,
        /// Show at most this many (default: all).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show a campaign's progress. With --watch: a bar on a terminal, and the exit code says how
    /// it ended: 0 over (completed or cancelled), 3 paused (the hint says what to run), 1 error
    /// or timeout.
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

/// `--status`: one of the message statuses as the API names them (any case).
fn message_status() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(domain::MessageStatus::ALL.iter().map(|s| s.as_str()))
}

#[tokio::main]
async fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let config = cli.config.clone().or_else(locate::default_config_path);
    let cwd = std::env::current_dir().context("the current directory")?;
    let here = locate::locate(cli.stack.as_deref(), config.as_deref(), &cwd)?;
    // The AWS configuration is loaded only by the commands that talk to AWS directly (the region
    // chain may otherwise ask the instance metadata service on every HTTP-only command).
    let store = |aws: platform::SdkConfig| -> Result<session::StoreLocation> {
        Ok(session::StoreLocation {
            aws,
            bucket: here.output("PROFILE_BUCKET", "ProfileBucketName")?,
            table: here.output("TABLE_NAME", "TableName")?,
        })
    };
    match &cli.command {
        Command::Setup { account, force, wa_url, timeout, no_resume, qr_png } => {
            let aws = here.aws().await;
            let at = store(aws.clone())?;
            let qr_png = qr_png.clone().unwrap_or_else(|| {
                let safe: String =
                    account.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
                std::env::temp_dir().join(format!("wacamp-qr-{safe}.png"))
            });
            return setup::run(setup::SetupArgs {
                aws,
                account: account.clone(),
                force: *force,
                wa_url: wa_url.clone(),
                timeout: Duration::from_secs(*timeout),
                bucket: at.bucket,
                table: at.table,
                queue_url: here.output("QUEUE_URL", "QueueUrl")?,
                resume: !*no_resume,
                qr_png,
            })
            .await
            .map(|()| ExitCode::SUCCESS);
        }
        Command::Local { wa_url, sim_port, source } => {
            let api_key = cli
                .api_key
                .clone()
                .context("set WACAMP_API_KEY (or pass --api-key): the key the local stack will accept")?;
            let config = config.clone().context("no config file: set WACAMP_CONFIG or HOME")?;
            return local::run(local::LocalArgs {
                stack: here.stack.clone(),
                wa_url: wa_url.clone(),
                sim_port: *sim_port,
                config,
                source: source.clone(),
                api_key,
            })
            .await
            .map(|()| ExitCode::SUCCESS);
        }
        Command::Session(SessionCommand::List { account }) => {
            return session::list(&store(here.aws().await)?, account).await.map(|()| ExitCode::SUCCESS);
        }
        Command::Session(SessionCommand::Restore { account, generation, force }) => {
            return session::restore(&store(here.aws().await)?, account, generation, *force)
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        Command::Session(SessionCommand::Keep { account, wa_url }) => {
            let queue_url = here.output("QUEUE_URL", "QueueUrl")?;
            return keep::run(&store(here.aws().await)?, queue_url, account, wa_url.clone())
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        Command::Reconcile { campaign, grace, stale_claim } => {
            return reconcile::run(reconcile::ReconcileArgs {
                aws: here.aws().await,
                campaign: campaign.clone(),
                table: here.output("TABLE_NAME", "TableName")?,
                queue_url: here.output("QUEUE_URL", "QueueUrl")?,
                dead_letter_queue_url: here.output("DEAD_LETTER_QUEUE_URL", "DeadLetterQueueUrl")?,
                grace: Duration::from_secs(*grace),
                stale_claim: Duration::from_secs(*stale_claim),
            })
            .await
            .map(|()| ExitCode::SUCCESS);
        }
        _ => {}
    }
    let base = match &cli.api_url {
        Some(url) => url.clone(),
        None => here.output("WACAMP_API_URL", "HttpBaseUrl")?,
    };
    let base = base.trim_end_matches('/').to_owned();
    let key = cli.api_key.clone().context("no API key: set WACAMP_API_KEY or pass --api-key")?;
    let api = api::Api::new(base, &key)?;
    let json = cli.json;
    match &cli.command {
        Command::Start {
            csv,
            account,
            template,
            name,
            region,
            strict,
            webhook,
            at,
            idempotency_key,
            media,
        } => {
            let args = start::StartArgs {
                csv: csv.clone(),
                account: account.clone(),
                template: template.clone(),
                name: name.clone(),
                region: region.clone(),
                strict: *strict,
                webhook: webhook.clone(),
                send_at: at.clone(),
                idempotency_key: idempotency_key.clone(),
                media: media.clone(),
            };
            start::run(&api, &args, json).await?;
        }
        // Local commands: they talk to the store directly and returned above.
        Command::Setup { .. }
        | Command::Local { .. }
        | Command::Reconcile { .. }
        | Command::Session(
            SessionCommand::List { .. } | SessionCommand::Restore { .. } | SessionCommand::Keep { .. },
        ) => {}
        Command::Session(SessionCommand::Check { account }) => {
            let account =
                domain::AccountId::parse(account).with_context(|| format!("--account '{account}'"))?;
            let health: api_types::SessionHealthBody =
                api.get(&format!("/accounts/{account}/session")).await?;
            session::print_health(&health);
        }
        Command::OptOut(command) => opt_out::run(&api, command).await?,
        Command::Window(command) => window::run(&api, command, json).await?,
        Command::Campaigns { account, limit } => {
            let account =
                domain::AccountId::parse(account).with_context(|| format!("--account '{account}'"))?;
            campaigns::list(&api, account.as_str(), *limit, json).await?;
        }
        Command::Messages { campaign, status, page_size } => {
            let campaign = campaign_id(campaign)?;
            let status = status.as_deref().map(str::to_ascii_uppercase);
            messages::walk(&api, campaign.as_str(), status.as_deref(), *page_size, json).await?;
        }
        Command::Export { campaign, status, page_size } => {
            let campaign = campaign_id(campaign)?;
            let status = status.as_deref().map(str::to_ascii_uppercase);
            let mut out = std::io::stdout().lock();
            let rows =
                export::export(&api, campaign.as_str(), status.as_deref(), *page_size, &mut out).await?;
            eprintln!("{rows} message(s)");
        }
        Command::Reschedule { campaign, at, now: _ } => {
            schedule::run(&api, &campaign_id(campaign)?, at.as_deref(), json).await?;
        }
        Command::Resume { campaign, retry_failed } => {
            let campaign = campaign_id(campaign)?;
            let out: api_types::ResumeResult =
                api.post(&format!("/campaigns/{campaign}/resume?retry_failed={retry_failed}")).await?;
            println!("campaign {campaign} resumed: {} messages queued again", out.requeued);
        }
        Command::Cancel { campaign } => {
            let campaign = campaign_id(campaign)?;
            let out: api_types::CancelResult = api.post(&format!("/campaigns/{campaign}/cancel")).await?;
            println!("campaign {campaign} {}: {} messages will not be sent", out.status, out.cancelled);
        }
        Command::Status { campaign, watch, timeout } => {
            let args = watch::WatchArgs {
                campaign: campaign_id(campaign)?.to_string(),
                watch: *watch,
                timeout: Duration::from_secs(*timeout),
                json,
            };
            return watch::run(&api, &args).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A campaign id given on the command line, checked before it goes into a URL.
fn campaign_id(raw: &str) -> Result<domain::CampaignId> {
    domain::CampaignId::parse(raw).with_context(|| format!("campaign id '{raw}'"))
}
