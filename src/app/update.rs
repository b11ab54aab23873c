//! `update`: the one place the App changes. It maps events to state changes and returns the
//! effects to run (grading, apply, commands, draft loads and saves, timers); it never awaits or
//! does I/O (a step's draft comes in as [`Event::DraftLoaded`]).

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::hints::{hint_list, next_step_key};
use super::keys::{self, Action, Bound, CommandAction, ConfirmAction, Mode, OverlayAction, Pane};
use super::watch::pod_rows;
use super::{
    App, ApplyState, CommandLine, Confirm, Effect, Event, Level, Message, Overlay, ResultBox, ResultSource, Timer,
};
use crate::cluster::watch::ClusterEvent;
use crate::grade::StepStatus;
use crate::text;

/// Grading waits this long after the lesson's objects last changed.
pub(super) const GRADE_DEBOUNCE: Duration = Duration::from_millis(300);
/// A keystroke is on disk at most this long after it was typed: the first change after a save
/// schedules the next save (a burst of typing is one write, and a kill -9 loses at most this).
pub const DRAFT_DELAY: Duration = Duration::from_millis(50);
/// Command output up to this many characters on one line goes to the message line instead of
/// the result area.
const SHORT_OUTPUT: usize = 72;
/// Commands kept in the command log.
const COMMAND_LOG: usize = 30;
/// Lines per PgUp/PgDn in the lesson text.
const PAGE: u16 = 10;
/// Columns per ←/→ for the code lines of the lesson text.
const CODE_STEP: u16 = 16;
/// How long a changed pod row stays highlighted.
pub(super) const HIGHLIGHT: Duration = Duration::from_secs(2);

/// Apply `event` to `app`; returns what to do next.
pub fn update(app: &mut App, event: Event) -> Vec<Effect> {
    let mut fx = Vec::new();
    if app.draft_loading.is_some() && matches!(event, Event::Key(_) | Event::Paste(_)) {
        // The step's draft is on its way: typing waits for it (keys stay in order).
        app.waiting.push(event);
        return fx;
    }
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            app.dirty = true;
            let before = app.editor.generation;
            on_key(app, key, &mut fx);
            if app.editor.generation != before {
                fx.extend(schedule_draft(app));
            }
        }
        Event::Key(_) => {}
        Event::Resize(..) => app.dirty = true,
        Event::Tick => {
            // Ages only move when there are pods to show.
            if !app.snapshot.pods.is_empty() {
                app.dirty = true;
            }
        }
        Event::Cluster(ClusterEvent::Connection(c)) => {
            app.connection = c;
            app.dirty = true;
        }
        Event::Cluster(ClusterEvent::Changed { snapshot, new_entries }) => {
            let old = pod_rows(&app.snapshot);
            let new = pod_rows(&snapshot);
            let until = app.now + jiff::SignedDuration::try_from(HIGHLIGHT).unwrap_or_default();
            for row in &new {
                if !old.iter().any(|o| o == row) {
                    app.changed.insert(row.name.clone(), until);
                }
            }
            if new.iter().any(|r| app.changed.get(&r.name) == Some(&until)) {
                fx.push(Effect::After { delay: HIGHLIGHT, timer: Timer::Fade });
            }
            app.snapshot = snapshot;
            app.history.entries.extend(new_entries);
            app.dirty = true;
            app.grade_generation += 1;
            fx.push(Effect::After { delay: GRADE_DEBOUNCE, timer: Timer::Grade(app.grade_generation) });
        }
        Event::Timer(Timer::Grade(generation)) => {
            if generation == app.grade_generation {
                fx.extend(grade(app));
            }
        }
        Event::Timer(Timer::SaveDraft(_)) => {
            app.draft_pending = false;
            fx.extend(save_draft(app));
        }
        Event::Timer(Timer::Fade) => {
            let now = app.now;
            let before = app.changed.len();
            app.changed.retain(|_, until| *until > now);
            app.dirty |= before != app.changed.len();
        }
        Event::Graded(report) => on_graded(app, report, &mut fx),
        Event::Applied { dry_run, result } => on_applied(app, dry_run, result, &mut fx),
        Event::CommandDone { echo, result } => on_command_done(app, echo, result),
        Event::Notice(level, text) => {
            app.message = Some(Message { level, text });
            app.dirty = true;
        }
        Event::Paste(text) => {
            app.dirty = true;
            if app.command.is_some() {
                if let Some(cmd) = app.command.as_mut() {
                    cmd.input.push_str(text.lines().next().unwrap_or(""));
                }
            } else if app.mode() == Mode::Pane(Pane::Editor) && app.editor.has_starter() {
                if app.readonly {
                    read_only_editor(app);
                    return fx;
                }
                app.editor.paste(&text);
                fx.extend(schedule_draft(app));
            }
        }
        Event::SaveFailed(what) => {
            app.message = Some(Message { level: Level::Problem, text: what });
            app.dirty = true;
        }
        Event::Restarted { index, result } => {
            app.dirty = true;
            match result {
                Ok(deleted) => {
                    app.done = (0..index).collect();
                    app.reports.clear();
                    fx.extend(app.begin_step(index));
                    let text =
                        text::RESTARTED.replace("{n}", &index.to_string()).replace("{k}", &deleted.len().to_string());
                    app.message = Some(Message { level: Level::Good, text });
                    fx.extend(grade(app));
                }
                Err(e) => {
                    app.message =
                        Some(Message { level: Level::Problem, text: format!("{}: {e}", text::RESTART_FAILED) });
                }
            }
        }
        Event::DraftLoaded { index, loaded } => {
            for waited in app.draft_loaded(index, loaded) {
                fx.extend(update(app, waited));
            }
        }
        Event::Terminate => {
            fx.extend(save_draft(app));
            fx.push(Effect::Quit);
            app.quit = true;
        }
    }
    fx
}

fn grade(app: &mut App) -> Vec<Effect> {
    if app.lesson.step(app.step).is_none_or(|s| s.checks.is_empty()) {
        return Vec::new();
    }
    app.grading = true;
    app.dirty = true;
    vec![Effect::Grade { index: app.step, snapshot: app.snapshot.clone(), history: app.history.clone() }]
}

fn save_draft(app: &App) -> Option<Effect> {
    // While the draft is read, the editor holds the starter: saving it would overwrite the draft.
    if !app.editor.has_starter() || app.readonly || app.draft_loading.is_some() {
        return None;
    }
    Some(Effect::SaveDraft { path: app.draft_path()?, text: app.editor.text(), cursor: app.editor.area.cursor() })
}

/// The editor changed: a save within [`DRAFT_DELAY`], unless one is already on its way.
fn schedule_draft(app: &mut App) -> Option<Effect> {
    if app.draft_pending || app.readonly {
        return None;
    }
    app.draft_pending = true;
    Some(Effect::After { delay: DRAFT_DELAY, timer: Timer::SaveDraft(app.editor.generation) })
}

/// A command finished: into the transcript; a one-line answer to the message line, anything
/// longer (or an error) to the result area, where it is shown in full and scrolls.
fn on_command_done(app: &mut App, echo: String, result: Result<String, String>) {
    app.dirty = true;
    app.message = None;
    let (text, level) = match result {
        Ok(out) => (out, Level::Info),
        Err(e) => (format!("error: {e}"), Level::Problem),
    };
    app.command_log.push((echo.clone(), text.clone()));
    if app.command_log.len() > COMMAND_LOG {
        app.command_log.remove(0);
    }
    let trimmed = text.trim_end();
    if level == Level::Info && !trimmed.contains('\n') && trimmed.chars().count() <= SHORT_OUTPUT {
        let shown = if trimmed.is_empty() { text::CMD_NO_OUTPUT } else { trimmed };
        app.message = Some(Message { level: Level::Good, text: format!("{echo} → {shown}") });
        if app.result.as_ref().is_some_and(|r| r.source == ResultSource::Command) {
            app.close_result();
        }
    } else {
        app.result = Some(ResultBox { source: ResultSource::Command, title: echo, text, level, scroll: 0 });
    }
    // The answer stays readable when it also completes the step: both, one under the other.
    let answer = app.message.take();
    maybe_complete(app);
    app.message = match (answer, app.message.take()) {
        (Some(a), Some(done)) => Some(Message { level: done.level, text: format!("{}\n{}", a.text, done.text) }),
        (a, done) => done.or(a),
    };
}

/// The open step counts as done: its checks pass and, where it asks the learner to look for
/// themselves, they did.
fn maybe_complete(app: &mut App) {
    let index = app.step;
    let passed = app.reports.get(&index).is_some_and(|r| r.status() == StepStatus::Pass);
    if !passed || app.done.contains(&index) {
        return;
    }
    if app.asks_to_probe(index) && !app.attempted.contains(&index) {
        app.awaiting_probe = true;
        return;
    }
    app.awaiting_probe = false;
    app.done.insert(index);
    let title = app.lesson.steps[index].title.clone();
    let text = if index + 1 < app.lesson.steps.len() {
        app.selected = index + 1;
        text::STEP_PASSED_NEXT
            .replace("{n}", &index.to_string())
            .replace("{title}", &title)
            .replace("{next}", &(index + 1).to_string())
            .replace("{key}", next_step_key(app))
    } else {
        format!("{} {}. {}", text::SYM_DONE, text::LESSON_DONE, text::QUIZ_OFFER)
    };
    app.message = Some(Message { level: Level::Good, text });
}

/// A grade arrived. A pass keeps the step on screen with what it proved; the learner goes on
/// when they are ready (`n`, or Ctrl-N in the editor).
fn on_graded(app: &mut App, report: crate::grade::StepReport, fx: &mut Vec<Effect>) {
    app.grading = false;
    app.dirty = true;
    let index = report.index;
    app.reports.insert(index, report);
    if index != app.step || app.done.contains(&index) {
        return;
    }
    maybe_complete(app);
    if app.done.contains(&index) {
        fx.push(Effect::SaveProgress { current: app.step, done: app.done.clone() });
    }
}

/// Open the step after the open one. On a step that passed but asked the learner to look
/// first, going on anyway counts it done (they may have looked from their own terminal).
fn next_step(app: &mut App, fx: &mut Vec<Effect>) {
    let index = app.step;
    if app.awaiting_probe {
        app.awaiting_probe = false;
        app.done.insert(index);
        fx.push(Effect::SaveProgress { current: app.step, done: app.done.clone() });
    }
    if index + 1 >= app.lesson.steps.len() {
        let text = if app.done.len() == app.lesson.steps.len() {
            format!("{} {}", text::SYM_DONE, text::LESSON_DONE)
        } else {
            text::LAST_STEP.to_string()
        };
        app.message = Some(Message { level: Level::Info, text });
        return;
    }
    fx.extend(save_draft(app));
    fx.extend(app.begin_step(index + 1));
    app.focus = if app.editor.has_starter() { Pane::Editor } else { Pane::Lesson };
    fx.push(Effect::SaveProgress { current: app.step, done: app.done.clone() });
    fx.extend(grade(app));
}

fn on_applied(app: &mut App, dry_run: bool, result: Result<Vec<String>, super::ApplyFailure>, fx: &mut Vec<Effect>) {
    app.dirty = true;
    match result {
        Ok(_) if dry_run => {
            app.apply = ApplyState::Applying;
            fx.push(Effect::Apply {
                yaml: app.editor.text(),
                dry_run: false,
                force: std::mem::take(&mut app.force_next),
            });
        }
        Ok(applied) => {
            app.editor.set_apply_marks(Vec::new());
            app.apply = ApplyState::Applied(applied);
            if app.result.as_ref().is_some_and(|r| r.source == ResultSource::Apply) {
                app.close_result();
            }
            fx.extend(grade(app));
        }
        Err(failure) => {
            app.editor.set_apply_marks(failure.marks);
            app.force_next = failure.conflict;
            let message =
                if failure.conflict { format!("{} ({})", failure.message, text::APPLY_FORCE) } else { failure.message };
            app.result = Some(ResultBox {
                source: ResultSource::Apply,
                title: text::APPLY_FAILED.to_string(),
                text: message.clone(),
                level: Level::Problem,
                scroll: 0,
            });
            app.apply = ApplyState::Failed(message);
        }
    }
}

/// A key, dispatched through the table of the mode the app is in.
fn on_key(app: &mut App, key: KeyEvent, fx: &mut Vec<Effect>) {
    let mode = app.mode();
    match (mode, keys::resolve(mode, &key)) {
        (_, Some(Bound::Pane(Action::Quit))) if mode != Mode::Pane(app.focus) => quit(app, fx),
        (Mode::Quiz, _) => super::quiz::on_key(app, key, fx),
        (Mode::Confirm, bound) => {
            let yes = bound == Some(Bound::Confirm(ConfirmAction::Yes));
            if let Some(confirm) = app.confirm.take() {
                if yes {
                    confirmed(app, confirm, fx);
                }
            }
        }
        (Mode::CommandLine, bound) => command_key(app, key, bound, fx),
        (Mode::Overlay, Some(Bound::Overlay(action))) => overlay_key(app, action),
        (Mode::Overlay, _) => {}
        (Mode::Pane(_), bound) => pane_key(app, key, bound, fx),
    }
}

/// The y of a y / n question.
fn confirmed(app: &mut App, confirm: Confirm, fx: &mut Vec<Effect>) {
    match confirm {
        Confirm::ResetEditor => {
            if let Some(s) = &app.editor.starter {
                let text = s.text.clone();
                app.editor.set_text(&text);
                app.editor.set_apply_marks(Vec::new());
                app.apply = ApplyState::Idle;
                app.message = Some(Message { level: Level::Info, text: text::RESET_DONE.into() });
            }
        }
        Confirm::RunCommand { line, .. } => fx.push(run_command(app, line)),
        Confirm::Restart { index, .. } => {
            fx.extend(save_draft(app));
            app.message =
                Some(Message { level: Level::Info, text: text::RESTARTING.replace("{n}", &index.to_string()) });
            fx.push(Effect::Restart { index });
        }
    }
}

fn overlay_key(app: &mut App, action: OverlayAction) {
    let Some(overlay) = &mut app.overlay else { return };
    let (Overlay::Help { scroll } | Overlay::Diff { scroll, .. } | Overlay::Solution { scroll }) = overlay;
    match action {
        OverlayAction::Close => app.overlay = None,
        OverlayAction::Down => *scroll = scroll.saturating_add(1),
        OverlayAction::Up => *scroll = scroll.saturating_sub(1),
        OverlayAction::PageDown => *scroll = scroll.saturating_add(PAGE),
        OverlayAction::PageUp => *scroll = scroll.saturating_sub(PAGE),
    }
}

/// A key in a pane: its binding, else typing in the editor.
fn pane_key(app: &mut App, key: KeyEvent, bound: Option<Bound>, fx: &mut Vec<Effect>) {
    app.message = None;
    match bound {
        Some(Bound::Pane(action)) => act(app, action, fx),
        Some(_) => {}
        None if app.focus == Pane::Editor && key.code == KeyCode::Esc => {
            // Esc first drops a selection, then closes the result area.
            if app.editor.area.selection_range().is_some() {
                app.editor.area.cancel_selection();
            } else {
                app.close_result();
            }
        }
        None if app.focus == Pane::Editor && app.editor.has_starter() => {
            if app.readonly {
                if !app.editor.input_readonly(key) {
                    read_only_editor(app);
                }
            } else {
                app.editor.input(key);
            }
        }
        None => {}
    }
}

/// An edit in a read-only session: refused, and said why.
fn read_only_editor(app: &mut App) {
    app.message = Some(Message { level: Level::Info, text: text::READ_ONLY_EDITOR.into() });
}

fn quit(app: &mut App, fx: &mut Vec<Effect>) {
    fx.extend(save_draft(app));
    fx.push(Effect::Quit);
    app.quit = true;
}

fn act(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    let steps = app.lesson.steps.len();
    match action {
        Action::Quit => quit(app, fx),
        Action::FocusNext => app.set_focus(app.focus.next(app.result.is_some())),
        Action::FocusPrev => app.set_focus(app.focus.prev(app.result.is_some())),
        Action::Help => app.overlay = Some(Overlay::Help { scroll: 0 }),
        Action::CommandLine => app.command = Some(CommandLine::default()),
        Action::Grade => fx.extend(grade(app)),
        Action::StepUp => app.selected = app.selected.saturating_sub(1),
        Action::StepDown => app.selected = (app.selected + 1).min(steps.saturating_sub(1)),
        // The focus stays in the step list, so its keys (h, s, n) keep working.
        Action::OpenStep => {
            if app.selected != app.step {
                fx.extend(save_draft(app));
                fx.extend(app.begin_step(app.selected));
                fx.push(Effect::SaveProgress { current: app.step, done: app.done.clone() });
                fx.extend(grade(app));
            }
        }
        Action::NextStep => next_step(app, fx),
        Action::CodeLeft => app.code_shift = app.code_shift.saturating_sub(CODE_STEP),
        Action::CodeRight => app.code_shift = app.code_shift.saturating_add(CODE_STEP).min(app.code_max_shift.get()),
        Action::CopyBlock => super::commands::copy_block(app, fx),
        Action::OutputUp | Action::OutputDown | Action::OutputPageUp | Action::OutputPageDown => {
            if let Some(r) = app.result.as_mut() {
                r.scroll = match action {
                    Action::OutputUp => r.scroll.saturating_sub(1),
                    Action::OutputDown => r.scroll.saturating_add(1),
                    Action::OutputPageUp => r.scroll.saturating_sub(PAGE),
                    _ => r.scroll.saturating_add(PAGE),
                };
            }
        }
        Action::CloseOutput => app.close_result(),
        Action::Quiz => super::quiz::open(app),
        Action::ScrollUp => app.text_scroll = app.text_scroll.saturating_sub(PAGE),
        Action::ScrollDown => app.text_scroll = app.text_scroll.saturating_add(PAGE).min(app.text_max_scroll.get()),
        Action::NextHint => {
            let available = hint_list(app).len();
            let shown = app.hints_shown.entry(app.step).or_default();
            if *shown < available {
                *shown += 1;
                // The hint shows in full under the checks; on a narrow screen whose tab is not
                // the lesson, on the message line too.
                fx.push(Effect::HintUsed { index: app.step });
                let n = *shown;
                let hint = hint_list(app).get(n - 1).cloned().unwrap_or_default();
                app.message =
                    Some(Message { level: Level::Hint, text: format!("{} {n}/{available}: {hint}", text::HINT) });
            } else {
                app.message = Some(Message { level: Level::Info, text: text::NO_MORE_HINTS.into() });
            }
        }
        Action::Restart if app.readonly => {
            app.message = Some(Message { level: Level::Info, text: text::READ_ONLY.into() });
        }
        Action::Restart => {
            // Ahead of the learner's progress is a skip; at or behind it, a fresh start.
            let index = app.selected;
            let question = if index > app.frontier() {
                text::SKIP_QUESTION.replace("{n}", &index.to_string())
            } else {
                text::RESTART_QUESTION.replace("{n}", &index.to_string())
            };
            app.confirm = Some(Confirm::Restart { index, question });
        }
        Action::ShowSolution => {
            if app.done.contains(&app.step) {
                app.overlay = Some(Overlay::Solution { scroll: 0 });
            } else {
                app.message = Some(Message { level: Level::Info, text: text::SOLUTION_LOCKED.into() });
            }
        }
        Action::NextBlank | Action::PrevBlank => {
            if !app.editor.select_blank(action == Action::NextBlank) {
                if action == Action::NextBlank && app.done.contains(&app.step) {
                    return next_step(app, fx);
                }
                app.message = Some(Message { level: Level::Info, text: text::NO_BLANKS.into() });
            }
        }
        Action::Apply => start_apply(app, fx),
        Action::Diff => super::diff::show_diff(app),
        Action::Reset | Action::Undo | Action::Redo if app.readonly => read_only_editor(app),
        Action::Reset => {
            if app.editor.has_starter() {
                app.confirm = Some(Confirm::ResetEditor);
            }
        }
        Action::Undo => {
            app.editor.undo();
        }
        Action::Redo => {
            app.editor.redo();
        }
        Action::TimelineUp => {
            app.timeline_back = (app.timeline_back + 1).min(app.history.entries.len().saturating_sub(1));
        }
        Action::TimelineDown => app.timeline_back = app.timeline_back.saturating_sub(1),
    }
}

fn start_apply(app: &mut App, fx: &mut Vec<Effect>) {
    if app.readonly {
        app.message = Some(Message { level: Level::Info, text: text::READ_ONLY.into() });
        return;
    }
    if !app.editor.has_starter() {
        app.message = Some(Message { level: Level::Info, text: text::EDITOR_NO_STARTER.into() });
        return;
    }
    if !app.editor.blanks().is_empty() {
        app.apply = ApplyState::Failed(text::APPLY_BLANKS.into());
        return;
    }
    app.editor.recheck();
    if app.editor.blocking_marks().next().is_some() {
        app.apply = ApplyState::Failed(text::APPLY_BLOCKED.into());
        return;
    }
    app.apply = ApplyState::DryRun;
    app.attempted.insert(app.step);
    fx.push(Effect::Apply { yaml: app.editor.text(), dry_run: true, force: app.force_next });
}

fn command_key(app: &mut App, key: KeyEvent, bound: Option<Bound>, fx: &mut Vec<Effect>) {
    let Some(cmd) = app.command.as_mut() else { return };
    let Some(Bound::Command(action)) = bound else {
        // Not a binding: typing.
        if let KeyCode::Char(c) = key.code {
            if !key.modifiers.contains(KeyModifiers::CONTROL) {
                cmd.input.push(c);
                cmd.completions.clear();
            }
        }
        return;
    };
    match action {
        CommandAction::Cancel => app.command = None,
        CommandAction::Run => {
            let line = cmd.input.trim().to_string();
            app.command = None;
            if line.is_empty() {
                return;
            }
            if app.command_history.last() != Some(&line) {
                app.command_history.push(line.clone());
            }
            submit_command(app, line, fx);
        }
        CommandAction::Erase => {
            cmd.input.pop();
            cmd.completions.clear();
        }
        CommandAction::Older => {
            if app.command_history.is_empty() {
                return;
            }
            let i = match cmd.browsing {
                Some(i) => i.saturating_sub(1),
                None => app.command_history.len() - 1,
            };
            cmd.browsing = Some(i);
            cmd.input = app.command_history[i].clone();
        }
        CommandAction::Newer => match cmd.browsing {
            Some(i) if i + 1 < app.command_history.len() => {
                cmd.browsing = Some(i + 1);
                cmd.input = app.command_history[i + 1].clone();
            }
            Some(_) => {
                cmd.browsing = None;
                cmd.input.clear();
            }
            None => {}
        },
        CommandAction::Complete => {
            let (line, shown) = super::commands::complete(&cmd.input, &app.snapshot);
            cmd.input = line;
            cmd.completions = shown;
        }
        CommandAction::Clear => cmd.input.clear(),
    }
}

fn submit_command(app: &mut App, line: String, fx: &mut Vec<Effect>) {
    let cmd = match super::commands::check(&line) {
        Ok(cmd) => cmd,
        Err(e) => {
            app.result = Some(ResultBox {
                source: ResultSource::Command,
                title: format!(":{line}"),
                text: e,
                level: Level::Problem,
                scroll: 0,
            });
            return;
        }
    };
    if cmd.editor_apply {
        return start_apply(app, fx);
    }
    if app.readonly && (cmd.destructive || cmd.everything) {
        app.message = Some(Message { level: Level::Info, text: text::READ_ONLY.into() });
        return;
    }
    if cmd.destructive || cmd.everything {
        let mut outside: Vec<String> = cmd
            .objects
            .into_iter()
            .filter(|(_, name)| !app.is_lesson_object(name))
            .map(|(kind, name)| format!("{kind}/{name}"))
            .collect();
        if cmd.everything {
            outside.push(format!("everything of that kind in namespace {}", app.namespace()));
        }
        if !outside.is_empty() {
            let question = format!("{} {}", outside.join(", "), text::CMD_CONFIRM);
            app.confirm = Some(Confirm::RunCommand { line, question });
            return;
        }
    }
    fx.push(run_command(app, line));
}

fn run_command(app: &mut App, line: String) -> Effect {
    app.attempted.insert(app.step);
    app.message = Some(Message { level: Level::Info, text: format!("{} {line}", text::CMD_RUNNING) });
    let editor_text = app.editor.has_starter().then(|| app.editor.text());
    Effect::RunCommand { line, editor_text }
}
