//! The status bar (two lines): the keys of the app's mode from its table (the focused pane, an
//! overlay, the quiz, a y/n question, or the `:` line being typed with its keys), then the
//! cluster, the connection and the line that points kubectl in another terminal at it.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, text};
use crate::app::keys::{self, mode_line, Mode, COMMAND_LINE};
use crate::app::{App, Confirm, Pane};
use crate::cluster::watch::Connection;

/// The keys the first line offers in the app's mode, in order, before they are cut to the
/// width: the table of the mode (`keys::hints`); in a pane, after a pass the next-step key
/// first and, while the result area shows, how to close it, and without what a read-only
/// session refuses or what needs a blank when none is left.
pub fn key_hints(app: &App) -> Vec<(&'static str, &'static str)> {
    let mode = app.mode();
    if !matches!(mode, Mode::Pane(_)) {
        return keys::hints(mode);
    }
    let mut hints: Vec<(&str, &str)> = Vec::new();
    // After a pass, going on is what the learner looks for first.
    if app.done.contains(&app.step) && app.step + 1 < app.lesson.steps.len() && app.focus != Pane::Output {
        hints.push((crate::app::next_step_key(app), text::NEXT_STEP));
    }
    if app.result.is_some() && app.focus != Pane::Output {
        hints.push(("Esc", text::CLOSE_OUTPUT));
    }
    let no_blanks = app.editor.blanks().is_empty();
    hints.extend(
        keys::hints(mode)
            .into_iter()
            .filter(|(_, what)| !(app.readonly && refused_read_only(what)))
            .filter(|(_, what)| !(no_blanks && what.contains("???"))),
    );
    hints
}

/// `key what` pairs, as many as fit in `width` (the status bar, the review and instructor bars).
pub(crate) fn key_spans(hints: &[(&str, &str)], width: usize, t: &crate::theme::Theme) -> (Vec<Span<'static>>, usize) {
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, what) in hints {
        let n = key.chars().count() + what.chars().count() + 3;
        if used + n > width {
            break;
        }
        used += n;
        spans.push(Span::styled(key.to_string(), t.key));
        spans.push(Span::styled(format!(" {what}  "), t.base));
    }
    (spans, used)
}

fn first_line(app: &App, width: usize) -> Line<'static> {
    let t = &app.theme;
    if let Some(cmd) = &app.command {
        // A long line scrolls: its end (where the cursor is) stays in view.
        let room = width.saturating_sub(3);
        let n = cmd.input.chars().count();
        let shown: String = if n > room {
            let tail: String = cmd.input.chars().skip(n - room + 1).collect();
            format!("…{tail}")
        } else {
            cmd.input.clone()
        };
        let mut spans =
            vec![Span::styled(text::CMD_PROMPT, t.key), Span::styled(shown, t.base), Span::styled(" ", t.cursor)];
        let keys = format!("   {}", mode_line(COMMAND_LINE));
        if n + 2 + keys.chars().count() <= width {
            spans.push(Span::styled(keys, t.dim));
        }
        return Line::from(spans);
    }
    let (mut spans, used) = key_spans(&key_hints(app), width, t);
    if let Some(Confirm::RunCommand { question, .. } | Confirm::Restart { question, .. }) = &app.confirm {
        // The question is shown whole above (the message line); here too when it fits.
        if used + question.chars().count() <= width {
            spans.push(Span::styled(question.clone(), t.fail));
        }
    }
    Line::from(spans)
}

/// Keys a read-only session does not offer (they would only be refused).
fn refused_read_only(short: &str) -> bool {
    matches!(short, "apply" | "reset")
}

fn second_line(app: &App, width: usize) -> Line<'static> {
    let t = &app.theme;
    if let Some(cmd) = &app.command {
        if !cmd.completions.is_empty() {
            return Line::from(Span::styled(fit(&cmd.completions.join("  "), width), t.dim));
        }
    }
    let conn = match &app.connection {
        Connection::Connecting => Span::styled(text::CONNECTING.to_string(), t.waiting),
        Connection::Connected => Span::styled(text::CONNECTED.to_string(), t.pass),
        Connection::Reconnecting { error } => Span::styled(format!("{} {error}", text::RECONNECTING), t.fail),
    };
    // The kubectl line matters most (it is what a second terminal needs): it comes first after
    // the connection, which shrinks to its symbol when the line would not fit otherwise.
    let hint_len = app.cluster.kubectl_hint.as_ref().map_or(0, |h| h.chars().count() + 3);
    let conn = if hint_len > 0 && conn.content.chars().count() + hint_len > width {
        Span::styled(
            match app.connection {
                Connection::Connected => "●",
                Connection::Connecting => "…",
                Connection::Reconnecting { .. } => "✗",
            },
            conn.style,
        )
    } else {
        conn
    };
    let mut spans = vec![conn, Span::styled(" · ", t.dim)];
    if let Some(hint) = &app.cluster.kubectl_hint {
        spans.push(Span::styled(hint.clone(), t.code));
        spans.push(Span::styled(" · ", t.dim));
    }
    spans.push(Span::styled(app.cluster.describe.clone(), t.strong));
    let mut used = 0;
    let mut out = Vec::new();
    for s in spans {
        let n = s.content.chars().count();
        if used + n > width {
            out.push(Span::styled(fit(&s.content, width.saturating_sub(used)), s.style));
            break;
        }
        used += n;
        out.push(s);
    }
    Line::from(out)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let w = area.width as usize;
    let lines = vec![first_line(app, w), second_line(app, w)];
    frame.render_widget(Paragraph::new(lines).style(app.theme.status_bar), area);
}
