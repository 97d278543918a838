//! Chats and sending: opening a chat, sending, acknowledging, and the record of deliveries.

use super::*;

impl World {
    /// Whether a phone (digits) can receive messages.
    pub fn is_on_whatsapp(&self, phone: &str) -> bool {
        normalise_phone(phone).is_some_and(|p| !self.not_on_whatsapp.contains(&p))
    }

    /// The chat list of the page's account: every recipient it has messaged, newest last message first.
    pub fn chats(&self, page_id: &str) -> Vec<ChatSummary> {
        let Some((account, _, _)) = self.page_account(page_id) else {
            return Vec::new();
        };
        let mut latest: BTreeMap<&str, (usize, &Delivery)> = BTreeMap::new();
        for (index, stored) in self.messages.iter().enumerate() {
            let d = &stored.delivery;
            if d.account == account {
                latest.insert(&d.to, (index, d));
            }
        }
        let mut rows: Vec<(usize, ChatSummary)> = latest
            .into_iter()
            .map(|(phone, (index, d))| {
                (index, ChatSummary { phone: phone.to_owned(), last_text: d.summary() })
            })
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        rows.into_iter().map(|(_, row)| row).collect()
    }

    /// Records a message `account` sent to `phone` before the test began (an earlier campaign's),
    /// at Unix millisecond `unix_ms`: it shows in the chat's history and counts as a delivery.
    pub fn record_earlier(
        &mut self,
        account: &str,
        phone: &str,
        text: &str,
        unix_ms: u64,
        now: Instant,
    ) -> Result<(), SimError> {
        let to = normalise_phone(phone)
            .ok_or_else(|| SimError::BadRequest(format!("not a phone number: {phone}")))?;
        self.messages.push(Stored {
            delivery: Delivery {
                id: random_id("3EB0"),
                account: account.to_owned(),
                device: String::new(),
                generation: 0,
                to,
                text: text.to_owned(),
                clock_ms: millis(self.clock),
                unix_ms,
                media: None,
            },
            delivered_at: now,
            read_at: None,
            shown: None,
        });
        Ok(())
    }

    /// Earlier outgoing messages of the page's account to `phone`, oldest first.
    pub fn history(&self, page_id: &str, phone: &str, now: Instant) -> Vec<HistoryMessage> {
        let Some((account, _, _)) = self.page_account(page_id) else {
            return Vec::new();
        };
        self.messages
            .iter()
            .filter(|s| s.delivery.account == account && s.delivery.to == phone)
            .map(|s| HistoryMessage {
                id: s.delivery.id.clone(),
                text: s.delivery.text.clone(),
                status: s.ack(now).as_str(),
                unix_ms: s.delivery.unix_ms,
                media: s.delivery.media.clone(),
            })
            .collect()
    }

    /// The page sends `text` to `to` under message id `id`; a repeated id is acknowledged, not redelivered.
    pub fn send(
        &mut self,
        page_id: &str,
        to: &str,
        text: &str,
        id: &str,
        now: Instant,
    ) -> Result<SendAccepted, SendRefusal> {
        let sender = self.sender(page_id, to)?;
        if text.trim().is_empty() {
            return Err(SendRefusal::Empty);
        }
        Ok(self.record_send(sender, text, None, id, now))
    }

    /// Who sends from `page_id` to `to`, if that page may send and the number is on WhatsApp.
    pub(super) fn sender(&mut self, page_id: &str, to: &str) -> Result<Sender, SendRefusal> {
        match self.page_status(page_id) {
            PageStatus::Active => {}
            PageStatus::Conflict => return Err(SendRefusal::Conflict),
            other => return Err(SendRefusal::LoggedOut(other)),
        }
        let Some(phone) = normalise_phone(to).filter(|p| !self.not_on_whatsapp.contains(p)) else {
            return Err(SendRefusal::NotOnWhatsApp);
        };
        let Some((account, device, generation)) = self.page_account(page_id) else {
            return Err(SendRefusal::LoggedOut(PageStatus::Unknown));
        };
        Ok(Sender { account, device, generation, phone })
    }

    /// Records a checked message (unless its id was seen from that device, or a queued fault drops
    /// it before delivery) and says which send fault to play.
    pub(super) fn record_send(
        &mut self,
        sender: Sender,
        text: &str,
        media: Option<MediaDelivery>,
        id: &str,
        now: Instant,
    ) -> SendAccepted {
        let Sender { account, device, generation, phone } = sender;
        let id = if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
            id.to_owned()
        } else {
            random_id("msg")
        };
        if self.messages.iter().any(|s| s.delivery.id == id && s.delivery.device == device) {
            return SendAccepted { id, fault: None, delivered: true };
        }
        let mut fault = self.take_fault(Fault::is_send_fault);
        if fault.is_none() && self.never_ack {
            fault = Some(Fault::NoAck);
        }
        if fault == Some(Fault::DropBeforeDelivery) {
            return SendAccepted { id, fault, delivered: false };
        }
        let delivered_at = now + self.latency.server_ack + self.latency.delivery;
        let read_at = self
            .read_after
            .filter(|_| !self.read_receipts_off.contains(&phone))
            .map(|after| delivered_at + after);
        self.messages.push(Stored {
            delivery: Delivery {
                id: id.clone(),
                account,
                device,
                generation,
                to: phone,
                text: text.to_owned(),
                clock_ms: millis(self.clock),
                unix_ms: unix_ms_now(),
                media,
            },
            delivered_at,
            read_at,
            shown: None,
        });
        SendAccepted { id, fault, delivered: true }
    }

    /// When the delivery receipt of message `id` (sent from `page_id`'s account) is due.
    pub fn delivered_at(&self, page_id: &str, id: &str) -> Option<Instant> {
        let (account, _, _) = self.page_account(page_id)?;
        self.messages
            .iter()
            .find(|s| s.delivery.id == id && s.delivery.account == account)
            .map(|s| s.delivered_at)
    }

    /// The receipt the page shows on message `id` (sent from `page_id`'s account) at `now`.
    pub fn ack(&self, page_id: &str, id: &str, now: Instant) -> Option<Ack> {
        let (account, _, _) = self.page_account(page_id)?;
        self.messages
            .iter()
            .find(|s| s.delivery.id == id && s.delivery.account == account)
            .map(|s| s.ack(now))
    }

    /// The recipient `phone` opens the chats with it now: every message that reached it shows as
    /// read from then on, unless it turned read receipts off. Answers how many messages are read.
    pub fn read_chat(&mut self, phone: &str, now: Instant) -> Result<usize, SimError> {
        let to = normalise_phone(phone)
            .ok_or_else(|| SimError::BadRequest(format!("not a phone number: {phone}")))?;
        if self.read_receipts_off.contains(&to) {
            return Ok(0);
        }
        let mut read = 0;
        for stored in self.messages.iter_mut().filter(|s| s.delivery.to == to && s.delivered_at <= now) {
            stored.read_at = Some(stored.read_at.map_or(now, |at| at.min(now)));
            read += 1;
        }
        Ok(read)
    }

    /// Message `id` shows `ack` from now on, whatever it showed before (a receipt that arrives out
    /// of order or twice).
    pub fn show_ack(&mut self, id: &str, ack: Ack) -> Result<(), SimError> {
        let stored = self
            .messages
            .iter_mut()
            .find(|s| s.delivery.id == id)
            .ok_or_else(|| SimError::BadRequest(format!("no message {id}")))?;
        stored.shown = Some(ack);
        Ok(())
    }

    /// Recipient `phone` turns read receipts off (`enabled` false) or on again.
    pub fn set_read_receipts(&mut self, phone: &str, enabled: bool) -> Result<String, SimError> {
        let to = normalise_phone(phone)
            .ok_or_else(|| SimError::BadRequest(format!("not a phone number: {phone}")))?;
        if enabled {
            self.read_receipts_off.remove(&to);
        } else {
            self.read_receipts_off.insert(to.clone());
            for stored in self.messages.iter_mut().filter(|s| s.delivery.to == to) {
                stored.read_at = None;
            }
        }
        Ok(to)
    }

    /// Recipients read each message `after` it reached them (messages sent from now on), or only
    /// when told (`None`).
    pub fn set_read_after(&mut self, after: Option<Duration>) {
        self.read_after = after;
    }
}

/// Who sends a message: the page's account and device, and the recipient's digits.
#[derive(Debug, Clone)]
pub(super) struct Sender {
    account: String,
    device: String,
    generation: u64,
    phone: String,
}

impl Delivery {
    /// What the chat list shows of it: the text, else (a media message without caption) "Photo" or
    /// the document's file name, as WhatsApp does.
    fn summary(&self) -> String {
        match &self.media {
            Some(media) if self.text.trim().is_empty() => match media.kind {
                MediaKind::Image => "Photo".to_owned(),
                MediaKind::Document => media.file_name.clone(),
            },
            _ => self.text.clone(),
        }
    }
}

impl Stored {
    /// What the page shows at `now`: a forced receipt, else the furthest one due.
    fn ack(&self, now: Instant) -> Ack {
        if let Some(shown) = self.shown {
            return shown;
        }
        match self.read_at {
            Some(at) if now >= at && now >= self.delivered_at => Ack::Read,
            _ if now >= self.delivered_at => Ack::Delivered,
            _ => Ack::Sent,
        }
    }
}
