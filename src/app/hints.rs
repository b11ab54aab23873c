//! What the tutor suggests to the learner: the hints of the open step, in tiers and in the
//! learner's own names, and the key that goes on to the next step from where they are.

use super::keys::Pane;
use super::App;

/// Hints of the open step, in the learner's own names (`{{service}}` and the like filled in):
/// first those of the blank the first failing check points at (its `try:` line is already on
/// screen under the check), then the step's own tiers, then the other blanks'.
pub fn hint_list(app: &App) -> Vec<String> {
    let Some(step) = app.lesson.step(app.step) else { return Vec::new() };
    let names = app.names();
    let failing_blank = app.reports.get(&app.step).and_then(|r| {
        r.checks.iter().find_map(|c| match &c.outcome {
            crate::grade::Outcome::NotYet { concern, .. } => Some(concern.blank),
            _ => None,
        })
    });
    let blank_hints = |b: &crate::lesson::model::Blank| -> Vec<String> {
        b.hints.iter().map(|h| format!("{}: {}", b.label, names.fill(h))).collect()
    };
    let mut hints: Vec<String> = Vec::new();
    let blanks = step.starter.as_ref().map(|s| s.blanks.as_slice()).unwrap_or_default();
    let first = failing_blank.flatten().filter(|b| *b < blanks.len());
    if let Some(b) = first {
        hints.extend(blank_hints(&blanks[b]));
    }
    hints.extend(step.hints.iter().map(|h| names.fill(h)));
    for (i, b) in blanks.iter().enumerate() {
        if Some(i) != first {
            hints.extend(blank_hints(b));
        }
    }
    hints
}

/// The key that opens the next step from the focused pane. In the editor Ctrl-N goes on only
/// once no blank is left (before, it selects the next blank): a step passed some other way
/// (kubectl apply from the learner's own terminal) leaves blanks in the editor.
pub fn next_step_key(app: &App) -> &'static str {
    if app.focus != Pane::Editor {
        "n"
    } else if app.editor.blanks().is_empty() {
        "Ctrl-N"
    } else {
        "Tab, n"
    }
}
