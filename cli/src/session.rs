//! `wacamp session list|check|restore`: the account's stored profile generations, the health of
//! its session, and promoting an older generation back to current.
//!
//! `list` and `restore` read and move the session store directly (like `setup`); `check` asks the
//! HTTP API, which reports what the sender and the keeper last saw.

use anyhow::{Context, Result, bail};
use domain::AccountId;
use session_store::{
    GenerationId, GenerationInfo, ProfileStore, S3ProfileStore, SessionPointers, StoreConfig,
};
use time::format_description::well_known::Rfc3339;

/// Where the generations and the pointer live.
pub struct StoreLocation {
    /// The AWS configuration of the stack.
    pub aws: platform::SdkConfig,
    /// The profile bucket.
    pub bucket: String,
    /// The campaign table (it also holds the pointer and the generation items).
    pub table: String,
}

fn account(raw: &str) -> Result<AccountId> {
    AccountId::parse(raw).with_context(|| format!("--account '{raw}'"))
}

async fn store(at: &StoreLocation) -> Result<S3ProfileStore> {
    let aws = &at.aws;
    let s3 = platform::s3_client(aws);
    let mut config = StoreConfig::new(&at.bucket, &at.table);
    config.key = session_store::key_source::load_key(aws).await.context("the profile key")?;
    Ok(S3ProfileStore::new(s3, aws_sdk_dynamodb::Client::new(aws), config))
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1048576.0)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn line(g: &GenerationInfo, current: Option<&GenerationId>) -> String {
    let mut flags = Vec::new();
    if Some(&g.id) == current {
        flags.push("current");
    }
    if g.bad {
        flags.push("bad");
    }
    if g.encrypted {
        flags.push("encrypted");
    }
    format!(
        "{} {}  {}  {:<8}  {:>8}  {}",
        if Some(&g.id) == current { "*" } else { " " },
        g.id,
        g.created.format(&Rfc3339).unwrap_or_default(),
        g.state.as_str(),
        size(g.size),
        flags.join(", ")
    )
}

/// Prints the account's generations, newest first, marking the current one.
pub async fn list(at: &StoreLocation, raw_account: &str) -> Result<()> {
    let account = account(raw_account)?;
    let store = store(at).await?;
    let pointer = store.pointer(&account).await.context("reading the session pointer")?;
    let generations = store.list(&account).await.context("listing the generations")?;
    if pointer.is_none() && generations.is_empty() {
        bail!(
            "account {account} has no stored session\nhint: {}",
            domain::ErrorCode::ProfileNotFound.hint_for(account.as_str(), "<campaign>")
        );
    }
    let current = pointer.as_ref().and_then(|p| p.current.as_ref());
    println!(
        "account {account}: session {}, {} generation(s)",
        pointer.as_ref().map_or("MISSING", |p| p.state.as_str()),
        generations.len()
    );
    for g in &generations {
        println!("{}", line(g, current));
    }
    Ok(())
}

/// Makes an older generation current again (it must not be marked bad unless `force`).
pub async fn restore(at: &StoreLocation, raw_account: &str, raw_generation: &str, force: bool) -> Result<()> {
    let account = account(raw_account)?;
    let id = GenerationId::parse(raw_generation)
        .map_err(|_| anyhow::anyhow!("--generation '{raw_generation}' is not a generation id; `wacamp session list --account {account}` lists them"))?;
    let store = store(at).await?;
    let info = store
        .inspect(&account, &id)
        .await
        .with_context(|| format!("generation {id}; `wacamp session list --account {account}` lists them"))?;
    if info.bad && !force {
        bail!(
            "generation {id} is marked bad (it failed to verify or to log in); pass --force to promote it anyway"
        );
    }
    let pointer = store.promote(&account, &id, None).await.context("promoting the generation")?;
    println!(
        "account {account}: generation {id} is current again (session {}, pointer version {})",
        pointer.state, pointer.version
    );
    println!("paused campaigns continue with `wacamp resume <campaign>`");
    Ok(())
}

/// Prints the session health the API reports.
pub fn print_health(h: &api_types::SessionHealthBody) {
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "never".to_owned());
    println!(
        "account {}: {} (generation {}, pointer version {})",
        h.account,
        h.state,
        h.current_generation.as_deref().unwrap_or("none"),
        h.pointer_version
    );
    println!("  last check {}  last backup {}", text(&h.last_check), text(&h.last_backup));
    match h.since_last_ready_seconds {
        Some(s) => {
            println!("  last login {} ({} d {} h ago)", text(&h.last_ready), s / 86_400, s / 3600 % 24)
        }
        None => println!("  last login never recorded"),
    }
    if let Some(s) = h.link_age_seconds {
        println!("  linked {} ({} d ago)", text(&h.linked_at), s / 86_400);
    }
    if let Some(w) = &h.warm_up {
        println!(
            "  warming up: day {}, at most {} messages today; the ramp ends {}",
            w.day, w.daily_cap, w.ends_at
        );
    }
    let g = &h.generations;
    let describe = |g: &api_types::GenerationSummary| {
        let bad = if g.bad { ", bad" } else { "" };
        format!("{} ({}{bad})", g.id, g.state)
    };
    print!("  generations: {} stored, {} marked bad", g.count, g.bad);
    if let (Some(newest), Some(oldest)) = (&g.newest, &g.oldest) {
        print!("; newest {}, oldest {}", describe(newest), describe(oldest));
    }
    println!();
    if let Some(w) = &h.warning {
        println!("  warning {}: {}", w.code, w.message);
        println!("  hint: {}", w.hint);
    }
    if let Some(hint) = &h.hint {
        println!("  hint: {hint}");
    }
}
