//! The lesson pane: the step list (a symbol and a colour per state), the open step's text
//! rendered from Markdown, the live result of each of its checks, and the hints revealed so far.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{fit, markdown, pane_block, text};
use crate::app::{App, ApplyState, Confirm, Level, Pane};
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

/// The open step's text (and the recap once the lesson is complete), for a pane `width`
/// columns wide. Code lines are never wrapped: a line too long for the pane is cut with a `›`
/// (the `c` key copies the whole block).
pub fn body_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(step) = app.lesson.step(app.step) else { return Vec::new() };
    let mut md = Vec::new();
    let complete = app.done.len() == app.lesson.steps.len();
    let mut lines = Vec::new();
    if complete && !app.lesson.recap.trim().is_empty() {
        lines.push(Line::from(Span::styled(format!("{} {}", text::SYM_DONE, text::LESSON_DONE), t.pass)));
        if app.lesson.steps.iter().any(|s| !s.quiz.is_empty()) {
            lines.push(Line::from(Span::styled(text::QUIZ_OFFER, t.key)));
        }
        md.extend(markdown::render(&app.names().fill(&app.lesson.recap), t, width));
        lines.extend(md.drain(..).map(|l| code_fit(l, width, 0, t)));
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
    let text = markdown::render(&app.names().fill(&step.text), t, width);
    // How far code can move sideways: until its longest line's end is in view.
    let longest = text.iter().filter(|l| l.code).map(|l| l.line.width()).max().unwrap_or(0);
    app.code_max_shift.set(u16::try_from(longest.saturating_sub(width.saturating_sub(2))).unwrap_or(u16::MAX));
    let shift = usize::from(app.code_shift.min(app.code_max_shift.get()));
    lines.extend(text.into_iter().map(|l| code_fit(l, width, shift, t)));
    lines
}

/// A code line shifted `shift` columns sideways (after its indent) and cut to `width`, with
/// `‹` where text is hidden on the left and `›` on the right; other lines as they are.
fn code_fit(l: markdown::MdLine, width: usize, shift: usize, t: &crate::ui::theme::Theme) -> Line<'static> {
    if !l.code || width < 4 || (shift == 0 && l.line.width() <= width) {
        return l.line;
    }
    let cells: Vec<(char, Style)> =
        l.line.spans.iter().flat_map(|s| s.content.chars().map(move |c| (c, s.style))).collect();
    let indent = cells.iter().take_while(|(c, _)| *c == ' ').count().min(cells.len());
    let body = &cells[indent..];
    let shift = shift.min(body.len().saturating_sub(1));
    let mut shown: Vec<(char, Style)> = cells[..indent].to_vec();
    shown.extend_from_slice(&body[shift..]);
    if shift > 0 {
        shown[indent] = ('‹', t.waiting);
    }
    if shown.len() > width {
        shown.truncate(width - 1);
        shown.push(('›', t.waiting));
    }
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (c, style) in shown {
        match spans.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push(c),
            _ => spans.push(Span::styled(c.to_string(), style)),
        }
    }
    Line::from(spans)
}

/// A check's detail line, wrapped to `width` with its text hanging under the first line's
/// (`      try: ...` continues under `...`, not at the pane's edge).
fn detail(lines: &mut Vec<Line<'static>>, width: usize, lead: &str, text: &str, style: Style) {
    let first = format!("      {lead}");
    let hang = " ".repeat(first.chars().count());
    let opts = super::wrap_options(width.max(first.len() + 12)).initial_indent(&first).subsequent_indent(&hang);
    for l in textwrap::wrap(text, opts) {
        lines.push(Line::from(Span::styled(l.into_owned(), style)));
    }
}

/// A check's first line: its mark, then its name wrapped to `width` under itself.
fn headed(lines: &mut Vec<Line<'static>>, width: usize, mark: Span<'static>, name: &str, style: Style) {
    let lead = mark.content.chars().count();
    let pad = " ".repeat(lead);
    let opts = super::wrap_options(width.max(lead + 12)).initial_indent(&pad).subsequent_indent(&pad);
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
    if let ApplyState::Failed(why) = &app.apply {
        let mut failed = Vec::new();
        headed(
            &mut failed,
            width,
            Span::styled(format!("  {} ", text::SYM_FAILING), t.fail),
            &format!("{}: {}", text::LAST_APPLY_FAILED, why.lines().next().unwrap_or_default()),
            t.fail,
        );
        // The whole text is in the result area while it is open; here, its start.
        if app.result.is_some() && failed.len() > 3 {
            failed.truncate(3);
            failed.push(Line::from(Span::styled(format!("    {}", text::APPLY_MORE_IN_OUTPUT), t.dim)));
        }
        lines.extend(failed);
        if app.reports.contains_key(&app.step) {
            detail(&mut lines, width, "", text::CHECKS_BEFORE_APPLY, t.dim);
        }
    }
    // What the learner is asked to do comes first, before the results it follows from.
    if app.awaiting_probe {
        let asked: Vec<String> =
            crate::app::tutor_commands(&app.names().fill(&step.text)).iter().map(|c| format!(":{c}")).collect();
        let ask = format!("{} {}", text::YOUR_TURN, asked.join(" or "));
        headed(&mut lines, width, Span::styled("  ▶ ".to_string(), t.current), &ask, t.strong);
        detail(&mut lines, width, "", text::YOUR_TURN_OR, t.dim);
    }
    let passed = app.done.contains(&app.step);
    let broken = passed && app.reports.get(&app.step).is_some_and(|r| r.status() == StepStatus::NotYet);
    if broken {
        let mark = Span::styled(format!("  {} ", text::SYM_BROKEN), t.fail);
        headed(&mut lines, width, mark, text::STEP_BROKEN, t.fail);
    } else if passed {
        let mark = Span::styled(format!("  {} ", text::SYM_DONE), t.pass);
        headed(&mut lines, width, mark, &format!("{}. {}", text::STEP_PASSED, text::PROVED), t.pass);
    }
    match app.reports.get(&app.step) {
        None => detail(&mut lines, width, "", text::CHECKS_NONE, t.dim),
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
                        );
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
                    Outcome::Waiting { what } => {
                        headed(
                            &mut lines,
                            width,
                            Span::styled(format!("  {} ", text::SYM_WAITING), t.waiting),
                            what,
                            t.base,
                        );
                        detail(&mut lines, width, "", &format!("({})", check.name), t.dim);
                    }
                }
            }
        }
    }
    if passed {
        let mut next = String::new();
        if app.step + 1 < app.lesson.steps.len() {
            next = format!("{}: {} · ", crate::app::next_step_key(app), text::NEXT_STEP);
        }
        detail(&mut lines, width, "", &format!("{next}{}", text::SOLUTION_KEY), t.dim);
    }
    hint_lines(app, width, &mut lines);
    lines
}

/// The hints revealed so far, each in full under the checks, and how many are left.
fn hint_lines(app: &App, width: usize, lines: &mut Vec<Line<'static>>) {
    let t = &app.theme;
    let hints = crate::app::hint_list(app);
    let shown = app.hints_shown.get(&app.step).copied().unwrap_or(0).min(hints.len());
    for (i, h) in hints.iter().take(shown).enumerate() {
        let mark = Span::styled(format!("  {} {}/{}: ", text::HINT, i + 1, hints.len()), t.waiting);
        headed(lines, width, mark, h, t.base);
    }
    if shown < hints.len() && !app.done.contains(&app.step) {
        lines.push(Line::from(Span::styled(format!("  {} h ({} left)", text::HINTS_LEFT, hints.len() - shown), t.dim)));
    }
}

/// The message line's text wrapped to `width` (every refusal and notice is read in full).
/// `in_lesson`: for the lesson pane's own message line, where a hint is not repeated (it is
/// right above, under the checks).
pub fn message_lines(app: &App, width: usize, in_lesson: bool) -> Vec<Line<'static>> {
    let t = &app.theme;
    // A question waiting for y/n comes first: it must be read whole before answering.
    let (text, style) = match (&app.confirm, &app.message) {
        (Some(Confirm::RunCommand { question, .. } | Confirm::Restart { question, .. }), _) => (question, t.fail),
        (_, Some(m)) if in_lesson && m.level == Level::Hint => return Vec::new(),
        (_, Some(m)) => (
            &m.text,
            match m.level {
                Level::Good => t.pass,
                Level::Problem => t.fail,
                Level::Info | Level::Hint => t.waiting,
            },
        ),
        _ => return Vec::new(),
    };
    textwrap::wrap(text, super::wrap_options(width.max(8)))
        .into_iter()
        .map(|l| Line::from(Span::styled(l.into_owned(), style)))
        .collect()
}

/// `lines` cut to `rows`, with a marker where more is: the end is kept when `keep_end`
/// (a hint just revealed), else the start.
fn clip(mut lines: Vec<Line<'static>>, rows: usize, keep_end: bool, app: &App) -> Vec<Line<'static>> {
    if lines.len() <= rows || rows == 0 {
        return lines;
    }
    let t = &app.theme;
    if keep_end {
        let mut tail = lines.split_off(lines.len() - rows);
        tail[0] = Line::from(Span::styled(text::MORE_ABOVE, t.waiting));
        tail
    } else {
        lines.truncate(rows);
        lines[rows - 1] = Line::from(Span::styled(text::MORE_CHECKS, t.waiting));
        lines
    }
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
    let width = inner.width.max(1) as usize;
    // On a short pane the step list shrinks to the selected step, to leave room for checks.
    let list_height = if inner.height < 16 { 1 } else { (total as u16).min(inner.height / 3).max(1) };
    let mut message = message_lines(app, width, true);
    message.truncate((inner.height / 4).max(2) as usize);
    let msg_height = message.len() as u16;
    let avail = inner.height.saturating_sub(list_height + 1 + msg_height);
    let checks = check_lines(app, width);
    let want = checks.len() as u16 + 1;
    // Checks share the room with the text; more of it when there is more to read there.
    let failing = app.attempted.contains(&app.step)
        && app.reports.get(&app.step).is_some_and(|r| r.status() == StepStatus::NotYet);
    let busy = app.hints_shown.get(&app.step).is_some_and(|n| *n > 0)
        || app.awaiting_probe
        || failing
        || matches!(app.apply, ApplyState::Failed(_));
    let cap = if busy { avail * 3 / 5 } else { avail / 2 };
    let checks_height = want.min(cap.max(4)).min(avail.saturating_sub(2));
    let [list, gap, body, check_area, msg] = Layout::vertical([
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
    frame.render_widget(Paragraph::new(sep), gap);
    let text = Paragraph::new(body_lines(app, width)).wrap(Wrap { trim: false });
    let text_rows = text.line_count(body.width);
    let max_scroll = text_rows.saturating_sub(body.height as usize);
    let scroll = (app.text_scroll as usize).min(max_scroll);
    app.text_max_scroll.set(u16::try_from(max_scroll).unwrap_or(u16::MAX));
    frame.render_widget(text.scroll((scroll as u16, 0)), body);
    if scroll < max_scroll && body.height > 1 {
        // Say that the text goes on below the fold.
        let marker = Rect { y: body.y + body.height - 1, height: 1, ..body };
        let label = format!(" {} ", text::MORE_BELOW);
        frame.render_widget(Clear, marker);
        frame.render_widget(Paragraph::new(Line::from(Span::styled(label, t.waiting)).right_aligned()), marker);
    }
    if check_area.height > 0 {
        let [check_sep, check_body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(check_area);
        frame.render_widget(Paragraph::new(Span::styled("─".repeat(inner.width as usize), t.border)), check_sep);
        // A hint just revealed is at the end; an apply failure at the start wins over it.
        let hinted = app.hints_shown.get(&app.step).is_some_and(|n| *n > 0);
        let keep_end = hinted && !matches!(app.apply, ApplyState::Failed(_));
        let shown = clip(checks, check_body.height as usize, keep_end, app);
        frame.render_widget(Paragraph::new(shown), check_body);
    }
    frame.render_widget(Paragraph::new(message), msg);
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
