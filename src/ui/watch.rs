//! The watch pane, fed by the cluster watch: the lesson's pods (NAME READY STATUS RESTARTS AGE
//! IMAGE, by ordinal, changed rows highlighted for a moment), what the StatefulSet controller
//! waits for, each StatefulSet's status, the PVCs, and the timeline of what happened.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, pane_block, text};
use crate::app::watch::{age, controller_waits, pod_rows, pvc_rows, set_status};
use crate::app::{App, Pane};
use crate::cluster::watch::Connection;
use crate::cluster::EntryKind;

/// Names of the grader's probe pods (`kubetutor-probe-xxxxx`).
const PROBE_PREFIX: &str = "kubetutor-probe";

fn row_line(cells: &[String], widths: &[usize], style: Style) -> Line<'static> {
    let mut s = String::new();
    for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
        if i + 1 == cells.len() {
            s.push_str(c);
        } else {
            s.push_str(&format!("{:<w$} ", fit(c, *w), w = *w));
        }
    }
    Line::from(Span::styled(s, style))
}

fn widths(rows: &[Vec<String>], headers: &[&str]) -> Vec<usize> {
    headers
        .iter()
        .enumerate()
        .map(|(i, h)| rows.iter().map(|r| r[i].chars().count()).chain([h.len()]).max().unwrap_or(0).min(28))
        .collect()
}

pub fn pod_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let rows = pod_rows(&app.snapshot);
    if rows.is_empty() {
        return vec![Line::from(Span::styled(text::WATCH_NO_PODS, t.dim))];
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.ready.clone(),
                r.status.clone(),
                r.restarts.to_string(),
                age(r.created, app.now),
                r.image.clone(),
            ]
        })
        .collect();
    let w = widths(&cells, &text::POD_HEADERS);
    let header: Vec<String> = text::POD_HEADERS.iter().map(ToString::to_string).collect();
    let mut lines = vec![row_line(&header, &w, t.strong)];
    for (row, c) in rows.iter().zip(&cells) {
        let mut style = match row.status.as_str() {
            "Running" if row.ready.split('/').next() == row.ready.split('/').nth(1) => t.pass,
            "Running" | "Pending" | "PodInitializing" | "ContainerCreating" => t.waiting,
            "Terminating" => t.dim,
            s if s.starts_with("Init:") && s.contains('/') => t.waiting,
            _ => t.fail,
        };
        if app.changed.get(&row.name).is_some_and(|until| *until > app.now) {
            style = style.patch(t.changed);
        }
        lines.push(row_line(c, &w, style));
    }
    lines
}

pub fn status_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    for s in app.snapshot.statefulsets.values() {
        lines.push(Line::from(vec![Span::styled("sts ", t.dim), Span::styled(set_status(s), t.base)]));
    }
    for w in controller_waits(&app.snapshot) {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", text::SYM_WAITING), t.waiting),
            Span::styled(w, t.waiting),
        ]));
    }
    let pvcs = pvc_rows(&app.snapshot);
    if !pvcs.is_empty() {
        let cells: Vec<Vec<String>> =
            pvcs.iter().map(|p| vec![p.name.clone(), p.status.clone(), p.volume.clone(), p.capacity.clone()]).collect();
        let w = widths(&cells, &text::PVC_HEADERS);
        let header: Vec<String> = text::PVC_HEADERS.iter().map(ToString::to_string).collect();
        lines.push(row_line(&header, &w, t.strong));
        for (p, c) in pvcs.iter().zip(&cells) {
            lines.push(row_line(c, &w, if p.status == "Bound" { t.base } else { t.waiting }));
        }
    }
    lines
}

pub fn timeline_lines(app: &App, height: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    // Probe pods (the grader's DNS/HTTP checks) would flood the timeline: keep their creation only.
    let entries: Vec<_> = app
        .history
        .entries
        .iter()
        .filter(|e| !e.name.starts_with(PROBE_PREFIX) || matches!(e.kind, EntryKind::PodCreated { .. }))
        .collect();
    let end = entries.len().saturating_sub(app.timeline_back);
    let start = end.saturating_sub(height);
    entries[start..end]
        .iter()
        .map(|e| {
            let ago = age(Some(e.at), app.now);
            let what = if e.name.starts_with(PROBE_PREFIX) {
                format!("{} ({})", e.describe(), text::WATCH_PROBE)
            } else {
                e.describe()
            };
            Line::from(vec![Span::styled(format!("{ago:>6} ago  "), t.dim), Span::styled(what, t.base)])
        })
        .collect()
}

fn connection_span(app: &App) -> Span<'static> {
    let t = &app.theme;
    match &app.connection {
        Connection::Connecting => Span::styled(text::CONNECTING.to_string(), t.waiting),
        Connection::Connected => Span::styled(format!("● {}", text::CONNECTED), t.pass),
        Connection::Reconnecting { error } => {
            Span::styled(format!("{} {}", text::RECONNECTING, fit(error, 30)), t.fail)
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut title = text::PANE_WATCH.to_string();
    if app.cluster.sandbox {
        title.push_str(&format!(" ({})", text::WATCH_SIMULATED));
    }
    let extra = Line::from(vec![Span::raw(" "), connection_span(app), Span::raw(" ")]);
    let block = pane_block(app, Pane::Watch, title, Some(extra));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let pods = pod_lines(app);
    let status = status_lines(app);
    let h = inner.height;
    let mut pods = pods;
    let room = h.saturating_sub(3).max(1) as usize;
    if pods.len() > room {
        // Say how many rows did not fit rather than dropping them silently.
        let hidden = pods.len() - (room - 1);
        pods.truncate(room - 1);
        pods.push(Line::from(Span::styled(format!("… {hidden} more pods"), t.dim)));
    }
    let pods_h = pods.len() as u16;
    let status_h = (status.len() as u16).min(h.saturating_sub(pods_h + 2));
    let [p, s, sep, tl] = Layout::vertical([
        Constraint::Length(pods_h),
        Constraint::Length(status_h),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(pods), p);
    frame.render_widget(Paragraph::new(status), s);
    let scrolled =
        if app.timeline_back > 0 { format!(" (−{}, j goes newer)", app.timeline_back) } else { String::new() };
    let label = format!("── {}{scrolled} ", text::WATCH_TIMELINE);
    let fill = (inner.width as usize).saturating_sub(label.chars().count());
    frame.render_widget(Paragraph::new(Span::styled(format!("{label}{}", "─".repeat(fill)), t.border)), sep);
    frame.render_widget(Paragraph::new(timeline_lines(app, tl.height as usize)), tl);
}
