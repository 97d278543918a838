//! `wacamp status [--watch]`: a campaign's progress. Watching, on a terminal it draws a bar with
//! the rate and the time left, elsewhere it prints a line whenever something moved; it ends
//! when nothing more happens without the operator, with a one-line summary.
//!
//! Exit codes of a watch: 0 when the campaign is over (completed or cancelled), [`EXIT_PAUSED`]
//! when it paused (its reason and the commands to continue are printed), 1 on an error or when
//! the watch timed out.

use crate::api::{Api, print_json};
use anyhow::{Result, bail};
use api_types::{CampaignStatusBody, EXIT_PAUSED};
use domain::CampaignStatus;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How `status` was asked to run.
pub struct WatchArgs {
    /// The campaign.
    pub campaign: String,
    /// Keep polling until it settles.
    pub watch: bool,
    /// Give up after this long.
    pub timeout: Duration,
    /// Print each status as JSON instead.
    pub json: bool,
}

/// One line of counts.
pub fn line(s: &CampaignStatusBody) -> String {
    let c = &s.counts;
    format!(
        "{} [{}] {}%  sent {} (delivered {}, read {})  failed {}  paused {}  queued {}  sending {}  of {}",
        s.campaign_id,
        s.status,
        s.percent,
        c.sent,
        c.delivered,
        c.read,
        c.failed,
        c.paused,
        c.queued,
        c.sending,
        c.total
    )
}

/// The last line of a watch.
pub fn summary(s: &CampaignStatusBody) -> String {
    let c = &s.counts;
    format!(
        "campaign {} {}: {} sent, {} failed, {} cancelled, {} paused of {}",
        s.campaign_id, s.status, c.sent, c.failed, c.cancelled, c.paused, c.total
    )
}

fn print_reason(s: &CampaignStatusBody) {
    if let (CampaignStatus::Scheduled, Some(at)) = (s.status, &s.send_at) {
        println!(
            "  starts at {at} (`wacamp reschedule {} --at <time>` moves it, `--now` starts it now)",
            s.campaign_id
        );
    }
    if let Some(until) = &s.waiting_until {
        println!("  {}", waiting(s, until));
    }
    if let (Some(reason), Some(hint)) = (s.reason, &s.hint) {
        println!("  paused: {reason} ({})\n  to continue: {hint}", reason.sentence());
    }
    if let Some(notice) = s.notice {
        println!("  notice: {notice} ({})", notice.sentence());
    }
}

/// What waits for the recipients' sending window, and until when.
fn waiting(s: &CampaignStatusBody, until: &str) -> String {
    format!(
        "{} queued wait for their recipients' sending window ({}) until {until}; `wacamp window show --account {}` shows it",
        s.counts.queued,
        domain::ErrorCode::QuietHours,
        s.account
    )
}

/// The exit code of a watch that ended on `s`.
pub fn exit_code(s: &CampaignStatusBody) -> ExitCode {
    if s.status == CampaignStatus::Paused { ExitCode::from(EXIT_PAUSED as u8) } else { ExitCode::SUCCESS }
}

/// Runs `status`.
pub async fn run(api: &Api, args: &WatchArgs) -> Result<ExitCode> {
    let path = format!("/campaigns/{}", args.campaign);
    let first: CampaignStatusBody = api.get(&path).await?;
    if !args.watch {
        if args.json {
            print_json(&first)?;
        } else {
            println!("{}", line(&first));
            print_reason(&first);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| new_bar(&first));
    let deadline = Instant::now() + args.timeout;
    let mut last_line = String::new();
    let mut s = first;
    loop {
        if let Some(bar) = &bar {
            bar.set_length(s.counts.total);
            bar.set_position(s.done());
            bar.set_message(match (s.status, &s.send_at) {
                (CampaignStatus::Scheduled, Some(at)) => format!("SCHEDULED  starts at {at}"),
                _ if s.waiting_until.is_some() => format!(
                    "{}  sent {}, {} waiting for their sending window until {}",
                    s.status,
                    s.counts.sent,
                    s.counts.queued,
                    s.waiting_until.as_deref().unwrap_or_default()
                ),
                _ => format!(
                    "{}  sent {} failed {} paused {}",
                    s.status, s.counts.sent, s.counts.failed, s.counts.paused
                ),
            });
        } else if args.json {
            print_json(&s)?;
        } else {
            let now = line(&s);
            if now != last_line {
                println!("{now}");
                last_line = now;
            }
        }
        if s.settled() {
            break;
        }
        if Instant::now() >= deadline {
            if let Some(bar) = &bar {
                bar.abandon();
            }
            bail!("campaign {} still in progress after {} s", args.campaign, args.timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        s = api.get(&path).await?;
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if !args.json {
        println!("{}", summary(&s));
        print_reason(&s);
    }
    Ok(exit_code(&s))
}

fn new_bar(s: &CampaignStatusBody) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(s.counts.total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{prefix} [{bar:30}] {pos}/{len} {percent}%  {per_sec}  eta {eta}  {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(s.campaign_id.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(status: CampaignStatus) -> CampaignStatusBody {
        CampaignStatusBody {
            campaign_id: domain::CampaignId::parse("c-1").unwrap_or_else(|e| panic!("{e}")),
            name: "n".into(),
            account: domain::AccountId::parse("shop").unwrap_or_else(|e| panic!("{e}")),
            status,
            counts: domain::Counters { total: 3, sent: 2, paused: 1, ..Default::default() },
            percent: 66.6,
            reason: None,
            hint: None,
            notice: None,
            send_at: None,
            waiting_until: None,
            media: Vec::new(),
            created_at: "2026-12-01T00:00:00Z".into(),
            updated_at: "2026-12-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_watch_that_ends_paused_exits_with_the_documented_code() {
        assert_eq!(exit_code(&body(CampaignStatus::Paused)), ExitCode::from(3));
        assert_eq!(exit_code(&body(CampaignStatus::Completed)), ExitCode::SUCCESS);
        assert_eq!(
            summary(&body(CampaignStatus::Paused)),
            "campaign c-1 PAUSED: 2 sent, 0 failed, 0 cancelled, 1 paused of 3"
        );
    }

    #[test]
    fn queued_messages_waiting_for_their_window_say_until_when_and_where_to_look() {
        let held = CampaignStatusBody {
            counts: domain::Counters { total: 3, queued: 2, sent: 1, ..Default::default() },
            waiting_until: Some("2027-01-15T08:00:00Z".into()),
            ..body(CampaignStatus::Running)
        };
        assert_eq!(
            waiting(&held, "2027-01-15T08:00:00Z"),
            "2 queued wait for their recipients' sending window (QUIET_HOURS) until 2027-01-15T08:00:00Z; `wacamp window show --account shop` shows it"
        );
        assert!(!held.settled(), "a watch keeps waiting for them");
    }

    #[test]
    fn a_scheduled_campaign_keeps_a_watch_waiting_even_with_nothing_queued() {
        let scheduled = CampaignStatusBody {
            counts: domain::Counters { total: 3, paused: 3, ..Default::default() },
            send_at: Some("2027-01-15T08:00:00Z".into()),
            ..body(CampaignStatus::Scheduled)
        };
        assert!(!scheduled.settled());
        assert!(body(CampaignStatus::Paused).settled());
    }
}
