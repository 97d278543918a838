//! Sending a file with a caption through the attach flow, against the WhatsApp Web simulator in
//! real headless Chromium: a picture and a PDF each arrive once, byte for byte, with their
//! captions (or none), are found again in the chat before any resend (a text-only message of the
//! same words is no proof), and a file WhatsApp Web refuses sends nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

use helpers::{TestWorld, phone, serial};
use sha2::{Digest, Sha256};
use wa_driver::{Attachment, DriverError, Earlier};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0,
    0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, b'I', b'D', b'A', b'T', 0x78, 0x9c, 0x63, 0,
    1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82,
];
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_picture_and_a_pdf_arrive_once_with_their_captions_and_are_found_again_before_a_resend() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("media");
    world.link(&driver);
    let files = world.dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let picture = files.join("shelf.png");
    let flyer = files.join("Spring offer.pdf");
    std::fs::write(&picture, PNG).unwrap();
    std::fs::write(&flyer, PDF).unwrap();

    // When a picture goes to one recipient and a PDF to another, each with its caption,
    let (ana, ben) = (phone(1), phone(2));
    let caption = "Hi Ana, the new shelf is in";
    driver.send_media(&ana, caption, Attachment { path: &picture, kind: domain::MediaKind::Image }).unwrap();
    driver
        .send_media(
            &ben,
            "Hi Ben, our spring offer",
            Attachment { path: &flyer, kind: domain::MediaKind::Document },
        )
        .unwrap();

    // then each arrived once, byte for byte, with its caption and kind,
    let deliveries = world.sim.deliveries();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    let image = deliveries[0].media.as_ref().expect("a file");
    assert_eq!((deliveries[0].to.as_str(), deliveries[0].text.as_str()), (ana.digits(), caption));
    assert_eq!(
        (image.kind.as_str(), image.file_name.as_str(), image.size),
        ("image", "shelf.png", PNG.len() as u64)
    );
    assert_eq!(image.sha256, hex_sha256(PNG));
    let document = deliveries[1].media.as_ref().expect("a file");
    assert_eq!((document.kind.as_str(), document.file_name.as_str()), ("document", "Spring offer.pdf"));
    assert_eq!((document.mime.as_str(), document.sha256.clone()), ("application/pdf", hex_sha256(PDF)));

    // and the check before a resend finds the file message, not a text of the same words.
    assert_eq!(driver.already_sent_media(&ana, caption, None).unwrap(), Earlier::Delivered);
    driver.send(&phone(3), caption).unwrap();
    assert_eq!(driver.already_sent_media(&phone(3), caption, None).unwrap(), Earlier::Absent);
    assert_eq!(driver.already_sent_media(&ben, caption, None).unwrap(), Earlier::Absent);
    assert_eq!(world.sim.deliveries().len(), 3);

    // A file sent with no caption shows none, and is found again by its missing caption.
    let dan = phone(4);
    assert_eq!(driver.already_sent_media(&dan, "", None).unwrap(), Earlier::Absent);
    driver.send_media(&dan, "", Attachment { path: &flyer, kind: domain::MediaKind::Document }).unwrap();
    assert_eq!(world.sim.deliveries()[3].text, "");
    assert_eq!(driver.already_sent_media(&dan, "", None).unwrap(), Earlier::Delivered);
    assert_eq!(driver.already_sent_media(&dan, "Hi Dan", None).unwrap(), Earlier::Absent);
}

#[test]
fn a_file_whatsapp_web_refuses_is_media_refused_and_nothing_is_sent() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("refused");
    world.link(&driver);
    // A text file handed to "Photos & videos" is not a picture.
    let notes = world.dir.path().join("notes.txt");
    std::fs::write(&notes, "not a picture").unwrap();
    let err = driver
        .send_media(&phone(1), "Hi", Attachment { path: &notes, kind: domain::MediaKind::Image })
        .unwrap_err();
    assert!(
        matches!(&err, DriverError::MediaRefused { message } if message.contains("not supported")),
        "{err}"
    );
    assert_eq!(err.code(), domain::ErrorCode::MediaRefused);
    assert!(world.sim.deliveries().is_empty());
    // The popup is gone: the next message goes out.
    driver.send(&phone(1), "Hi again").unwrap();
    assert_eq!(world.sim.deliveries().len(), 1);
}
