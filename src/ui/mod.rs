//! Drawing the tutor screen from the [`App`] (read only): the layout (three panes side by side
//! from 100 columns, tabbed below), the panes (one file each), overlays and the status bar.

pub mod editor;
pub mod help;
pub mod instructor;
pub mod lesson;
pub mod markdown;
pub mod output;
pub mod overlay;
pub mod quiz;
pub mod review;
pub mod status;
pub mod watch;
pub mod yaml;

/// The words and themes live above app and ui, which both use them.
pub use crate::{text, theme};

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
    /// The result area (command output, apply errors), when there is one.
    pub output: Option<Rect>,
    /// The message line on a narrow screen whose tab is not the lesson (which shows it itself).
    pub message: Option<Rect>,
    pub status: Rect,
}

/// Split `host` into itself and a result area at its bottom: as many rows as `wanted` asks
/// for at the host's width, at most `max_pct` of it, at least 3.
fn split_output(host: Rect, wanted: &dyn Fn(u16) -> u16, max_pct: u16) -> (Rect, Rect) {
    let most = (host.height * max_pct / 100).max(3.min(host.height));
    let rows = wanted(host.width).clamp(3.min(most), most);
    let [top, bottom] = Layout::vertical([Constraint::Min(0), Constraint::Length(rows)]).areas(host);
    (top, bottom)
}

/// Where each pane goes on a screen of `area` showing `shown` (when tabbed), with a result
/// area of `output(width)` rows wanted and a message of `message` rows; panes not shown get
/// `None`.
pub fn layout(area: Rect, shown: Pane, output: Option<&dyn Fn(u16) -> u16>, message: u16) -> Areas {
    let [body, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    if area.width >= WIDE_MIN_WIDTH && area.height >= WIDE_MIN_HEIGHT {
        let [left, right] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(body);
        let [mut editor, watch] = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(right);
        // The result goes under the editor: the watch pane stays whole.
        let out = output.map(|wanted| {
            let (e, o) = split_output(editor, wanted, 65);
            editor = e;
            o
        });
        Areas {
            tabs: None,
            lesson: Some(left),
            editor: Some(editor),
            watch: Some(watch),
            output: out,
            message: None,
            status,
        }
    } else {
        let [tabs, mut pane] = Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(body);
        // Notices and refusals are read whatever the tab: a strip above the status bar.
        let mut msg = None;
        if shown != Pane::Lesson && message > 0 {
            let rows = message.min(pane.height / 3).max(1);
            let [p, m] = Layout::vertical([Constraint::Min(0), Constraint::Length(rows)]).areas(pane);
            pane = p;
            msg = Some(m);
        }
        let out = output.map(|wanted| {
            let (p, o) = split_output(pane, wanted, 50);
            pane = p;
            o
        });
        let mut a =
            Areas { tabs: Some(tabs), lesson: None, editor: None, watch: None, output: out, message: msg, status };
        match shown {
            Pane::Lesson => a.lesson = Some(pane),
            Pane::Editor => a.editor = Some(pane),
            Pane::Watch | Pane::Output => a.watch = Some(pane),
        }
        a
    }
}

/// The layout of `app` on a screen of `area`.
pub fn app_layout(area: Rect, app: &App) -> Areas {
    let wanted = app.result.as_ref().map(|r| move |w: u16| output::rows_wanted(r, w));
    let message = lesson::message_lines(app, area.width as usize, false).len() as u16;
    layout(area, app.shown_pane(), wanted.as_ref().map(|f| f as &dyn Fn(u16) -> u16), message)
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let areas = app_layout(frame.area(), app);
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
    if let Some(r) = areas.output {
        output::draw(frame, r, app);
    }
    if let Some(r) = areas.message {
        let lines = lesson::message_lines(app, r.width as usize, false);
        frame.render_widget(Paragraph::new(lines).style(app.theme.base), r);
    }
    status::draw(frame, areas.status, app);
    overlay::draw(frame, frame.area(), app);
    quiz::draw(frame, frame.area(), app);
    crate::sanitize::buffer(frame.buffer_mut());
}

pub fn pane_title(pane: Pane) -> &'static str {
    match pane {
        Pane::Lesson => text::PANE_LESSON,
        Pane::Editor => text::PANE_EDITOR,
        Pane::Watch => text::PANE_WATCH,
        Pane::Output => text::PANE_OUTPUT,
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut spans = Vec::new();
    for (i, pane) in Pane::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, pane_title(*pane));
        let style = if *pane == app.shown_pane() { t.current.patch(t.selected) } else { t.dim };
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

/// How the tutor wraps text: at spaces only (never inside `web-0.nginx` or a flag), breaking
/// a word only when it is longer than the line.
pub fn wrap_options(width: usize) -> textwrap::Options<'static> {
    textwrap::Options::new(width).word_splitter(textwrap::WordSplitter::NoHyphenation)
}

pub fn styled(s: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(s.into(), style)
}
