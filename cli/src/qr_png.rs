//! The setup QR code as a PNG, for terminals that cannot show the one drawn in text: black
//! modules on white with the standard four-module quiet zone, each module `SCALE` pixels wide.

use anyhow::{Context, Result};
use qrcode::{Color, QrCode};
use std::path::Path;

/// Pixels per module.
pub const SCALE: u32 = 8;
/// Modules of white border on each side.
pub const QUIET_ZONE: u32 = 4;

/// The PNG bytes of the QR code of `payload` (8-bit greyscale).
pub fn encode(payload: &str) -> Result<Vec<u8>> {
    let code = QrCode::new(payload.as_bytes()).context("the QR payload does not fit a QR code")?;
    let modules = u32::try_from(code.width()).context("QR code width")?;
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (i as u32 % modules + QUIET_ZONE, i as u32 / modules + QUIET_ZONE);
            for y in my * SCALE..(my + 1) * SCALE {
                let row = (y * side) as usize;
                pixels[row + (mx * SCALE) as usize..row + ((mx + 1) * SCALE) as usize].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("PNG header")?;
    writer.write_image_data(&pixels).context("PNG data")?;
    writer.finish().context("PNG end")?;
    Ok(out)
}

/// Writes the QR code of `payload` to `path` (replacing the previous code: it rotates).
pub fn write(payload: &str, path: &Path) -> Result<()> {
    let bytes = encode(payload)?;
    // Written beside and renamed over, so a viewer never reads half a file.
    let partial = path.with_extension("png.partial");
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_holds_every_module_of_the_code_at_its_scale_inside_a_white_quiet_zone() {
        let payload = "2@abc,def,ghi==,1";
        let bytes = encode(payload).unwrap_or_else(|e| panic!("{e}"));
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{e}"));
        let mut pixels = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let info = reader.next_frame(&mut pixels).unwrap_or_else(|e| panic!("{e}"));
        let code = QrCode::new(payload.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let modules = code.width() as u32;
        assert_eq!(info.width, (modules + 2 * QUIET_ZONE) * SCALE);
        let at = |x: u32, y: u32| pixels[(y * info.width + x) as usize];
        assert_eq!(at(0, 0), 255, "the quiet zone is white");
        for (i, color) in code.to_colors().iter().enumerate() {
            let (mx, my) = (i as u32 % modules + QUIET_ZONE, i as u32 / modules + QUIET_ZONE);
            let centre = at(mx * SCALE + SCALE / 2, my * SCALE + SCALE / 2);
            assert_eq!(centre == 0, *color == Color::Dark, "module {i}");
        }
    }
}
