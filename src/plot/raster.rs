//! Heat-map grids in SVG as one embedded PNG image instead of one rectangle per cell: the same
//! picture (cells drawn `pixelated`), a fraction of the bytes, and a single element for the
//! browser to lay out and paint, whatever the resolution.
//!
//! While drawing, a heat map registers its cells here and draws a placeholder rectangle in a
//! sentinel colour; [`substitute`] then swaps each placeholder for an `<image>` with the
//! placeholder's geometry.

use crate::error::{Error, Result};
use plotters::style::RGBColor;

/// A grid of RGB cells, top row first.
#[derive(Clone, Debug)]
pub(crate) struct Raster {
    pub nx: usize,
    pub ny: usize,
    pub rgb: Vec<u8>,
}

/// Most heat maps in one SVG (the sentinel's blue channel numbers them).
pub(crate) const MAX_RASTERS: usize = 256;

/// The placeholder colour of raster `index`: no palette or colour map of ours produces it.
pub(crate) fn sentinel(index: usize) -> RGBColor {
    RGBColor(1, 2, index as u8)
}

/// Replaces each placeholder rectangle of `svg` with its raster as a PNG `<image>`.
pub(crate) fn substitute(svg: &mut String, rasters: &[Raster], title: &str) -> Result<()> {
    for (index, raster) in rasters.iter().enumerate() {
        let marker = format!("fill=\"#0102{index:02X}\"");
        let missing = || Error::plot(title, "a heat map's placeholder was not drawn");
        let at = svg.find(&marker).ok_or_else(missing)?;
        let start = svg[..at].rfind("<rect").ok_or_else(missing)?;
        let end = at + svg[at..].find("/>").ok_or_else(missing)? + 2;
        let attr = |name: &str| -> Result<String> {
            let key = format!(" {name}=\"");
            let from = svg[start..end].find(&key).ok_or_else(missing)? + start + key.len();
            let to = from + svg[from..end].find('"').ok_or_else(missing)?;
            Ok(svg[from..to].to_string())
        };
        let (x, y, w, h) = (attr("x")?, attr("y")?, attr("width")?, attr("height")?);
        let png = encode_png(raster).map_err(|e| Error::plot(title, e))?;
        let image = format!(
            "<image x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" preserveAspectRatio=\"none\" \
             style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{}\"/>",
            base64(&png)
        );
        svg.replace_range(start..end, &image);
    }
    Ok(())
}

fn encode_png(raster: &Raster) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, raster.nx as u32, raster.ny as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let fail = |e: png::EncodingError| format!("PNG encoding of a heat map failed: {e}");
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(&raster.rgb).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

/// Standard base64 with padding (RFC 4648, section 4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_rfc_4648_test_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(super::base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }
}
