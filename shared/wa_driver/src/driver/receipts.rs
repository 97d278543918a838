//! Receipts: what the outgoing messages of the open chat show (the server has it, it reached the
//! phone, it was read), by WhatsApp's id of each message.

use super::*;
use serde::Deserialize;

/// The most outgoing messages of one chat read at once (the newest ones).
const MAX_SEEN: usize = 50;

/// The acknowledgement an outgoing message shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ack {
    /// The clock: the server does not have it yet.
    Pending,
    /// One check: the server has it.
    Sent,
    /// Two checks: it reached the recipient's phone.
    Delivered,
    /// Blue checks: the recipient read it.
    Read,
}

/// One outgoing message of the open chat.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SeenMessage {
    /// WhatsApp's id of it, as the chat shows it.
    pub id: String,
    /// What it shows.
    pub ack: Ack,
}

/// What the open chat shows of its outgoing messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ChatReceipts {
    /// The message this driver sent last, while its chat is the open one.
    pub just_sent: Option<SeenMessage>,
    /// The chat's newest outgoing messages that carry an id (at most 50), oldest first; the
    /// message just sent among them.
    pub messages: Vec<SeenMessage>,
}

impl WaDriver {
    /// The receipts of the open chat, after waiting up to `wait` in the page for the message
    /// just sent to show it was read (no wait when `wait` is zero, or when no message of this
    /// driver is on screen). A recipient who turned read receipts off never shows a read, so a
    /// wait may run out: what the chat shows then is the answer.
    pub fn receipts(&self, wait: Duration) -> Result<ChatReceipts, DriverError> {
        if !wait.is_zero() {
            let deadline = Instant::now() + wait;
            let check = script::sent_receipt(&self.config.selectors);
            loop {
                let status = self.await_status(&check, &["READ", "NO_BUBBLE"], deadline)?;
                if matches!(status.as_deref(), Some("READ" | "NO_BUBBLE")) || Instant::now() >= deadline {
                    break;
                }
                // Between documents the evaluation fails at once: do not spin on it.
                if status.is_none() {
                    std::thread::sleep(self.send_poll());
                }
            }
        }
        let raw = self.eval_string(&script::chat_receipts(&self.config.selectors, MAX_SEEN))?;
        let Some(raw) = raw else { return Ok(ChatReceipts::default()) };
        serde_json::from_str(&raw).map_err(|e| DriverError::WaUnreachable {
            message: format!("the chat's receipts did not read: {e}"),
        })
    }

    /// Opens the chat with `phone` in place and reads its receipts (a later look at a chat).
    /// A number not on WhatsApp shows none.
    pub fn chat_receipts(&self, phone: &PhoneNumber) -> Result<ChatReceipts, DriverError> {
        match self.open_chat(phone, "", ChatOpening::InAppLink) {
            Ok(_) => self.receipts(Duration::ZERO),
            Err(DriverError::NotOnWhatsapp) => Ok(ChatReceipts::default()),
            Err(error) => Err(error),
        }
    }
}
