//! From one write's old and new image to the events it means. Pure: the same change always
//! gives the same events with the same ids.
//!
//! A message row: reaching SENT is `message.sent`, reaching FAILED `message.failed` (with the
//! code), a first `delivered_at` `message.delivered` and a first `read_at` `message.read` (a
//! read seen without a delivery gives both, delivered first). A campaign row: its insert is
//! `campaign.accepted`, reaching PAUSED `campaign.paused` (and `session.expired` when the
//! session is why), PAUSED to RUNNING `campaign.resumed`, SCHEDULED to RUNNING
//! `campaign.started`, reaching COMPLETED
//! `campaign.completed`, and a new SESSION_RESTORED_FROM_BACKUP notice
//! `session.restored_from_backup`.

use campaign_store::{CampaignView, MessageEntry};
use domain::{CampaignStatus, ErrorCode, MessageStatus};
use webhook::{Event, EventData, EventKind, MessageError, event_id};

/// The events of one write to a message row (`old` is none for its insert); `recorded_at` is
/// when the stream recorded the write, the time of a change the row itself does not stamp (a
/// row that failed at acceptance).
pub fn message_events(old: Option<&MessageEntry>, new: &MessageEntry, recorded_at: &str) -> Vec<Event> {
    let row = &new.row;
    let reached = |status: MessageStatus| row.status == status && old.is_none_or(|o| o.row.status != status);
    let first =
        |was: Option<&Option<String>>, now: &Option<String>| now.is_some() && was.is_none_or(Option::is_none);
    let changed_at = || new.updated_at.clone().unwrap_or_else(|| recorded_at.to_owned());
    let mut out = Vec::new();
    let mut push = |kind: EventKind, status: &str, at: String, errors: Vec<MessageError>| {
        let seq = row.seq.0.to_string();
        out.push(Event {
            id: event_id(&[row.campaign.as_str(), &seq, kind.as_str(), &at]),
            kind,
            created_at: at.clone(),
            campaign_id: row.campaign.as_str().to_owned(),
            account: row.account.as_str().to_owned(),
            data: EventData::Message {
                seq: row.seq.0,
                recipient_id: row.phone.clone(),
                status: status.to_owned(),
                timestamp: at,
                attempts: row.attempts,
                errors,
            },
        });
    };
    if reached(MessageStatus::Sent) {
        push(EventKind::MessageSent, "sent", new.sent_at.clone().unwrap_or_else(changed_at), Vec::new());
    }
    if reached(MessageStatus::Failed) {
        let code = row.error.unwrap_or(ErrorCode::Internal);
        let errors = vec![MessageError { code: code.as_str().to_owned(), title: code.sentence().to_owned() }];
        push(EventKind::MessageFailed, "failed", changed_at(), errors);
    }
    let first_read = first(old.map(|o| &o.read_at), &new.read_at);
    if first(old.map(|o| &o.delivered_at), &new.delivered_at) || (first_read && new.delivered_at.is_none()) {
        let at = new.delivered_at.clone().or_else(|| new.read_at.clone()).unwrap_or_default();
        push(EventKind::MessageDelivered, "delivered", at, Vec::new());
    }
    if first_read {
        push(EventKind::MessageRead, "read", new.read_at.clone().unwrap_or_default(), Vec::new());
    }
    out
}

/// The events of one write to a campaign row (`old` is none for its insert).
pub fn campaign_events(old: Option<&CampaignView>, new: &CampaignView) -> Vec<Event> {
    let mut kinds = Vec::new();
    let status_changed = old.is_none_or(|o| o.status != new.status);
    if old.is_none() {
        kinds.push(EventKind::CampaignAccepted);
    }
    if status_changed {
        match new.status {
            CampaignStatus::Paused => {
                kinds.push(EventKind::CampaignPaused);
                if new.reason == Some(ErrorCode::SessionExpired) {
                    kinds.push(EventKind::SessionExpired);
                }
            }
            CampaignStatus::Running if old.is_some_and(|o| o.status == CampaignStatus::Paused) => {
                kinds.push(EventKind::CampaignResumed);
            }
            CampaignStatus::Running if old.is_some_and(|o| o.status == CampaignStatus::Scheduled) => {
                kinds.push(EventKind::CampaignStarted);
            }
            CampaignStatus::Completed => kinds.push(EventKind::CampaignCompleted),
            CampaignStatus::Running | CampaignStatus::Scheduled | CampaignStatus::Cancelled => {}
        }
    }
    let restored = Some(ErrorCode::SessionRestoredFromBackup);
    if new.notice == restored && old.is_none_or(|o| o.notice != restored) {
        kinds.push(EventKind::SessionRestoredFromBackup);
    }
    let paused = new.status == CampaignStatus::Paused;
    kinds
        .into_iter()
        .map(|kind| {
            let data = match kind {
                EventKind::SessionExpired => EventData::Session {
                    code: ErrorCode::SessionExpired.as_str().to_owned(),
                    hint: new.hint.clone(),
                },
                EventKind::SessionRestoredFromBackup => EventData::Session {
                    code: ErrorCode::SessionRestoredFromBackup.as_str().to_owned(),
                    hint: None,
                },
                _ => EventData::Campaign {
                    status: new.status.as_str().to_owned(),
                    counts: new.counts,
                    code: new.reason.filter(|_| paused).map(|c| c.as_str().to_owned()),
                    hint: new.hint.clone().filter(|_| paused),
                },
            };
            Event {
                id: event_id(&[new.id.as_str(), kind.as_str(), &new.updated_at]),
                kind,
                created_at: new.updated_at.clone(),
                campaign_id: new.id.as_str().to_owned(),
                account: new.account.as_str().to_owned(),
                data,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use campaign_store::MessageRow;
    use domain::{AccountId, CampaignId, Counters, MessageSeq};

    fn entry(status: MessageStatus) -> MessageEntry {
        MessageEntry {
            row: MessageRow {
                campaign: CampaignId::parse("c-1").unwrap_or_else(|e| panic!("{e}")),
                seq: MessageSeq(4),
                account: AccountId::parse("shop").unwrap_or_else(|e| panic!("{e}")),
                phone: "+4915112345678".into(),
                status,
                attempts: 1,
                tries: 1,
                claimed_at: None,
                error: None,
                verify_first: false,
                hold: None,
                media: None,
                round: 0,
                lease_until: 0,
                vars: Default::default(),
            },
            updated_at: Some("2026-12-04T10:00:00Z".into()),
            sent_at: None,
            delivered_at: None,
            read_at: None,
        }
    }

    fn view(status: CampaignStatus) -> CampaignView {
        CampaignView {
            id: CampaignId::parse("c-1").unwrap_or_else(|e| panic!("{e}")),
            name: "spring".into(),
            account: AccountId::parse("shop").unwrap_or_else(|e| panic!("{e}")),
            status,
            counts: Counters { total: 2, queued: 2, ..Counters::default() },
            reason: None,
            hint: None,
            notice: None,
            template: "hi".into(),
            webhook_url: None,
            send_at: None,
            waiting_until: None,
            attachments: Vec::new(),
            created_at: "2026-12-04T09:00:00Z".into(),
            updated_at: "2026-12-04T09:00:00Z".into(),
        }
    }

    fn kinds(events: &[Event]) -> Vec<EventKind> {
        events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn reaching_sent_is_one_sent_event_stamped_when_whatsapp_acknowledged_it() {
        let old = entry(MessageStatus::Sending);
        let new = MessageEntry { sent_at: Some("2026-12-04T10:00:01Z".into()), ..entry(MessageStatus::Sent) };
        let events = message_events(Some(&old), &new, "t9");
        assert_eq!(kinds(&events), [EventKind::MessageSent]);
        assert_eq!(events[0].created_at, "2026-12-04T10:00:01Z");
        assert!(matches!(&events[0].data, EventData::Message { status, seq: 4, .. } if status == "sent"));
        assert!(message_events(Some(&new), &new, "t9").is_empty(), "a rewrite of a sent row is no new event");
    }

    #[test]
    fn a_failed_row_names_its_code_even_when_it_failed_at_acceptance() {
        let new = MessageEntry {
            row: MessageRow { error: Some(ErrorCode::InvalidPhone), ..entry(MessageStatus::Failed).row },
            ..entry(MessageStatus::Failed)
        };
        let events = message_events(None, &new, "t9");
        assert_eq!(kinds(&events), [EventKind::MessageFailed]);
        assert_eq!(events[0].created_at, "2026-12-04T10:00:00Z", "the row's own time comes first");
        let unstamped = MessageEntry { updated_at: None, ..new.clone() };
        assert_eq!(message_events(None, &unstamped, "t9")[0].created_at, "t9");
        let EventData::Message { errors, .. } = &events[0].data else { panic!("not a message event") };
        assert_eq!(errors[0].code, "INVALID_PHONE");
        assert!(message_events(None, &entry(MessageStatus::Queued), "t9").is_empty());
    }

    #[test]
    fn receipts_are_an_event_each_the_first_time_and_a_read_without_a_delivery_gives_both() {
        let sent = MessageEntry { sent_at: Some("t0".into()), ..entry(MessageStatus::Sent) };
        let delivered = MessageEntry { delivered_at: Some("t1".into()), ..sent.clone() };
        let read = MessageEntry { read_at: Some("t2".into()), ..delivered.clone() };
        assert_eq!(kinds(&message_events(Some(&sent), &delivered, "t9")), [EventKind::MessageDelivered]);
        assert_eq!(kinds(&message_events(Some(&delivered), &read, "t9")), [EventKind::MessageRead]);
        assert!(message_events(Some(&read), &read, "t9").is_empty());
        let read_only = MessageEntry { read_at: Some("t2".into()), ..sent.clone() };
        assert_eq!(
            kinds(&message_events(Some(&sent), &read_only, "t9")),
            [EventKind::MessageDelivered, EventKind::MessageRead]
        );
    }

    #[test]
    fn the_same_change_gives_the_same_ids_and_a_later_one_new_ids() {
        let old = view(CampaignStatus::Running);
        let new =
            CampaignView { updated_at: "2026-12-04T11:00:00Z".into(), ..view(CampaignStatus::Completed) };
        let once = campaign_events(Some(&old), &new);
        assert_eq!(once, campaign_events(Some(&old), &new));
        let again = CampaignView { updated_at: "2026-12-04T12:00:00Z".into(), ..new.clone() };
        assert_ne!(once[0].id, campaign_events(Some(&old), &again)[0].id);
    }

    #[test]
    fn a_campaign_is_accepted_paused_for_its_session_resumed_and_completed() {
        let running = view(CampaignStatus::Running);
        assert_eq!(kinds(&campaign_events(None, &running)), [EventKind::CampaignAccepted]);
        let paused = CampaignView {
            reason: Some(ErrorCode::SessionExpired),
            hint: Some("Run `wacamp setup`".into()),
            updated_at: "t1".into(),
            ..view(CampaignStatus::Paused)
        };
        let events = campaign_events(Some(&running), &paused);
        assert_eq!(kinds(&events), [EventKind::CampaignPaused, EventKind::SessionExpired]);
        assert!(matches!(&events[0].data,
            EventData::Campaign { code: Some(c), hint: Some(_), .. } if c == "SESSION_EXPIRED"));
        let resumed = CampaignView { updated_at: "t2".into(), ..view(CampaignStatus::Running) };
        assert_eq!(kinds(&campaign_events(Some(&paused), &resumed)), [EventKind::CampaignResumed]);
        let done = CampaignView { updated_at: "t3".into(), ..view(CampaignStatus::Completed) };
        assert_eq!(kinds(&campaign_events(Some(&resumed), &done)), [EventKind::CampaignCompleted]);
        assert!(campaign_events(Some(&resumed), &resumed).is_empty(), "a counter change is no event");
    }

    #[test]
    fn a_scheduled_campaign_is_accepted_and_then_started_not_resumed() {
        let scheduled = view(CampaignStatus::Scheduled);
        assert_eq!(kinds(&campaign_events(None, &scheduled)), [EventKind::CampaignAccepted]);
        let started = CampaignView { updated_at: "t1".into(), ..view(CampaignStatus::Running) };
        assert_eq!(kinds(&campaign_events(Some(&scheduled), &started)), [EventKind::CampaignStarted]);
    }

    #[test]
    fn a_new_restored_from_backup_notice_is_one_session_event() {
        let running = view(CampaignStatus::Running);
        let noticed = CampaignView { notice: Some(ErrorCode::SessionRestoredFromBackup), ..running.clone() };
        assert_eq!(kinds(&campaign_events(Some(&running), &noticed)), [EventKind::SessionRestoredFromBackup]);
        assert!(campaign_events(Some(&noticed), &noticed).is_empty());
    }
}
