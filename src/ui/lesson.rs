//! The lesson pane: the step list (a symbol and a colour per state), the open step's text
//! rendered from Markdown, the live result of each of its checks, and the hints revealed so far.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{fit, markdown, pane_block, text};
use crate::app::{App, Level, Pane};
use crate::grade::{Outcome, StepStatus};

/// The state of step `i` as the list shows it: symbol and style.
pub fn step_symbol(app: &App, i: usize) -> (&'static str, Style) {
    let t = &app.theme;
    // The open step counts as failing only once the learner has tried something in it.
    let not_yet = app.reports.get(&i).is_some_and(|r| r.status() == StepStatus::NotYet);
    let failing = not_yet && (i != app.step || app.attempted.contains(&i));
    if app.done.contains(&i) && not_yet {
        (text::SYM_BROKEN, t.fail)
    } else if app.done.contains(&i) {
        (text::SYM_DONE, t.pass)
    } else if failing {
        (text::SYM_FAILING, t.fail)
    } else if i == app.step {
        (text::SYM_CURRENT, t.current)
    } else {
        (text::SYM_NOT_STARTED, t.dim)
    }
}

fn step_list(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let focused = app.focus == Pane::Lesson;
    app.lesson
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let (sym, style) = step_symbol(app, i);
            let mut title_style = if i == app.step { t.current } else { t.base };
            if focused && i == app.selected {
                title_style = title_style.patch(t.selected);
            }
            let label = fit(&format!("{i}  {}", step.title), width.saturating_sub(3));
            Line::from(vec![Span::styled(format!(" {sym} "), style), Span::styled(label, title_style)])
        })
        .collect()
}

/// The open step's text, the hints revealed so far, the solution note or the recap.
pub fn body_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(step) = app.lesson.step(app.step) else { return Vec::new() };
    let mut lines = Vec::new();
    let complete = app.done.len() == app.lesson.steps.len();
    if complete && !app.lesson.recap.trim().is_empty() {
        lines.push(Line::from(Span::styled(format!("{} {}", text::SYM_DONE, text::LESSON_DONE), t.pass)));
        lines.extend(markdown::render(&app.names().fill(&app.lesson.recap), t));
        for link in &app.lesson.links {
            lines.push(Line::from(vec![
                Span::styled("• ", t.dim),
                Span::styled(link.title.clone(), t.base),
                Span::styled(format!(" <{}>", link.url), t.dim),
            ]));
        }
        lines.push(Line::from(Span::styled("─".repeat(20), t.border)));
    }
    // Step texts usually open with their own heading; add one only when they do not.
    if !step.text.trim_start().starts_with('#') {
        lines.push(Line::from(Span::styled(format!("Step {}: {}", app.step, step.title), t.heading)));
        lines.push(Line::default());
    }
    lines.extend(markdown::render(&app.names().fill(&step.text), t));
    let hints = crate::app::hint_list(app);
    let shown = app.hints_shown.get(&app.step).copied().unwrap_or(0).min(hints.len());
    if shown > 0 {
        lines.push(Line::default());
        for (i, h) in hints.iter().take(shown).enumerate() {
            lines.push(Line::from(vec![
                Span::styled(format!("{} {}/{}: ", text::HINT, i + 1, hints.len()), t.waiting),
                Span::styled(h.clone(), t.base),
            ]));
        }
    }
    if shown < hints.len() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!("{} {} ({} left)", text::HINTS_LEFT, "h", hints.len() - shown),
            t.dim,
        )));
    }
    let broken = app.reports.get(&app.step).is_some_and(|r| r.status() == StepStatus::NotYet);
    if app.done.contains(&app.step) && broken {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(format!("{} {}", text::SYM_BROKEN, text::STEP_BROKEN), t.fail)));
    } else if app.done.contains(&app.step) {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!("{} {} · s shows the reference solution", text::SYM_DONE, text::STEP_PASSED),
            t.pass,
        )));
    }
    lines
}

/// A check's detail line, wrapped to `width` with its text hanging under the first line's
/// (`      try: ...` continues under `...`, not at the pane's edge).
fn detail(lines: &mut Vec<Line<'static>>, width: usize, lead: &str, text: &str, style: ratatui::style::Style) {
    let first = format!("      {lead}");
    let hang = " ".repeat(first.chars().count());
    let opts = textwrap::Options::new(width.max(first.len() + 12)).initial_indent(&first).subsequent_indent(&hang);
    for l in textwrap::wrap(text, opts) {
        lines.push(Line::from(Span::styled(l.into_owned(), style)));
    }
}

/// A check's first line: its mark, then its name wrapped to `width` under itself.
fn headed(lines: &mut Vec<Line<'static>>, width: usize, mark: Span<'static>, name: &str, style: ratatui::style::Style) {
    let lead = mark.content.chars().count();
    let pad = " ".repeat(lead);
    let opts = textwrap::Options::new(width.max(lead + 12)).initial_indent(&pad).subsequent_indent(&pad);
    let mut wrapped = textwrap::wrap(name, opts).into_iter();
    let first = wrapped.next().map(|l| l[lead.min(l.len())..].to_string()).unwrap_or_default();
    lines.push(Line::from(vec![mark, Span::styled(first, style)]));
    lines.extend(wrapped.map(|l| Line::from(Span::styled(l.into_owned(), style))));
}

/// The live result of each check of the open step (kept in view below the text), for a pane
/// `width` columns wide.
pub fn check_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(step) = app.lesson.step(app.step) else { return Vec::new() };
    let mut lines = Vec::new();
    let head =
        if app.grading { format!("{} · {}", text::CHECKS, text::CHECKS_RUNNING) } else { text::CHECKS.to_string() };
    lines.push(Line::from(Span::styled(head, t.strong)));
    match app.reports.get(&app.step) {
        None => lines.push(Line::from(Span::styled(format!("  {}", text::CHECKS_NONE), t.dim))),
        Some(report) => {
            for check in &report.checks {
                match &check.outcome {
                    Outcome::Pass => {
                        let name = if check.proven {
                            format!("{} {}", check.name, text::CHECK_PROVEN)
                        } else {
                            check.name.clone()
                        };
                        headed(
                            &mut lines,
                            width,
                            Span::styled(format!("  {} {} ", text::SYM_DONE, text::CHECK_PASS), t.pass),
                            &name,
                            t.base,
                        )
                    }
                    Outcome::NotYet { reason, concern, hint } => {
                        headed(
                            &mut lines,
                            width,
                            Span::styled(format!("  {} {} ", text::SYM_FAILING, text::CHECK_NOT_YET), t.fail),
                            &check.name,
                            t.strong,
                        );
                        detail(&mut lines, width, "", reason, t.base);
                        let blank = concern.blank.and_then(|b| {
                            step.starter.as_ref().and_then(|s| s.blanks.get(b)).map(|bl| (b, bl.label.clone()))
                        });
                        let mut place = Vec::new();
                        if let Some(o) = &concern.object {
                            place.push(o.clone());
                        }
                        if let Some(f) = &concern.field {
                            place.push(f.clone());
                        }
                        if let Some((n, label)) = blank {
                            place.push(format!("blank #{} ({label})", n + 1));
                        }
                        if !place.is_empty() {
                            detail(&mut lines, width, "at ", &place.join(" · "), t.dim);
                        }
                        if let Some(h) = hint {
                            detail(&mut lines, width, "try: ", h, t.waiting);
                        }
                    }
                    Outcome::Waiting { what } => lines.push(Line::from(vec![
                        Span::styled(format!("  {} ", text::SYM_WAITING), t.waiting),
                        Span::styled(what.clone(), t.base),
                        Span::styled(format!("  ({})", check.name), t.dim),
                    ])),
                }
            }
        }
    }
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let done = app.done.len();
    let total = app.lesson.steps.len();
    let extra = Line::from(Span::styled(format!(" {done}/{total} done "), t.dim));
    let room = (area.width as usize).saturating_sub(text::PANE_LESSON.len() + 18);
    let title = format!("{}: {}", text::PANE_LESSON, fit(&app.lesson.title, room));
    let block = pane_block(app, Pane::Lesson, title, Some(extra));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let list_height = (total as u16).min(inner.height / 3).max(1);
    let msg_height = u16::from(app.message.is_some());
    let width = inner.width.max(1) as usize;
    let checks = check_lines(app, width);
    let wrapped: usize = checks.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    let checks_height = (wrapped as u16 + 1).min(inner.height.saturating_sub(list_height + 4) / 2);
    let [list, _gap, body, check_area, msg] = Layout::vertical([
        Constraint::Length(list_height),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(checks_height),
        Constraint::Length(msg_height),
    ])
    .areas(inner);
    // Keep the list cursor visible when there are more steps than rows.
    let first = app.selected.saturating_sub(list_height.saturating_sub(1) as usize);
    let rows: Vec<Line> = step_list(app, list.width as usize).into_iter().skip(first).collect();
    frame.render_widget(Paragraph::new(rows), list);
    let sep = Line::from(Span::styled("─".repeat(inner.width as usize), t.border));
    frame.render_widget(Paragraph::new(sep), _gap);
    frame.render_widget(Paragraph::new(body_lines(app)).wrap(Wrap { trim: false }).scroll((app.text_scroll, 0)), body);
    let [check_sep, check_body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(check_area);
    frame.render_widget(Paragraph::new(Span::styled("─".repeat(inner.width as usize), t.border)), check_sep);
    frame.render_widget(Paragraph::new(checks).wrap(Wrap { trim: false }), check_body);
    if let Some(m) = &app.message {
        let style = match m.level {
            Level::Good => t.pass,
            Level::Problem => t.fail,
            Level::Info => t.waiting,
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(m.text.clone(), style))).wrap(Wrap { trim: true }),
            msg,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Style;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn check_text_wraps_under_itself() {
        let mut lines = Vec::new();
        headed(&mut lines, 30, Span::raw("  ✗ not yet "), "StatefulSet web agrees with the Service", Style::new());
        detail(&mut lines, 30, "try: ", "Fill in the blanks of web.yaml and :apply.", Style::new());
        assert_eq!(
            texts(&lines),
            [
                "  ✗ not yet StatefulSet web",
                "            agrees with the",
                "            Service",
                "      try: Fill in the blanks",
                "           of web.yaml and",
                "           :apply.",
            ]
        );
        assert!(lines.iter().all(|l| l.width() <= 30));
    }
}
