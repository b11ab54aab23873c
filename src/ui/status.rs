//! The status bar (two lines): the keys of the focused pane from its binding list (or the `:`
//! command line, or a y/n question), then the cluster, the connection and the line that points
//! kubectl in another terminal at it.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, text};
use crate::app::keys::status_hints;
use crate::app::{App, Confirm, Pane};
use crate::cluster::watch::Connection;

fn first_line(app: &App, width: usize) -> Line<'static> {
    let t = &app.theme;
    if let Some(Confirm::RunCommand { question, .. } | Confirm::Restart { question, .. }) = &app.confirm {
        // The question itself is shown whole above (the message line); here, what to press.
        if question.chars().count() <= width {
            return Line::from(Span::styled(question.clone(), t.fail));
        }
        return Line::from(vec![Span::styled("y", t.key), Span::styled(format!(" {}", text::CONFIRM_KEYS), t.fail)]);
    }
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
        if n + 60 < width {
            spans.push(Span::styled("   Enter runs · Tab completes · ↑↓ history · Esc cancels", t.dim));
        }
        return Line::from(spans);
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
        status_hints(app.focus)
            .into_iter()
            .filter(|(_, what)| !(app.readonly && changes_cluster(what)))
            .filter(|(_, what)| !(no_blanks && what.contains("???"))),
    );
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
    Line::from(spans)
}

/// Keys a read-only session does not offer (they would only be refused).
fn changes_cluster(short: &str) -> bool {
    short == "apply"
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
