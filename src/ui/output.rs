//! The result area: the whole output of the last command, or the whole error of the last apply,
//! wrapped to the pane and scrollable. It is laid out below the editor (on a narrow screen,
//! below the pane shown), so it never covers the watch pane.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{pane_block, text};
use crate::app::{App, Level, Pane, ResultBox};

/// The result's text wrapped to `width` columns; long words (URLs, patches) are broken, and
/// leading spaces kept so kubectl's columns stay aligned where they fit.
pub fn wrapped(result: &ResultBox, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out = Vec::new();
    for line in result.text.trim_end().lines() {
        if line.is_empty() {
            out.push(String::new());
            continue;
        }
        out.extend(textwrap::wrap(line, super::wrap_options(width)).into_iter().map(std::borrow::Cow::into_owned));
    }
    out
}

/// Rows the area would like at `width` columns, borders included.
pub fn rows_wanted(result: &ResultBox, width: u16) -> u16 {
    let inner = width.saturating_sub(2) as usize;
    u16::try_from(wrapped(result, inner).len() + 2).unwrap_or(u16::MAX)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(result) = &app.result else { return };
    let t = &app.theme;
    let focused = app.focus == Pane::Output;
    let title = format!("{}: {}", text::PANE_OUTPUT, result.title);
    let mut keys = if focused { text::OUTPUT_KEYS_FOCUSED } else { text::OUTPUT_KEYS };
    // The command's own words go first; the key reminder shrinks to make room for them.
    let len = |s: &str| s.chars().count();
    if len(&title) + len(keys) + 8 > area.width as usize {
        keys = text::OUTPUT_KEYS_SHORT;
    }
    let extra = Line::from(Span::styled(format!(" {keys} "), t.dim));
    let room = (area.width as usize).saturating_sub(len(keys) + 8);
    let block = pane_block(app, Pane::Output, super::fit(&title, room), Some(extra));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let style = match result.level {
        Level::Problem => t.fail,
        Level::Good => t.pass,
        Level::Info | Level::Hint => t.base,
    };
    let lines = wrapped(result, inner.width as usize);
    let height = inner.height as usize;
    let max_scroll = lines.len().saturating_sub(height);
    let top = (result.scroll as usize).min(max_scroll);
    let mut shown: Vec<Line> =
        lines.iter().skip(top).take(height).map(|l| Line::from(Span::styled(l.clone(), style))).collect();
    // Say where more is, on the last row (the learner scrolls with Tab, then j/k).
    if top + height < lines.len() && height > 1 {
        let more = format!("▼ {} more lines", lines.len() - top - height);
        shown.pop();
        shown.push(Line::from(Span::styled(more, t.waiting)));
    }
    frame.render_widget(Paragraph::new(shown), inner);
}
