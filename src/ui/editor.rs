//! The editor pane: the step's manifest with YAML highlighting, `???` blanks, the cursor and
//! selection, a gutter with line numbers and marks (parse, schema and apply errors), the
//! error text next to its line, and a footer with the blank count and the apply state.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{fit, pane_block, text, yaml};
use crate::app::editor::MarkSource;
use crate::app::{App, ApplyState, Confirm, Pane};

/// Summary for the title: `2 blanks left · YAML error 3:7` etc.
fn summary(app: &App) -> Line<'static> {
    let t = &app.theme;
    let e = &app.editor;
    let blanks = e.blanks().len();
    let mut spans = vec![Span::raw(" ")];
    if blanks > 0 {
        spans.push(Span::styled(format!("{blanks} {}", text::BLANKS_LEFT), t.waiting));
    } else {
        spans.push(Span::styled(text::NO_BLANKS, t.pass));
    }
    spans.push(Span::styled(" · ", t.dim));
    match e.marks.iter().find(|m| m.source == MarkSource::Syntax) {
        Some(m) => spans.push(Span::styled(
            format!("{} {}:{}", text::YAML_ERROR, m.mark.line + 1, m.mark.column.unwrap_or(0) + 1),
            t.fail,
        )),
        None => {
            let schema = e.marks.iter().filter(|m| m.source == MarkSource::Schema).count();
            if schema > 0 {
                spans.push(Span::styled(format!("{} {} {schema}", text::YAML_OK, text::SCHEMA_ERROR), t.fail));
            } else {
                spans.push(Span::styled(text::YAML_OK, t.pass));
            }
        }
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

fn footer(app: &App) -> Line<'static> {
    let t = &app.theme;
    if let Some(Confirm::ResetEditor) = &app.confirm {
        return Line::from(Span::styled(text::RESET_CONFIRM, t.fail));
    }
    let cursor_marks: Vec<String> =
        app.editor.marks_at(app.editor.area.cursor().0).map(|m| m.mark.message.clone()).collect();
    match &app.apply {
        ApplyState::DryRun => Line::from(Span::styled(text::APPLY_DRY_RUN, t.waiting)),
        ApplyState::Applying => Line::from(Span::styled(text::APPLY_RUNNING, t.waiting)),
        ApplyState::Applied(what) => {
            Line::from(Span::styled(format!("{} {}", text::SYM_DONE, what.join(", ")), t.pass))
        }
        ApplyState::Failed(why) => {
            let mut spans = vec![Span::styled(format!("{} {}", text::SYM_FAILING, text::APPLY_FAILED), t.fail)];
            if app.result.is_some() {
                spans.push(Span::styled(format!(" {}", text::APPLY_SEE_OUTPUT), t.dim));
            }
            spans.push(Span::styled(": ", t.fail));
            spans.push(Span::styled(why.lines().next().unwrap_or_default().to_string(), t.base));
            Line::from(spans)
        }
        ApplyState::Idle if !cursor_marks.is_empty() => Line::from(Span::styled(cursor_marks.join("; "), t.fail)),
        ApplyState::Idle if app.editor.blank_at_cursor().is_some() => {
            let (i, blank) = app.editor.blank_at_cursor().expect("checked above");
            let total = app.editor.starter.as_ref().map(|s| s.blanks.len()).unwrap_or(0);
            let mut spans = vec![Span::styled(format!("??? {}/{total} {}", i + 1, blank.label), t.waiting)];
            if let Some(a) = &blank.agrees_with {
                spans.push(Span::styled(format!(" · must agree with {a}"), t.dim));
            }
            spans.push(Span::styled(" · type to fill", t.dim));
            Line::from(spans)
        }
        ApplyState::Idle => {
            let (r, c) = app.editor.area.cursor();
            Line::from(Span::styled(format!("{}:{}", r + 1, c + 1), t.dim))
        }
    }
}

/// The buffer line `row` with highlighting, selection and cursor, cut to `width` columns.
fn buffer_line(app: &App, row: usize, width: usize, focused: bool) -> Vec<Span<'static>> {
    let t = &app.theme;
    let line = &app.editor.area.lines()[row];
    let chars: Vec<char> = line.chars().collect();
    let mut styles = yaml::line_styles(line, t);
    let selection = app.editor.area.selection_range();
    let (crow, ccol) = app.editor.area.cursor();
    let mut chars_shown = chars.clone();
    if focused && crow == row && ccol >= chars.len() {
        chars_shown.push(' ');
        styles.push(t.base);
    }
    for (col, style) in styles.iter_mut().enumerate() {
        if let Some((start, end)) = selection {
            if (row, col) >= start && (row, col) < end {
                *style = style.patch(t.selection);
            }
        }
        if focused && row == crow && col == ccol {
            *style = style.patch(t.cursor);
        }
    }
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut run = String::new();
    let mut run_style: Option<Style> = None;
    for (c, s) in chars_shown.iter().zip(styles).take(width) {
        if run_style != Some(s) {
            if let Some(rs) = run_style {
                spans.push(Span::styled(std::mem::take(&mut run), rs));
            }
            run_style = Some(s);
        }
        run.push(*c);
    }
    if let Some(rs) = run_style {
        spans.push(Span::styled(run, rs));
    }
    spans
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let title = match app.editor.file_name() {
        "" => text::PANE_EDITOR.to_string(),
        f => format!("{}: {f}", text::PANE_EDITOR),
    };
    let extra = app.editor.has_starter().then(|| summary(app));
    let block = pane_block(app, Pane::Editor, title, extra);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if !app.editor.has_starter() {
        // Command-only steps: the commands run so far and their output, newest at the bottom.
        let mut lines = vec![Line::from(Span::styled(text::EDITOR_NO_STARTER, t.dim)), Line::default()];
        // The newest command's output is in the result area below; not twice.
        let in_result = app.result.as_ref().is_some_and(|r| {
            r.source == crate::app::ResultSource::Command && app.command_log.last().is_some_and(|(e, _)| *e == r.title)
        });
        let log = &app.command_log[..app.command_log.len() - usize::from(in_result)];
        for (echo, out) in log {
            lines.push(Line::from(Span::styled(echo.clone(), t.key)));
            lines.extend(out.lines().map(|l| Line::from(Span::styled(l.to_string(), t.base))));
        }
        let width = inner.width.max(1) as usize;
        let height: usize = lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
        let scroll = height.saturating_sub(inner.height as usize) as u16;
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)), inner);
        return;
    }
    let [body, foot] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let lines = app.editor.area.lines();
    let height = body.height as usize;
    let top = app.editor.scroll_top(height);
    let number_width = lines.len().to_string().len().max(2);
    let gutter = number_width + 3;
    let text_width = (body.width as usize).saturating_sub(gutter);
    let focused = app.focus == Pane::Editor;
    let mut out = Vec::with_capacity(height);
    for row in top..(top + height).min(lines.len()) {
        let marks: Vec<_> = app.editor.marks_at(row).collect();
        let (sign, sign_style) = match marks.first() {
            Some(_) => (text::SYM_FAILING, t.error_line),
            None => (" ", t.gutter),
        };
        let number_style = if marks.is_empty() { t.gutter } else { t.error_line };
        let mut spans = vec![
            Span::styled(format!("{:>number_width$} ", row + 1), number_style),
            Span::styled(sign.to_string(), sign_style),
            Span::styled(" ", t.gutter),
        ];
        let content = buffer_line(app, row, text_width, focused);
        let used: usize = content.iter().map(|s| s.content.chars().count()).sum();
        spans.extend(content);
        if let Some(m) = marks.first() {
            let room = text_width.saturating_sub(used + 3);
            if room > 8 {
                let msg = match m.mark.column {
                    Some(c) if m.source == MarkSource::Syntax => format!("col {}: {}", c + 1, m.mark.message),
                    _ => m.mark.message.clone(),
                };
                spans.push(Span::styled(format!("  ◀ {}", fit(&msg, room - 1)), t.error_line));
            }
        }
        out.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(out), body);
    frame.render_widget(Paragraph::new(footer(app)), foot);
}
