//! The instructor's screen (`kubetutor progress` on a terminal): the table of attendees with
//! its key line, or the live review of one attendee (the tutor's panes) with its bar.

use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::app::instructor::Instructor;
use crate::app::keys::{self, mode_hints, ATTENDEE, ATTENDEES};
use crate::cluster::progress;
use crate::theme::Theme;

/// Draw the instructor's screen: the live review with its bar, or the table.
pub fn draw(frame: &mut Frame, screen: &Instructor) {
    let t = &screen.theme;
    if let Some(live) = &screen.live {
        super::draw(frame, &live.app);
        let areas = super::app_layout(frame.area(), &live.app);
        let w = areas.status.width as usize;
        let row = screen.rows.iter().find(|r| r.namespace == live.namespace);
        let place = screen.rows.iter().position(|r| r.namespace == live.namespace).map(|i| i + 1).unwrap_or(0);
        let state = row
            .map(|r| {
                let line = progress::render(std::slice::from_ref(r), screen.now);
                line.lines()
                    .nth(1)
                    .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
                    .unwrap_or_default()
            })
            .unwrap_or_else(|| "no longer in the table".into());
        let first = format!(
            "live review of {} ({place}/{}) · read-only, nothing is written · {state}",
            live.namespace,
            screen.rows.len()
        );
        let lines = vec![Line::from(Span::styled(super::fit(&first, w), t.strong)), key_line(ATTENDEE, w, t)];
        frame.render_widget(ratatui::widgets::Clear, areas.status);
        frame.render_widget(Paragraph::new(lines).style(t.status_bar), areas.status);
        return;
    }
    let area = frame.area();
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(2)]).areas(area);
    let title = format!(
        "kubetutor progress · {} · {} learner{}",
        screen.cluster().describe().split(" · ns ").next().unwrap_or_default(),
        screen.rows.len(),
        if screen.rows.len() == 1 { "" } else { "s" }
    );
    frame.render_widget(Paragraph::new(Span::styled(super::fit(&title, area.width as usize), t.title)), head);
    let table = progress::render(&screen.rows, screen.now);
    let lines: Vec<Line> = table
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let style = match i {
                0 if !screen.rows.is_empty() => t.heading,
                i if i == screen.selected + 1 => t.selected,
                _ => t.base,
            };
            let mark = if i > 0 && i == screen.selected + 1 { "▸ " } else { "  " };
            Line::from(Span::styled(format!("{mark}{l}"), style))
        })
        .collect();
    let block = Block::default().borders(Borders::TOP).border_style(t.border).style(t.base);
    frame.render_widget(Paragraph::new(lines).block(block), body);
    let w = foot.width as usize;
    let first = screen.note.clone().unwrap_or_else(|| "Enter opens a live read-only review of the attendee".into());
    let style = if screen.note.is_some() { t.fail } else { t.dim };
    let lines = vec![Line::from(Span::styled(super::fit(&first, w), style)), key_line(ATTENDEES, w, t)];
    frame.render_widget(Paragraph::new(lines).style(t.status_bar), foot);
    crate::sanitize::buffer(frame.buffer_mut());
}

/// A screen's keys, as many as fit in `w` columns.
fn key_line(list: &[keys::ModeBinding<keys::ModeAction>], w: usize, t: &Theme) -> Line<'static> {
    Line::from(super::status::key_spans(&mode_hints(list), w, t).0)
}
