//! Media messages: what a file sent through the attach menu carries, the checks an upload passes,
//! and the image bytes kept so that a chat shows the picture again after a reload.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::*;

/// The attach menu item a file went through: it decides how the recipient sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// "Photos & videos": shown inline as a picture (only images are modelled, not videos).
    Image,
    /// "Document": any file, shown as an icon with its name.
    Document,
}

impl MediaKind {
    /// The name the page script and the JSON use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Document => "document",
        }
    }
}

/// The file a media message carried, as the recipient received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDelivery {
    /// How it was attached.
    pub kind: MediaKind,
    /// The file's name as the page had it (`File.name`).
    pub file_name: String,
    /// The file's MIME type as the browser reported it (`File.type`; may be empty for a document).
    pub mime: String,
    /// Size in bytes of what the server received.
    pub size: u64,
    /// SHA-256 of what the server received, lowercase hex: proves the bytes arrived intact.
    pub sha256: String,
}

/// A file a page uploads with a media message.
#[derive(Debug, Clone, Copy)]
pub struct MediaUpload<'a> {
    /// The attach menu item it went through.
    pub kind: MediaKind,
    /// `File.name`.
    pub file_name: &'a str,
    /// `File.type`.
    pub mime: &'a str,
    /// The file's bytes.
    pub bytes: &'a [u8],
}

/// Lowercase hex SHA-256 of `bytes`.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl World {
    /// The page sends a file to `to` with `caption` (may be empty) under message id `id`; the same
    /// rules as [`World::send`] apply (session, number, repeated id, send faults), and the file must
    /// fit its menu item: an image must be `image/*`, neither may be empty or over its limit.
    pub fn send_media(
        &mut self,
        page_id: &str,
        to: &str,
        caption: &str,
        upload: MediaUpload<'_>,
        id: &str,
        now: Instant,
    ) -> Result<SendAccepted, SendRefusal> {
        let sender = self.sender(page_id, to)?;
        let media = self.check_upload(upload)?;
        if media.kind == MediaKind::Image {
            self.media_files.entry(media.sha256.clone()).or_insert_with(|| Arc::from(upload.bytes));
        }
        Ok(self.record_send(sender, caption, Some(media), id, now))
    }

    fn check_upload(&self, upload: MediaUpload<'_>) -> Result<MediaDelivery, SendRefusal> {
        if upload.bytes.is_empty() {
            return Err(SendRefusal::Empty);
        }
        let limit = match upload.kind {
            MediaKind::Image => self.media_limits.image_max_bytes,
            MediaKind::Document => self.media_limits.document_max_bytes,
        };
        let size = u64::try_from(upload.bytes.len()).unwrap_or(u64::MAX);
        if size > limit {
            return Err(SendRefusal::TooLarge);
        }
        let image = upload.mime.to_ascii_lowercase().starts_with("image/");
        if upload.file_name.trim().is_empty() || (upload.kind == MediaKind::Image && !image) {
            return Err(SendRefusal::Unsupported);
        }
        Ok(MediaDelivery {
            kind: upload.kind,
            file_name: upload.file_name.to_owned(),
            mime: upload.mime.to_owned(),
            size,
            sha256: sha256_hex(upload.bytes),
        })
    }

    /// The picture of image message `id` sent from `page_id`'s account, with its MIME type, so a
    /// reloaded chat can show it again.
    pub fn media_file(&self, page_id: &str, id: &str) -> Option<(String, Arc<[u8]>)> {
        let (account, _, _) = self.page_account(page_id)?;
        let media = self
            .messages
            .iter()
            .find(|s| s.delivery.id == id && s.delivery.account == account)?
            .delivery
            .media
            .as_ref()
            .filter(|m| m.kind == MediaKind::Image)?;
        let bytes = self.media_files.get(&media.sha256)?;
        Some((media.mime.clone(), Arc::clone(bytes)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn page(world: &mut World, now: Instant) -> String {
        let attempt = world.start_attempt(now);
        world.link("acct", None, now).unwrap();
        let AttemptView::Linked { credential: c } = world.poll_attempt(&attempt.attempt, now) else {
            panic!("expected a linked attempt")
        };
        match world.authenticate(&c.device, 1, &c.key_a, &c.key_b) {
            AuthOutcome::Ok { page, .. } => page,
            other => panic!("expected ok, got {other:?}"),
        }
    }

    fn image(bytes: &[u8]) -> MediaUpload<'_> {
        MediaUpload { kind: MediaKind::Image, file_name: "photo.png", mime: "image/png", bytes }
    }

    #[test]
    fn an_image_is_recorded_with_its_size_and_hash_and_kept_for_the_chat() {
        let mut world = World::new(&SimConfig::for_tests());
        let now = Instant::now();
        let page = page(&mut world, now);
        world.send_media(&page, "15550001111", "Look", image(b"abc"), "m1", now).unwrap();
        world.send_media(&page, "15550001111", "Look", image(b"abc"), "m1", now).unwrap();
        let deliveries = world.deliveries();
        assert_eq!(deliveries.len(), 1, "a repeated id is not a second delivery");
        assert_eq!(deliveries[0].text, "Look");
        let media = deliveries[0].media.clone().unwrap();
        assert_eq!((media.kind, media.size, media.mime.as_str()), (MediaKind::Image, 3, "image/png"));
        assert_eq!(media.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(world.media_file(&page, "m1").unwrap().1.as_ref(), b"abc");
        assert_eq!(world.history(&page, "15550001111", now)[0].media, Some(media));
    }

    #[test]
    fn a_file_that_does_not_fit_its_menu_item_is_refused_and_not_delivered() {
        let config = SimConfig {
            media_limits: crate::config::MediaLimits { image_max_bytes: 4, document_max_bytes: 8 },
            ..SimConfig::for_tests()
        };
        let mut world = World::new(&config);
        let now = Instant::now();
        let page = page(&mut world, now);
        let pdf = MediaUpload {
            kind: MediaKind::Document,
            file_name: "a.pdf",
            mime: "application/pdf",
            bytes: b"%PDF-1.4",
        };
        let not_image = MediaUpload { mime: "application/pdf", ..image(b"%PDF") };
        assert_eq!(
            world.send_media(&page, "15550001111", "", not_image, "m1", now),
            Err(SendRefusal::Unsupported)
        );
        assert_eq!(
            world.send_media(&page, "15550001111", "", image(b"12345"), "m2", now),
            Err(SendRefusal::TooLarge)
        );
        assert_eq!(
            world.send_media(&page, "15550001111", "", image(b""), "m3", now),
            Err(SendRefusal::Empty)
        );
        assert!(world.deliveries().is_empty());
        world.send_media(&page, "15550001111", "", pdf, "m4", now).unwrap();
        assert_eq!(world.deliveries()[0].media.as_ref().unwrap().kind, MediaKind::Document);
        assert!(world.media_file(&page, "m4").is_none(), "only pictures are kept");
    }

    #[test]
    fn a_delivery_recorded_before_media_existed_still_reads_as_a_text() {
        let old = r#"{"id":"m1","account":"a","device":"d","generation":1,"to":"15550001111",
                     "text":"hi","clock_ms":0,"unix_ms":1}"#;
        let delivery: Delivery = serde_json::from_str(old).unwrap();
        assert_eq!(delivery.media, None);
        let kind = serde_json::to_value(MediaKind::Document).unwrap();
        assert_eq!(kind, serde_json::json!("document"));
    }
}
