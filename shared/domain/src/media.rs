//! A campaign's media: one JPEG or PNG image, or one PDF, sent with the rendered text as its
//! caption, for the whole campaign or per recipient. What a file is comes from its first bytes
//! (sniffed, never from its name or the type a client declares), and each type has WhatsApp's
//! limit: 5 MB for an image, 100 MB for a document; a caption is at most 1,024 characters.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest caption WhatsApp takes, in characters.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// Bytes of a file's start that decide its type.
pub const SNIFF_BYTES: usize = 8192;
/// The longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 100;
/// At most this many bytes of UTF-8 in a file name, whatever its characters: the sender writes
/// the file under its name, and a file system takes 255 bytes per name.
pub const MAX_FILE_NAME_BYTES: usize = 200;

/// Why media is refused; each names what is wrong (the caller names the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// Not a media id.
    #[error(
        "'{0}' is not a media id (m- and 32 lower-case hex digits, as POST /accounts/{{account}}/media answers)"
    )]
    Id(String),
    /// A declared type that is not one of the accepted ones.
    #[error("'{0}' is not accepted; send image/jpeg, image/png or application/pdf")]
    ContentType(String),
    /// The file's bytes are not one of the accepted types.
    #[error("the file is not a JPEG or PNG image or a PDF (by its content{0})")]
    Sniffed(String),
    /// Larger than its type allows.
    #[error("{size} bytes; a {kind} may be at most {limit} bytes")]
    TooLarge {
        /// The size.
        size: u64,
        /// What it is.
        kind: &'static str,
        /// Its type's limit.
        limit: u64,
    },
    /// Empty.
    #[error("the file is empty")]
    Empty,
    /// Not a SHA-256 in hex.
    #[error("'{0}' is not a SHA-256 (64 hex digits)")]
    Hash(String),
    /// A file name that cannot be one.
    #[error(
        "'{0}' is not a file name (1 to {MAX_FILE_NAME_CHARS} characters and {MAX_FILE_NAME_BYTES} bytes, no path)"
    )]
    FileName(String),
}

/// A media file's id, given when its upload is arranged: `m-` and 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MediaId(String);

impl MediaId {
    /// Parses an id.
    pub fn parse(raw: &str) -> Result<Self, MediaError> {
        let hex = raw.strip_prefix("m-").filter(|h| h.len() == 32);
        match hex {
            Some(h) if h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
                Ok(Self(raw.to_owned()))
            }
            _ => Err(MediaError::Id(raw.to_owned())),
        }
    }

    /// A new id from 128 random bits.
    pub fn generate(random: u128) -> Self {
        Self(format!("m-{random:032x}"))
    }

    /// The id of the file whose SHA-256 is `sha256`, uploaded by `account`: the same file gets
    /// the same id, another account's the same file another one.
    pub fn of_content(account: &crate::AccountId, sha256: &ContentHash) -> Self {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(account.as_str().as_bytes());
        hash.update([0]);
        hash.update(sha256.0);
        let digest = hash.finalize();
        Self(format!("m-{}", digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MediaId {
    type Error = MediaError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MediaId> for String {
    fn from(id: MediaId) -> Self {
        id.0
    }
}

impl fmt::Display for MediaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The SHA-256 of a file's bytes, given as 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// Parses 64 hex digits (either case).
    pub fn parse(raw: &str) -> Result<Self, MediaError> {
        let bad = || MediaError::Hash(raw.to_owned());
        if raw.len() != 64 {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(raw.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
        }
        Ok(Self(bytes))
    }

    /// The 32 bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// How WhatsApp sends a file: shown as a picture, or as a document with its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A picture (through "Photos & videos").
    Image,
    /// A file (through "Document").
    Document,
}

impl MediaKind {
    /// Its wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Document => "document",
        }
    }
}

/// The file types accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
    /// A PDF document.
    Pdf,
}

impl MediaType {
    /// Every accepted type.
    pub const ALL: [Self; 3] = [Self::Jpeg, Self::Png, Self::Pdf];

    /// Its MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Pdf => "application/pdf",
        }
    }

    /// The type of a MIME type (exactly as [`MediaType::mime`] spells it), if it is accepted.
    pub fn of_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.mime() == mime)
    }

    /// How it is sent.
    pub fn kind(self) -> MediaKind {
        match self {
            Self::Jpeg | Self::Png => MediaKind::Image,
            Self::Pdf => MediaKind::Document,
        }
    }

    /// Its usual file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Pdf => "pdf",
        }
    }

    /// The largest file of this type, in bytes (WhatsApp's limits).
    pub fn max_bytes(self) -> u64 {
        match self.kind() {
            MediaKind::Image => 5 * 1024 * 1024,
            MediaKind::Document => 100 * 1024 * 1024,
        }
    }

    /// `size` bytes of this type, or why they are refused.
    pub fn check_size(self, size: u64) -> Result<(), MediaError> {
        if size == 0 {
            return Err(MediaError::Empty);
        }
        if size > self.max_bytes() {
            let kind = match self.kind() {
                MediaKind::Image => "JPEG or PNG image",
                MediaKind::Document => "PDF",
            };
            return Err(MediaError::TooLarge { size, kind, limit: self.max_bytes() });
        }
        Ok(())
    }

    /// The type the first bytes of a file (at least [`SNIFF_BYTES`] of them, or the whole file)
    /// show, whatever its name says.
    pub fn sniff(head: &[u8]) -> Result<Self, MediaError> {
        if infer::image::is_jpeg(head) {
            Ok(Self::Jpeg)
        } else if infer::image::is_png(head) {
            Ok(Self::Png)
        } else if infer::archive::is_pdf(head) {
            Ok(Self::Pdf)
        } else {
            let seen = infer::get(head).map(|t| format!(": {}", t.mime_type())).unwrap_or_default();
            Err(MediaError::Sniffed(seen))
        }
    }
}

/// A file name as a recipient sees it on a document: no path, no control characters, not
/// starting with a dot nor starting or ending with a blank, at most [`MAX_FILE_NAME_CHARS`]
/// characters and [`MAX_FILE_NAME_BYTES`] bytes once it ends in its type's extension.
pub fn file_name(raw: &str, kind: MediaType) -> Result<String, MediaError> {
    let bad = || MediaError::FileName(raw.to_owned());
    if raw.is_empty()
        || raw.contains(['/', '\\'])
        || raw.chars().any(char::is_control)
        || raw.starts_with('.')
        || raw.starts_with(char::is_whitespace)
        || raw.ends_with(char::is_whitespace)
    {
        return Err(bad());
    }
    let mut name: String = raw.to_owned();
    let dot_ext = format!(".{}", kind.extension());
    let has_ext = name.to_ascii_lowercase().ends_with(&dot_ext)
        || (kind == MediaType::Jpeg && name.to_ascii_lowercase().ends_with(".jpeg"));
    if !has_ext {
        name.push_str(&dot_ext);
    }
    if name.chars().count() > MAX_FILE_NAME_CHARS || name.len() > MAX_FILE_NAME_BYTES {
        return Err(bad());
    }
    Ok(name)
}

/// A media file accepted for a campaign: what it is, as sniffed when the campaign was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Its id.
    pub id: MediaId,
    /// How it is sent.
    pub kind: MediaKind,
    /// Its MIME type (sniffed).
    pub mime: String,
    /// Its size in bytes.
    pub size: u64,
    /// The name a document is shown with.
    pub file_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";

    #[test]
    fn a_file_is_what_its_bytes_say_whatever_its_name() {
        assert_eq!(MediaType::sniff(PNG), Ok(MediaType::Png));
        assert_eq!(MediaType::sniff(JPEG), Ok(MediaType::Jpeg));
        assert_eq!(MediaType::sniff(PDF), Ok(MediaType::Pdf));
        let gif = MediaType::sniff(b"GIF89a\x01\0\x01\0").unwrap_err();
        assert_eq!(
            gif.to_string(),
            "the file is not a JPEG or PNG image or a PDF (by its content: image/gif)"
        );
        assert!(
            matches!(MediaType::sniff(b"hello, I am a text"), Err(MediaError::Sniffed(s)) if s.is_empty())
        );
        assert!(MediaType::sniff(b"").is_err());
    }

    #[test]
    fn an_image_may_be_five_megabytes_and_a_pdf_a_hundred() {
        assert!(MediaType::Png.check_size(5 * 1024 * 1024).is_ok());
        let err = MediaType::Jpeg.check_size(5 * 1024 * 1024 + 1).unwrap_err();
        assert_eq!(err.to_string(), "5242881 bytes; a JPEG or PNG image may be at most 5242880 bytes");
        assert!(MediaType::Pdf.check_size(100 * 1024 * 1024).is_ok());
        assert!(MediaType::Pdf.check_size(100 * 1024 * 1024 + 1).is_err());
        assert_eq!(MediaType::Pdf.check_size(0), Err(MediaError::Empty));
    }

    #[test]
    fn only_the_three_accepted_mime_types_are_taken() {
        assert_eq!(MediaType::of_mime("image/png"), Some(MediaType::Png));
        assert_eq!(MediaType::of_mime("application/pdf"), Some(MediaType::Pdf));
        for other in ["image/gif", "text/plain", "application/pdf; x=1", "", "IMAGE/PNG", " image/png"] {
            assert_eq!(MediaType::of_mime(other), None, "{other}");
        }
        assert_eq!(MediaType::Pdf.kind(), MediaKind::Document);
        assert_eq!(MediaType::Jpeg.kind(), MediaKind::Image);
    }

    #[test]
    fn a_media_id_is_m_and_32_hex_digits() {
        let id = MediaId::generate(0xabc);
        assert_eq!(id.as_str(), "m-00000000000000000000000000000abc");
        assert_eq!(MediaId::parse(id.as_str()), Ok(id));
        for bad in [
            "",
            "m-",
            "m-ABC00000000000000000000000000abc",
            "x-00000000000000000000000000000abc",
            "m-../../etc",
        ] {
            assert!(MediaId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_same_file_of_one_account_gets_the_same_id_and_of_another_account_another() {
        let hash = ContentHash::parse(&"ab".repeat(32)).unwrap();
        let shop = crate::AccountId::parse("shop").unwrap();
        let other = crate::AccountId::parse("other").unwrap();
        let id = MediaId::of_content(&shop, &hash);
        assert_eq!(id, MediaId::of_content(&shop, &ContentHash::parse(&"AB".repeat(32)).unwrap()));
        assert_ne!(id, MediaId::of_content(&other, &hash));
        assert!(MediaId::parse(id.as_str()).is_ok());
        for bad in ["", "ab", &"zz".repeat(32), &"ab".repeat(33)] {
            assert!(ContentHash::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_file_name_keeps_no_path_and_ends_in_its_types_extension() {
        assert_eq!(file_name("Spring offer.pdf", MediaType::Pdf).unwrap(), "Spring offer.pdf");
        assert_eq!(file_name("offer", MediaType::Pdf).unwrap(), "offer.pdf");
        assert_eq!(file_name("photo.JPEG", MediaType::Jpeg).unwrap(), "photo.JPEG");
        assert_eq!(file_name("photo.png", MediaType::Jpeg).unwrap(), "photo.png.jpg");
        for bad in ["", "  ", "../x.pdf", "a/b.pdf", "a\\b.pdf", ".hidden", "a\u{0}b", " a.pdf", "a.pdf "] {
            assert!(file_name(bad, MediaType::Pdf).is_err(), "{bad:?}");
        }
        assert!(file_name(&"x".repeat(101), MediaType::Pdf).is_err());
        // Few characters, but too many bytes for a file system once written.
        assert!(file_name(&"\u{1F600}".repeat(60), MediaType::Pdf).is_err());
        assert!(file_name(&"\u{1F600}".repeat(40), MediaType::Pdf).is_ok());
    }
}
