//! The recap quiz overlay: the question, its choices (numbered as the keys that take them),
//! then whether the answer was right and why; at the end the score, question by question. It
//! reads `App::quiz`; the key line comes from `keys::QUIZ`.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::text;
use super::theme::Theme;
use crate::app::keys::{mode_hints, QUIZ};
use crate::app::App;

/// Spans of `s` with its `code` parts styled as code (the backticks dropped).
fn inline(s: &str, base: Style, t: &Theme) -> Vec<Span<'static>> {
    s.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| Span::styled(part.to_string(), if i % 2 == 1 { t.code } else { base }))
        .collect()
}

/// The overlay's width: most of a wide screen, all of a narrow one.
fn width_for(area: Rect) -> u16 {
    if area.width < 100 {
        area.width
    } else {
        (area.width * 70 / 100).max(60)
    }
}

/// Centred, as high as its `rows` of text (plus frame and key line), at most the screen.
fn area_for(area: Rect, width: u16, rows: usize) -> Rect {
    let h = u16::try_from(rows + 3).unwrap_or(u16::MAX).clamp(12.min(area.height), area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - h) / 2, width, height: h }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(quiz) = &app.quiz else { return };
    let t = &app.theme;
    let width = width_for(area);
    let title = match quiz.current(&app.lesson) {
        Some((step, _)) => format!(
            " {} · question {}/{} · step {step}: {} ",
            text::QUIZ_TITLE,
            quiz.at + 1,
            quiz.items.len(),
            app.lesson.steps[step].title
        ),
        None => format!(" {} · {} of {} right ", text::QUIZ_TITLE, quiz.score(), quiz.items.len()),
    };
    let lines = body(app, quiz);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let r = area_for(area, width, paragraph.line_count(width.saturating_sub(2)));
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(t.focus_border)
        .title(Line::from(Span::styled(super::fit(&title, r.width.saturating_sub(4) as usize), t.title)))
        .style(t.base);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let [text_area, keys] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(paragraph, text_area);
    let mut spans = Vec::new();
    for (k, what) in mode_hints(QUIZ) {
        spans.push(Span::styled(k.to_string(), t.key));
        spans.push(Span::styled(format!(" {what}  "), t.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), keys);
}

/// The question and its choices (answered: right or wrong, and why), or the score.
fn body(app: &App, quiz: &crate::app::quiz::Quiz) -> Vec<Line<'static>> {
    let t = &app.theme;
    let names = app.names();
    let fill = |s: &str| names.fill(s);
    let mut lines: Vec<Line<'static>> = Vec::new();
    match quiz.current(&app.lesson) {
        Some((_, q)) => {
            lines.push(Line::from(inline(&fill(&q.question), t.strong, t)));
            lines.push(Line::default());
            for (i, choice) in q.choices.iter().enumerate() {
                let (mark, style) = match quiz.chosen {
                    None if i == quiz.selected => ("▸", t.selected),
                    None => (" ", t.base),
                    Some(_) if i == q.answer => ("✓", t.pass),
                    Some(c) if c == i => ("✗", t.fail),
                    Some(_) => (" ", t.dim),
                };
                let mut spans =
                    vec![Span::styled(format!("{mark} "), style), Span::styled(format!("{}  ", i + 1), t.key)];
                spans.extend(inline(&fill(choice), style, t));
                lines.push(Line::from(spans));
            }
            if let Some(c) = quiz.chosen {
                lines.push(Line::default());
                let verdict = if c == q.answer {
                    Span::styled(text::QUIZ_RIGHT, t.pass)
                } else {
                    Span::styled(text::QUIZ_WRONG.replace("{n}", &(q.answer + 1).to_string()), t.fail)
                };
                lines.push(Line::from(verdict));
                lines.push(Line::from(inline(&fill(&q.explain), t.base, t)));
                if quiz.at + 1 == quiz.items.len() {
                    lines.push(Line::default());
                    lines.push(Line::from(Span::styled(text::QUIZ_DONE, t.dim)));
                }
            }
        }
        None => {
            lines.push(Line::from(Span::styled(
                text::QUIZ_SCORE
                    .replace("{right}", &quiz.score().to_string())
                    .replace("{n}", &quiz.items.len().to_string()),
                t.strong,
            )));
            lines.push(Line::default());
            for (n, (&(step, q), right)) in quiz.items.iter().zip(&quiz.results).enumerate() {
                let question = &app.lesson.steps[step].quiz[q];
                let (mark, style) = if *right { (text::SYM_DONE, t.pass) } else { ("✗", t.fail) };
                let mut spans = vec![Span::styled(format!("{mark} {:>2}  ", n + 1), style)];
                spans.extend(inline(&fill(&question.question), t.base, t));
                lines.push(Line::from(spans));
            }
        }
    }
    lines
}
