//! Campaign and message rows to and from DynamoDB items.

use crate::StoreError;
use crate::model::{CampaignView, MessageEntry, MessageRow, NewCampaign, NewMessage, SentLink};
use domain::lifecycle::hold::Hold;
use domain::{AccountId, CampaignId, Counters, ErrorCode, MediaId, MessageSeq, Receipt, WaMessageId};
use table_layout::codec::{Fields, Item, n, s};
use table_layout::keys;

/// A message row read from its item.
pub(super) fn row_from_item(id: &CampaignId, item: &Item) -> Result<MessageRow, StoreError> {
    let f = Fields::of(item);
    let seq =
        keys::parse_message_sk(f.string(keys::SK)?).ok_or_else(|| f.malformed("sort key is not MSG#<n>"))?;
    let count = |field| f.count(field).map(|v| u32::try_from(v).unwrap_or(u32::MAX));
    Ok(MessageRow {
        campaign: id.clone(),
        seq,
        account: AccountId::parse(f.string("account")?).map_err(|e| f.malformed(e.to_string()))?,
        phone: f.string("phone")?.to_owned(),
        status: f.parsed("status")?,
        attempts: count("attempts")?,
        // Rows written before tries were counted: every attempt was a try.
        tries: if item.contains_key("tries") { count("tries")? } else { count("attempts")? },
        claimed_at: item.contains_key("claimed_at").then(|| f.number("claimed_at")).transpose()?,
        error: f.opt_string("error_code").and_then(ErrorCode::from_wire),
        verify_first: f.flag("verify_first"),
        round: count("round")?,
        lease_until: i64::try_from(f.count("lease_until")?).unwrap_or(i64::MAX),
        vars: f.string_map("vars"),
        media: match f.opt_string("media") {
            None => None,
            Some(raw) => Some(MediaId::parse(raw).map_err(|e| f.malformed(e.to_string()))?),
        },
        hold: match (item.contains_key("held_until"), item.contains_key("held_since")) {
            (true, true) => Some(Hold { until: f.number("held_until")?, since: f.number("held_since")? }),
            _ => None,
        },
    })
}

/// A message row with its timestamps, for the listing API.
pub(super) fn entry_from_item(id: &CampaignId, item: &Item) -> Result<MessageEntry, StoreError> {
    let f = Fields::of(item);
    Ok(MessageEntry {
        row: row_from_item(id, item)?,
        updated_at: f.opt_string("updated_at").map(str::to_owned),
        sent_at: f.opt_string("sent_at").map(str::to_owned),
        delivered_at: f.opt_string("delivered_at").map(str::to_owned),
        read_at: f.opt_string("read_at").map(str::to_owned),
    })
}

/// A sent message's link to its row, read from its item.
pub(super) fn link_from_item(account: &AccountId, item: &Item) -> Result<SentLink, StoreError> {
    let f = Fields::of(item);
    let sk = f.string(keys::SK)?;
    let wa_id = sk
        .strip_prefix(keys::SENT_MESSAGE_PREFIX)
        .and_then(|id| WaMessageId::parse(id).ok())
        .ok_or_else(|| f.malformed("sort key is not WAMSG#<id>"))?;
    let seq = u32::try_from(f.count("seq")?).map_err(|_| f.malformed("field 'seq' is not a row"))?;
    Ok(SentLink {
        account: account.clone(),
        wa_id,
        campaign: CampaignId::parse(f.string("campaign")?).map_err(|e| f.malformed(e.to_string()))?,
        seq: MessageSeq(seq),
        phone: f.string("phone")?.to_owned(),
        sent_at: f.number("sent_at")?,
        receipt: match f.opt_string("receipt") {
            None => None,
            Some(raw) => Some(
                Receipt::from_wire(raw).ok_or_else(|| f.malformed("field 'receipt' has an unknown value"))?,
            ),
        },
    })
}

/// The campaign row read from its item.
pub(super) fn view_from_item(id: &CampaignId, item: &Item) -> Result<CampaignView, StoreError> {
    let f = Fields::new(item, keys::campaign(id).to_string());
    Ok(CampaignView {
        id: id.clone(),
        name: f.string("name")?.to_owned(),
        account: AccountId::parse(f.string("account")?).map_err(|e| f.malformed(e.to_string()))?,
        status: f.parsed("status")?,
        counts: Counters {
            total: f.count("total")?,
            queued: f.count("queued")?,
            sending: f.count("sending")?,
            sent: f.count("sent")?,
            failed: f.count("failed")?,
            paused: f.count("paused")?,
            cancelled: f.count("cancelled")?,
            delivered: f.count("delivered")?,
            read: f.count("read")?,
        },
        reason: f.opt_string("reason").and_then(ErrorCode::from_wire),
        hint: f.opt_string("hint").map(str::to_owned),
        notice: f.opt_string("notice").and_then(ErrorCode::from_wire),
        template: f.string("template")?.to_owned(),
        webhook_url: f.opt_string("webhook_url").map(str::to_owned),
        send_at: f.opt_string("send_at").map(str::to_owned),
        waiting_until: item.contains_key("waiting_until").then(|| f.number("waiting_until")).transpose()?,
        attachments: match f.opt_string("attachments") {
            None => Vec::new(),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| f.malformed(format!("field 'attachments' is not a list of media: {e}")))?,
        },
        created_at: f.string("created_at")?.to_owned(),
        updated_at: f.string("updated_at")?.to_owned(),
    })
}

/// The item of a new campaign's row, with its starting status and counters.
pub(super) fn meta_item(c: &NewCampaign) -> Item {
    let opening = c.opening();
    let counts = opening.counts;
    let key = keys::campaign(&c.id);
    let mut item = Item::from([
        (keys::PK.into(), s(key.pk)),
        (keys::SK.into(), s(key.sk)),
        ("name".into(), s(c.name.clone())),
        ("account".into(), s(c.account.as_str())),
        ("template".into(), s(c.template.as_str())),
        ("status".into(), s(opening.status.as_str())),
        ("total".into(), n(counts.total)),
        ("queued".into(), n(counts.queued)),
        ("sending".into(), n(counts.sending)),
        ("sent".into(), n(counts.sent)),
        ("failed".into(), n(counts.failed)),
        ("paused".into(), n(counts.paused)),
        ("cancelled".into(), n(counts.cancelled)),
        ("created_at".into(), s(c.created_at.clone())),
        ("updated_at".into(), s(c.created_at.clone())),
        (keys::STATUS_INDEX_PK.into(), s(keys::account_campaigns_pk(&c.account))),
        (
            keys::STATUS_INDEX_SK.into(),
            s(keys::account_campaigns_sk(crate::model::created_unix_nanos(&c.created_at), &c.id)),
        ),
    ]);
    // Until the start has queued every sendable row's record (see `mark_issued`).
    if opening.counts.queued > 0
        && let Ok(created) =
            time::OffsetDateTime::parse(&c.created_at, &time::format_description::well_known::Rfc3339)
    {
        item.insert("issuing_since".into(), n(created.unix_timestamp()));
    }
    if let Some(url) = &c.webhook {
        item.insert("webhook_url".into(), s(url.as_str()));
    }
    if !c.attachments.is_empty() {
        item.insert("attachments".into(), s(serde_json::to_string(&c.attachments).unwrap_or_default()));
    }
    if let Some(at) = &c.send_at {
        item.insert("send_at".into(), s(at.rfc3339()));
        item.insert("send_at_unix".into(), n(at.unix()));
    }
    if let (Some(p), true) = (c.pause_reason(), opening.paused_reason) {
        item.insert("reason".into(), s(p.code.as_str()));
        item.insert("hint".into(), s(p.hint.clone()));
    }
    item
}

/// The item of one new message row; `held` says whether the campaign holds its rows (it starts
/// paused or scheduled: `c.opening().holds_rows()`, worked out once per campaign).
pub(super) fn message_item(c: &NewCampaign, m: &NewMessage, held: bool) -> Item {
    let status = m.initial_status(held);
    let key = keys::message(&c.id, m.seq);
    let mut item = Item::from([
        (keys::PK.into(), s(key.pk)),
        (keys::SK.into(), s(key.sk)),
        (keys::STATUS_INDEX_PK.into(), s(keys::status_index_pk(&c.id, status))),
        (keys::STATUS_INDEX_SK.into(), s(keys::status_index_sk(m.seq))),
        ("account".into(), s(c.account.as_str())),
        ("status".into(), s(status.as_str())),
        ("attempts".into(), n(0)),
        ("tries".into(), n(0)),
        ("round".into(), n(0)),
    ]);
    let phone = match &m.phone {
        Ok(p) => p.e164().to_owned(),
        Err(raw) => raw.clone(),
    };
    item.insert("phone".into(), s(phone));
    if let Some(media) = &m.media {
        item.insert("media".into(), s(media.as_str()));
    }
    match (m.refusal(), c.pause_reason()) {
        (Some(code), _) => {
            item.insert("error_code".into(), s(code.as_str()));
        }
        (None, Some(reason)) => {
            item.insert("error_code".into(), s(reason.code.as_str()));
        }
        (None, None) => {}
    }
    if !m.vars.is_empty() {
        let vars = m.vars.iter().map(|(k, v)| (k.clone(), s(v.clone()))).collect();
        item.insert("vars".into(), aws_sdk_dynamodb::types::AttributeValue::M(vars));
    }
    item
}
