//! Modal layers drawn over the panes: the help overlay, the diff of the live
//! object against the editor, and the reference solution next to the learner's text.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::{help, text, yaml};
use crate::app::keys::{mode_line, OVERLAY};
use crate::app::{App, DiffTag, Overlay};

fn centered(area: Rect, width_pct: u16, height_pct: u16) -> Rect {
    let w = (area.width * width_pct / 100).max(40.min(area.width));
    let h = (area.height * height_pct / 100).max(10.min(area.height));
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

fn frame_block(app: &App, title: &str) -> Block<'static> {
    let t = &app.theme;
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(t.focus_border)
        .title(Line::from(Span::styled(format!(" {title} "), t.title)))
        .title(Line::from(Span::styled(format!(" {} ", mode_line(OVERLAY)), t.dim)).right_aligned())
        .style(t.base)
}

/// YAML lines with highlighting (no cursor).
fn yaml_lines(app: &App, source: &str) -> Vec<Line<'static>> {
    source
        .lines()
        .map(|l| {
            let styles = yaml::line_styles(l, &app.theme);
            Line::from(l.chars().zip(styles).map(|(c, s)| Span::styled(c.to_string(), s)).collect::<Vec<_>>())
        })
        .collect()
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(overlay) = &app.overlay else { return };
    let t = &app.theme;
    match overlay {
        Overlay::Help { scroll } => {
            let (left, right) = help::columns(app);
            let r = if area.width >= 100 { centered(area, 90, 90) } else { area };
            frame.render_widget(Clear, r);
            let block = frame_block(app, text::HELP_TITLE);
            let inner = block.inner(r);
            frame.render_widget(block, r);
            // Side by side only when both columns fit whole once wrapped; else one column
            // that scrolls (j/k), so no key is ever cut off.
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).spacing(2).areas(inner);
            let (lp, rp) = (
                Paragraph::new(left.clone()).wrap(Wrap { trim: false }),
                Paragraph::new(right.clone()).wrap(Wrap { trim: false }),
            );
            let fits =
                lp.line_count(a.width) <= inner.height as usize && rp.line_count(b.width) <= inner.height as usize;
            if inner.width >= 90 && fits {
                frame.render_widget(lp, a);
                frame.render_widget(rp, b);
            } else {
                let mut all = left;
                all.extend(right);
                frame.render_widget(Paragraph::new(all).wrap(Wrap { trim: false }).scroll((*scroll, 0)), inner);
            }
        }
        Overlay::Diff { title, lines, scroll } => {
            let r = centered(area, 85, 80);
            frame.render_widget(Clear, r);
            let block = frame_block(app, title);
            let out: Vec<Line> = lines
                .iter()
                .map(|l| match l.tag {
                    DiffTag::Same => Line::from(Span::styled(format!("  {}", l.text), t.dim)),
                    DiffTag::Added => Line::from(Span::styled(format!("+ {}", l.text), t.diff_add)),
                    DiffTag::Removed => Line::from(Span::styled(format!("- {}", l.text), t.diff_del)),
                })
                .collect();
            frame.render_widget(Paragraph::new(out).block(block).scroll((*scroll, 0)), r);
        }
        Overlay::Solution { scroll } => {
            let r = centered(area, 95, 85);
            frame.render_widget(Clear, r);
            let block = frame_block(app, text::PANE_SOLUTION);
            let inner = block.inner(r);
            frame.render_widget(block, r);
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
            let mine = app.editor.text();
            let step = app.lesson.step(app.step);
            let solution = step.map(|s| s.solution.join("---\n")).unwrap_or_default();
            let actions = step.map(|s| s.solution_actions.clone()).unwrap_or_default();
            let mut theirs = yaml_lines(app, &solution);
            for a in actions {
                theirs.push(Line::from(Span::styled(format!(":{a}"), t.code)));
            }
            let side = |title: &str| {
                Block::default().borders(Borders::TOP).title(Span::styled(title.to_string(), t.strong)).style(t.base)
            };
            frame.render_widget(Paragraph::new(yaml_lines(app, &mine)).block(side("yours")).scroll((*scroll, 0)), left);
            frame.render_widget(Paragraph::new(theirs).block(side("reference")).scroll((*scroll, 0)), right);
        }
    }
}
