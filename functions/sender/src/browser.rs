//! The sender's view of a browser session, as a small synchronous port (the driver underneath is
//! synchronous; the sender calls it on blocking threads), and its adapter on the WhatsApp Web
//! driver. Unit tests of the batch logic use a scripted fake; end-to-end tests use real Chromium.

use domain::{ErrorCode, MediaKind, PhoneNumber, Receipt, WaMessageId};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// A file sent with a message, on local disk (its name is the name a document shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file.
    pub path: PathBuf,
    /// Shown as a picture, or as a document.
    pub kind: MediaKind,
}

/// One message as it goes out: its text, and the file it carries (the text is then its caption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The rendered text.
    pub text: String,
    /// The file, if the message carries one.
    pub attachment: Option<Attachment>,
}

/// What the session check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Logged in: messages can go out.
    Ready,
    /// The profile does not log in (QR shown): an older generation may.
    NeedsQr,
    /// The account cannot send for a reason no backup fixes (conflict without take-over, ban,
    /// outdated browser): pause with this code.
    Blocked(ErrorCode),
    /// Could not tell (unreachable, timeout): try again later; never treated as expired.
    Unknown(String),
}

/// What one send attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// WhatsApp acknowledged it.
    Sent,
    /// The number has no WhatsApp account; nothing was sent.
    NotOnWhatsapp,
    /// WhatsApp Web did not take the message (its file); nothing was sent.
    Refused(ErrorCode),
    /// It may or may not have gone out (no ack, session lost mid-send): verify before sending again.
    Uncertain(ErrorCode),
    /// The browser is gone.
    Crashed(String),
}

/// What a chat shows of an earlier attempt of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earlier {
    /// The server acknowledged it: it went out.
    Delivered,
    /// It still shows the clock: not out yet, and WhatsApp Web may still send it.
    Pending,
    /// There is none.
    Absent,
}

/// One outgoing message a chat shows, by WhatsApp's id of it, and its furthest receipt (none
/// while it shows the clock or one check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// WhatsApp's id of the message.
    pub id: WaMessageId,
    /// Delivered or read, if it shows either.
    pub receipt: Option<Receipt>,
}

/// What the open chat shows of sent messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatReceipts {
    /// The message sent last, while its chat is the open one.
    pub just_sent: Option<Seen>,
    /// The chat's newest outgoing messages, oldest first (the one just sent among them).
    pub messages: Vec<Seen>,
}

/// One live browser on one restored profile.
pub trait Browser: Send {
    /// Opens WhatsApp Web and classifies the session.
    fn check(&mut self) -> Check;
    /// Sends `message` to `phone` and waits for the server ack.
    fn send(&mut self, phone: &PhoneNumber, message: &Outgoing) -> SendOutcome;
    /// What the chat with `phone` shows of a message of `text` sent at or after `since` (every
    /// one when `None`); `with_file`: only a bubble that carries a file, `text` its caption. The
    /// file itself is not needed to look, so a message is looked for before its file is fetched.
    fn already_sent(
        &mut self,
        phone: &PhoneNumber,
        text: &str,
        with_file: bool,
        since: Option<OffsetDateTime>,
    ) -> Result<Earlier, String>;
    /// The receipts the open chat shows, after waiting up to `wait` for the message just sent to
    /// show it was read.
    fn receipts(&mut self, wait: std::time::Duration) -> Result<ChatReceipts, String>;
    /// Opens the chat with `phone` and reads what it shows of sent messages (a later look; a
    /// number not on WhatsApp shows none).
    fn chat_receipts(&mut self, phone: &PhoneNumber) -> Result<ChatReceipts, String>;
    /// How many times this browser loaded the whole app (each load also rewrites WhatsApp Web's
    /// keys): its first load and every chat that could not be opened in place.
    fn full_loads(&self) -> u32;
    /// Closes the browser so the profile is flushed to disk (the only safe way before a backup).
    fn close(self: Box<Self>) -> Result<(), String>;
}

/// Starts browsers.
pub trait Launcher: Send + Sync {
    /// Launches a browser on `profile_dir`.
    fn launch(&self, profile_dir: &Path) -> Result<Box<dyn Browser>, String>;
}

/// The launcher on the WhatsApp Web driver (real Chromium).
pub struct ChromiumLauncher {
    /// Everything but the profile directory.
    pub template: wa_driver::DriverConfig,
    /// Click "Use here" when WhatsApp Web is open in another window.
    pub take_over_conflict: bool,
}

impl Launcher for ChromiumLauncher {
    fn launch(&self, profile_dir: &Path) -> Result<Box<dyn Browser>, String> {
        let mut config = self.template.clone();
        config.profile_dir = profile_dir.to_path_buf();
        let driver = wa_driver::WaDriver::launch(config).map_err(|e| format!("{}: {e}", e.code()))?;
        Ok(Box::new(ChromiumBrowser { driver, take_over: self.take_over_conflict }))
    }
}

struct ChromiumBrowser {
    driver: wa_driver::WaDriver,
    take_over: bool,
}

impl Browser for ChromiumBrowser {
    fn check(&mut self) -> Check {
        use wa_driver::Screen as S;
        match self.driver.open(self.take_over) {
            Ok(S::Ready) => Check::Ready,
            Ok(S::NeedsQr) => Check::NeedsQr,
            Ok(S::Conflict) => Check::Blocked(ErrorCode::SessionConflict),
            Ok(S::Banned) => Check::Blocked(ErrorCode::AccountBanned),
            Ok(S::Outdated) => Check::Blocked(ErrorCode::WaOutdated),
            Ok(other @ (S::Loading | S::Unknown)) => Check::Unknown(format!("WhatsApp Web showed {other}")),
            Err(e) => Check::Unknown(format!("{}: {e}", e.code())),
        }
    }

    fn send(&mut self, phone: &PhoneNumber, message: &Outgoing) -> SendOutcome {
        use wa_driver::DriverError as E;
        let sent = match &message.attachment {
            None => self.driver.send(phone, &message.text),
            Some(a) => {
                let file = wa_driver::Attachment { path: &a.path, kind: a.kind };
                self.driver.send_media(phone, &message.text, file)
            }
        };
        match sent {
            Ok(_) => SendOutcome::Sent,
            Err(E::NotOnWhatsapp) => SendOutcome::NotOnWhatsapp,
            Err(E::MediaRefused { .. }) => SendOutcome::Refused(ErrorCode::MediaRefused),
            Err(E::SendTimeout { .. }) => SendOutcome::Uncertain(ErrorCode::SendTimeout),
            Err(E::SessionLost { state }) => {
                SendOutcome::Uncertain(state.error_code().unwrap_or(ErrorCode::SessionExpired))
            }
            Err(E::WaUnreachable { .. }) => SendOutcome::Uncertain(ErrorCode::WaUnreachable),
            Err(e) => SendOutcome::Crashed(format!("{}: {e}", e.code())),
        }
    }

    fn already_sent(
        &mut self,
        phone: &PhoneNumber,
        text: &str,
        with_file: bool,
        since: Option<OffsetDateTime>,
    ) -> Result<Earlier, String> {
        let seen = if with_file {
            self.driver.already_sent_media(phone, text, since)
        } else {
            self.driver.already_sent(phone, text, since)
        };
        match seen {
            Ok(wa_driver::Earlier::Delivered) => Ok(Earlier::Delivered),
            Ok(wa_driver::Earlier::Pending) => Ok(Earlier::Pending),
            Ok(wa_driver::Earlier::Absent) => Ok(Earlier::Absent),
            Err(e) => Err(format!("{}: {e}", e.code())),
        }
    }

    fn receipts(&mut self, wait: std::time::Duration) -> Result<ChatReceipts, String> {
        let shown = self.driver.receipts(wait).map_err(|e| format!("{}: {e}", e.code()))?;
        Ok(chat(shown))
    }

    fn chat_receipts(&mut self, phone: &PhoneNumber) -> Result<ChatReceipts, String> {
        let shown = self.driver.chat_receipts(phone).map_err(|e| format!("{}: {e}", e.code()))?;
        Ok(chat(shown))
    }

    fn full_loads(&self) -> u32 {
        self.driver.full_loads()
    }

    fn close(self: Box<Self>) -> Result<(), String> {
        self.driver.close().map_err(|e| format!("{}: {e}", e.code()))
    }
}

/// A chat's receipts as the driver read them.
fn chat(shown: wa_driver::ChatReceipts) -> ChatReceipts {
    ChatReceipts {
        just_sent: shown.just_sent.and_then(seen),
        messages: shown.messages.into_iter().filter_map(seen).collect(),
    }
}

/// A message as the driver saw it, when its id is one a key can hold.
fn seen(message: wa_driver::SeenMessage) -> Option<Seen> {
    let receipt = match message.ack {
        wa_driver::Ack::Read => Some(Receipt::Read),
        wa_driver::Ack::Delivered => Some(Receipt::Delivered),
        wa_driver::Ack::Sent | wa_driver::Ack::Pending => None,
    };
    Some(Seen { id: WaMessageId::parse(&message.id).ok()?, receipt })
}

/// Stands in for a browser whose thread died or that could not be relaunched: every call fails,
/// closing does nothing.
pub struct GoneBrowser;

impl Browser for GoneBrowser {
    fn check(&mut self) -> Check {
        Check::Unknown("browser gone".into())
    }
    fn send(&mut self, _: &PhoneNumber, _: &Outgoing) -> SendOutcome {
        SendOutcome::Crashed("browser gone".into())
    }
    fn already_sent(
        &mut self,
        _: &PhoneNumber,
        _: &str,
        _: bool,
        _: Option<OffsetDateTime>,
    ) -> Result<Earlier, String> {
        Err("browser gone".into())
    }
    fn receipts(&mut self, _: std::time::Duration) -> Result<ChatReceipts, String> {
        Err("browser gone".into())
    }
    fn chat_receipts(&mut self, _: &PhoneNumber) -> Result<ChatReceipts, String> {
        Err("browser gone".into())
    }
    fn full_loads(&self) -> u32 {
        0
    }
    fn close(self: Box<Self>) -> Result<(), String> {
        Err("browser gone".into())
    }
}
