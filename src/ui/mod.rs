//! Drawing the tutor screen from the [`App`] (read only): the layout (three panes side by side
//! from 100 columns, tabbed below), the panes (one file each), overlays and the status bar.

pub mod editor;
pub mod help;
pub mod lesson;
pub mod markdown;
pub mod overlay;
pub mod sanitize;
pub mod status;
pub mod text;
pub mod theme;
pub mod watch;
pub mod yaml;

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use ratatui::Frame;

use crate::app::{App, Pane};

/// Below this width (or height) the panes are tabbed instead of side by side.
pub const WIDE_MIN_WIDTH: u16 = 100;
pub const WIDE_MIN_HEIGHT: u16 = 28;

/// Where each pane goes on a screen of `area`; panes not shown get `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub tabs: Option<Rect>,
    pub lesson: Option<Rect>,
    pub editor: Option<Rect>,
    pub watch: Option<Rect>,
    pub status: Rect,
}

pub fn layout(area: Rect, focus: Pane) -> Areas {
    let [body, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    if area.width >= WIDE_MIN_WIDTH && area.height >= WIDE_MIN_HEIGHT {
        let [left, right] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(body);
        let [editor, watch] = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(right);
        Areas { tabs: None, lesson: Some(left), editor: Some(editor), watch: Some(watch), status }
    } else {
        let [tabs, pane] = Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(body);
        let mut a = Areas { tabs: Some(tabs), lesson: None, editor: None, watch: None, status };
        match focus {
            Pane::Lesson => a.lesson = Some(pane),
            Pane::Editor => a.editor = Some(pane),
            Pane::Watch => a.watch = Some(pane),
        }
        a
    }
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let areas = layout(frame.area(), app.focus);
    if let Some(tabs) = areas.tabs {
        draw_tabs(frame, tabs, app);
    }
    if let Some(r) = areas.lesson {
        lesson::draw(frame, r, app);
    }
    if let Some(r) = areas.editor {
        editor::draw(frame, r, app);
    }
    if let Some(r) = areas.watch {
        watch::draw(frame, r, app);
    }
    status::draw(frame, areas.status, app);
    overlay::draw(frame, frame.area(), app);
    sanitize::buffer(frame.buffer_mut());
}

pub fn pane_title(pane: Pane) -> &'static str {
    match pane {
        Pane::Lesson => text::PANE_LESSON,
        Pane::Editor => text::PANE_EDITOR,
        Pane::Watch => text::PANE_WATCH,
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut spans = Vec::new();
    for (i, pane) in Pane::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, pane_title(*pane));
        let style = if *pane == app.focus { t.current.patch(t.selected) } else { t.dim };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled("Tab switches", t.dim));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.base), area);
}

/// A pane's frame: highlighted border when focused, title on the left, `extra` on the right.
pub fn pane_block<'a>(app: &App, pane: Pane, title: String, extra: Option<Line<'a>>) -> Block<'a> {
    let t = &app.theme;
    let focused = app.focus == pane;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Rounded })
        .border_style(if focused { t.focus_border } else { t.border })
        .title(Line::from(Span::styled(format!(" {title} "), if focused { t.title } else { t.strong })));
    if let Some(extra) = extra {
        block = block.title(extra.right_aligned());
    }
    block.style(t.base)
}

/// Cut `s` to `width` columns (chars), with an ellipsis when cut.
pub fn fit(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

pub fn styled(s: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(s.into(), style)
}
