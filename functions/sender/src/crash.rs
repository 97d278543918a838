//! Crash points: named places in the send path where a test build can make the process die, to
//! show that a crash between two steps neither loses nor duplicates a message.
//!
//! They exist only with the `failpoints` feature (the `fail` crate); without it every call here
//! compiles to nothing. They are configured at cold start from the `FAILPOINTS` environment
//! variable (`point=action;point=action`, the `fail` crate's syntax; the stack passes the
//! template parameter `SenderFailPoints`). Besides the crate's own actions (`panic`, `sleep(ms)`,
//! `print`, …) the action `return` kills the process the way a Lambda sandbox dies: the browser
//! it started is killed and the process aborts, so the invocation never answers and the queue
//! redelivers its records after the visibility timeout. `return` fires on the first attempt of
//! every row; `return(<seq>)` only on the first attempt of that row. A redelivered row is on a
//! later attempt, so a crash point never fires twice for one row and the campaign always ends.
//!
//! Example: `FAILPOINTS="sender::claimed=return(1);sender::clicked=return(3)"`.

use domain::QueuedMessage;

/// The variable the crash points are configured from (read by the `fail` crate at `setup`).
pub const FAILPOINTS_ENV: &str = "FAILPOINTS";

/// After a row was claimed (QUEUED/SENDING → SENDING under a lease), before anything is sent.
pub const CLAIMED: &str = "sender::claimed";
/// After WhatsApp acknowledged the send click, before SENT is written.
pub const CLICKED: &str = "sender::clicked";
/// After SENT is written, before the batch answers (so before the record is acknowledged).
pub const RECORDED: &str = "sender::recorded";

/// Holds the fail point configuration for the life of the process.
pub struct CrashPoints {
    #[cfg(feature = "failpoints")]
    _scenario: fail::FailScenario<'static>,
}

/// Reads `FAILPOINTS` (a no-op without the `failpoints` feature). Keep the value alive in `main`.
pub fn setup() -> CrashPoints {
    #[cfg(feature = "failpoints")]
    {
        let scenario = fail::FailScenario::setup();
        let configured = fail::list();
        if !configured.is_empty() {
            tracing::warn!(
                ?configured,
                variable = FAILPOINTS_ENV,
                "crash points configured; this build is for tests only"
            );
        }
        CrashPoints { _scenario: scenario }
    }
    #[cfg(not(feature = "failpoints"))]
    CrashPoints {}
}

/// Passes crash point `point` for message `m` on its attempt number `attempt`.
pub fn hit(point: &'static str, m: &QueuedMessage, attempt: u32) {
    #[cfg(feature = "failpoints")]
    fail::fail_point!(point, |arg: Option<String>| {
        let row = arg.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let this_row = row.is_none_or(|r| r.parse::<u32>().ok() == Some(m.seq.0));
        if attempt == 1 && this_row {
            die(point, m);
        }
    });
    #[cfg(not(feature = "failpoints"))]
    let _ = (point, m, attempt);
}

/// Dies like a Lambda sandbox: every process the sender started (the browser) is killed, then
/// the sender aborts without answering the invocation.
#[cfg(feature = "failpoints")]
fn die(point: &str, m: &QueuedMessage) -> ! {
    tracing::error!(point, campaign = %m.campaign_id, seq = %m.seq, "crash point reached: the process dies now");
    let me = std::process::id().to_string();
    let children: Vec<String> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_string_lossy().into_owned();
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid …`; comm may hold spaces, so split after its `)`.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.to_owned();
            (ppid == me).then_some(pid)
        })
        .collect();
    if !children.is_empty() {
        let _ = std::process::Command::new("kill").arg("-KILL").args(&children).status();
    }
    std::process::abort()
}
