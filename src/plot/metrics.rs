//! Text extents from DejaVu Sans's advance widths, the way plotters' `ab_glyph` font measures
//! them natively (`width = sum of advances * size / height_units`, `height = size / 1.24`), but
//! without the font file: the browser build uses this instead of plotters' web font, which
//! measures every label by inserting a DOM element and forcing a page layout.

#[path = "metrics_table.rs"]
mod table;

/// Width and height in pixels of `text` at font `size` (pixels), truncated like plotters'.
/// Characters outside the table (not used in figures) count as wide as 'n'. Kerning is left
/// out: it moves a label's width by under a pixel per kerned pair.
pub(crate) fn text_box(size: f64, text: &str) -> (i32, i32) {
    let fallback = advance('n').unwrap_or(1300);
    let units: u32 = text
        .chars()
        .map(|c| u32::from(advance(c).unwrap_or(fallback)))
        .sum();
    let width = f64::from(units) * size / table::HEIGHT_UNITS;
    (width as i32, (size / 1.24) as i32)
}

fn advance(c: char) -> Option<u16> {
    table::ADVANCE
        .binary_search_by_key(&c, |&(k, _)| k)
        .ok()
        .map(|i| table::ADVANCE[i].1)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::text_box;
    use plotters::style::{IntoFont, TextStyle};

    /// The table against the font itself, as plotters measures it natively: every character
    /// alone (no kerning) to within the one pixel that truncation of the f32 sum can flip.
    #[test]
    fn the_table_measures_like_the_embedded_font() {
        super::super::register_font().unwrap();
        let size = 100.0;
        let style: TextStyle = ("sans-serif", size).into_font().into();
        for &(c, _) in super::table::ADVANCE {
            let text = c.to_string();
            let (w, h) = style.font.box_size(&text).unwrap();
            let (tw, th) = text_box(size, &text);
            assert!((tw - w as i32).abs() <= 1, "{c:?}: table {tw} vs font {w}");
            assert_eq!(th, h as i32, "{c:?}: height");
        }
        // A whole label: kerning moves it by under a pixel per pair at this size.
        let label = "cross-entropy loss (log scale)";
        let (w, _) = style.font.box_size(label).unwrap();
        let (tw, _) = text_box(size, label);
        assert!((tw - w as i32).abs() <= label.len() as i32, "{tw} vs {w}");
    }
}
