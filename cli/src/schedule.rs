//! `wacamp reschedule`: a scheduled campaign's start moved (`--at`), or the campaign started now
//! (`--now`), through `PATCH /campaigns/{id}`.

use crate::api::{Api, call, print_json};
use anyhow::Result;
use api_types::{ScheduleRequest, ScheduleResult};
use domain::CampaignId;

/// Moves the start of `campaign` to `at`, or (none) starts it now, and prints the outcome.
pub async fn run(api: &Api, campaign: &CampaignId, at: Option<&str>, json: bool) -> Result<()> {
    let body = ScheduleRequest { send_at: at.map(str::to_owned) };
    let out: ScheduleResult = call(api.patch_builder(&format!("/campaigns/{campaign}")).json(&body)).await?;
    if json {
        return print_json(&out);
    }
    match (out.status, &out.send_at) {
        (domain::CampaignStatus::Scheduled, Some(at)) => println!("campaign {campaign} starts at {at}"),
        (status, _) => println!("campaign {campaign} started ({status}): {} messages queued", out.requeued),
    }
    Ok(())
}
