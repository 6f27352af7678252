//! A drawing backend that draws nothing: the drawing code runs on it once to learn a panel's
//! layout (where its legend would go) before it draws the panel for real.

use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};
use std::convert::Infallible;

/// A blank canvas of `size` pixels that measures text like the real backends.
pub(crate) struct Probe(pub (u32, u32));

type Done = Result<(), DrawingErrorKind<Infallible>>;

impl DrawingBackend for Probe {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        self.0
    }
    fn ensure_prepared(&mut self) -> Done {
        Ok(())
    }
    fn present(&mut self) -> Done {
        Ok(())
    }
    fn draw_pixel(&mut self, _: BackendCoord, _: BackendColor) -> Done {
        Ok(())
    }
    fn draw_line<S: BackendStyle>(&mut self, _: BackendCoord, _: BackendCoord, _: &S) -> Done {
        Ok(())
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        _: BackendCoord,
        _: BackendCoord,
        _: &S,
        _: bool,
    ) -> Done {
        Ok(())
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        _: I,
        _: &S,
    ) -> Done {
        Ok(())
    }
    fn draw_circle<S: BackendStyle>(&mut self, _: BackendCoord, _: u32, _: &S, _: bool) -> Done {
        Ok(())
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        _: I,
        _: &S,
    ) -> Done {
        Ok(())
    }
    fn draw_text<T: BackendTextStyle>(&mut self, _: &str, _: &T, _: BackendCoord) -> Done {
        Ok(())
    }
    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<Infallible>> {
        if cfg!(target_arch = "wasm32") {
            let (w, h) = super::metrics::text_box(style.size(), text);
            return Ok((w.max(0) as u32, h.max(0) as u32));
        }
        // As plotters' bitmap and SVG backends measure: the font's layout box.
        let ((x0, y0), (x1, y1)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        Ok(((x1 - x0).max(0) as u32, (y1 - y0).max(0) as u32))
    }
    fn blit_bitmap(&mut self, _: BackendCoord, _: (u32, u32), _: &[u8]) -> Done {
        Ok(())
    }
}
