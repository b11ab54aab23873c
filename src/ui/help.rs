//! The help overlay, generated from the key tables of `app::keys` (each pane's, the global
//! ones, the command line's), the same tables keys are dispatched through, so it always says
//! what the keys really do.

use ratatui::text::{Line, Span};

use super::{pane_title, text};
use crate::app::keys::{commands, Action, Binding, COMMAND_LINE, GLOBAL};
use crate::app::{App, Pane};

/// Keys that mean the same in every pane but the editor: listed once, in their own section.
const OUTSIDE_EDITOR: [Action; 6] =
    [Action::NextStep, Action::CommandLine, Action::CloseOutput, Action::Quiz, Action::Help, Action::Quit];

fn section(app: &App, title: &str, bindings: &[Binding], out: &mut Vec<Line<'static>>) {
    section_without(app, title, bindings, &[], out);
}

fn section_without(app: &App, title: &str, bindings: &[Binding], skip: &[Action], out: &mut Vec<Line<'static>>) {
    let t = &app.theme;
    out.push(Line::from(Span::styled(title.to_string(), t.heading)));
    let mut seen = Vec::new();
    for b in bindings {
        if seen.contains(&b.action) || skip.contains(&b.action) {
            continue;
        }
        seen.push(b.action);
        out.push(Line::from(vec![Span::styled(format!("  {:<10} ", b.label), t.key), Span::styled(b.help, t.base)]));
    }
    out.push(Line::default());
}

/// The help text in two halves: each pane's keys (the focused pane first); then the global
/// keys and the command line.
pub fn columns(app: &App) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let t = &app.theme;
    let mut left = Vec::new();
    let mut panes = vec![app.shown_pane()];
    panes.extend(Pane::ALL.iter().copied().filter(|p| *p != app.shown_pane()));
    for p in panes {
        section_without(app, pane_title(p), commands(p), &OUTSIDE_EDITOR, &mut left);
    }
    let mut out = Vec::new();
    let common: Vec<Binding> =
        commands(Pane::Lesson).iter().filter(|b| OUTSIDE_EDITOR.contains(&b.action)).copied().collect();
    section(app, text::HELP_OUTSIDE_EDITOR, &common, &mut out);
    section_without(app, text::HELP_OUTPUT, commands(Pane::Output), &OUTSIDE_EDITOR, &mut out);
    section(app, text::HELP_GLOBAL, GLOBAL, &mut out);
    out.push(Line::from(Span::styled(text::HELP_COMMAND_LINE, t.heading)));
    // Keys without a help text (Backspace) go without saying.
    for b in COMMAND_LINE.iter().filter(|b| !b.help.is_empty()) {
        out.push(Line::from(vec![Span::styled(format!("  {:<10} ", b.label), t.key), Span::styled(b.help, t.base)]));
    }
    (left, out)
}
