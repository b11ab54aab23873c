//! The key tables against the app: every binding of every mode's table reaches its action and
//! does something there, and the status bar of each mode lists exactly that mode's bindings.
//! Also: a read-only session's editor takes no edits and writes no draft.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kubetutor::app::keys::{self, Action, Bound, CommandAction, ConfirmAction, Mode, ModeAction, OverlayAction};
use kubetutor::app::{update, App, CommandLine, Confirm, Effect, Event, Level, Overlay, Pane, ResultBox, ResultSource};
use kubetutor::cluster::watch::{ClusterEvent, Connection};
use kubetutor::ui::theme::Theme;

use crate::tui_fixture::{self, render};

/// Every mode of the tutor screen.
fn modes() -> Vec<Mode> {
    let mut all: Vec<Mode> = Pane::ALL.iter().map(|p| Mode::Pane(*p)).collect();
    all.extend([Mode::Pane(Pane::Output), Mode::Quiz, Mode::Confirm, Mode::CommandLine, Mode::Overlay]);
    all
}

/// An app with pods, a timeline and a result to scroll, put in `mode`.
fn app_in(dir: &std::path::Path, mode: Mode) -> App {
    let mut app = tui_fixture::app(dir, Theme::dark());
    let (snap, entries) = tui_fixture::cluster_state();
    update(&mut app, Event::Cluster(ClusterEvent::Connection(Connection::Connected)));
    update(&mut app, Event::Cluster(ClusterEvent::Changed { snapshot: Arc::new(snap), new_entries: entries }));
    app.message = None;
    match mode {
        Mode::Pane(Pane::Output) => {
            app.result = Some(ResultBox {
                source: ResultSource::Command,
                title: "$ kubectl get pods".into(),
                text: "line\n".repeat(40),
                level: Level::Info,
                scroll: 0,
            });
            app.set_focus(Pane::Output);
        }
        Mode::Pane(pane) => app.set_focus(pane),
        Mode::Quiz => {
            app.done.insert(0);
            kubetutor::app::quiz::open(&mut app);
        }
        Mode::Confirm => app.confirm = Some(Confirm::ResetEditor),
        Mode::CommandLine => app.command = Some(CommandLine::default()),
        Mode::Overlay => app.overlay = Some(Overlay::Help { scroll: 0 }),
    }
    assert_eq!(app.mode(), mode);
    app
}

/// Put the app where `bound` has something to do (a scroll not at its end, a change to undo).
fn prime(app: &mut App, bound: Bound) {
    match bound {
        Bound::Pane(Action::StepUp | Action::OpenStep) => app.selected = 1,
        Bound::Pane(Action::ScrollUp) => app.text_scroll = 10,
        Bound::Pane(Action::CodeLeft) => app.code_shift = 16,
        Bound::Pane(Action::TimelineDown) => app.timeline_back = 1,
        Bound::Pane(Action::Undo) => {
            update(app, Event::Paste("x".into()));
        }
        Bound::Pane(Action::Redo) => {
            update(app, Event::Paste("x".into()));
            app.editor.undo();
        }
        Bound::Pane(Action::CloseOutput) => {
            app.result = Some(ResultBox {
                source: ResultSource::Command,
                title: "$ kubectl get pods".into(),
                text: "line\n".repeat(40),
                level: Level::Info,
                scroll: 0,
            });
        }
        Bound::Pane(Action::OutputUp | Action::OutputPageUp) => {
            if let Some(r) = app.result.as_mut() {
                r.scroll = 20;
            }
        }
        Bound::Overlay(OverlayAction::Up | OverlayAction::PageUp) => app.overlay = Some(Overlay::Help { scroll: 20 }),
        Bound::Quiz(ModeAction::Up) => {
            if let Some(q) = app.quiz.as_mut() {
                q.selected = 2;
            }
        }
        Bound::Confirm(_) => {
            // A change the reset would undo.
            app.confirm = None;
            update(app, Event::Paste("x".into()));
            app.confirm = Some(Confirm::ResetEditor);
        }
        Bound::Command(CommandAction::Run | CommandAction::Clear | CommandAction::Erase) => {
            app.command = Some(CommandLine { input: "get pods".into(), ..Default::default() });
        }
        Bound::Command(CommandAction::Complete) => {
            app.command = Some(CommandLine { input: "get po".into(), ..Default::default() });
        }
        Bound::Command(CommandAction::Older | CommandAction::Newer) => {
            app.command_history = vec!["get pods".into(), "get pvc".into()];
            app.command = Some(CommandLine { browsing: Some(0), ..Default::default() });
        }
        _ => {}
    }
}

/// What a key can change, as text.
fn fingerprint(app: &App) -> String {
    format!(
        "{:?}",
        (
            (app.step, app.selected, app.focus, &app.overlay, &app.quiz, &app.command, &app.confirm, &app.message),
            (app.text_scroll, app.code_shift, app.timeline_back, &app.result, app.quit),
            (app.editor.text(), app.editor.area.cursor(), app.editor.area.selection_range(), &app.hints_shown),
            (&app.apply, &app.command_history, app.grading),
        )
    )
}

#[test]
fn every_binding_of_every_mode_reaches_its_action_and_does_something() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for mode in modes() {
        for (events, bound) in keys::bindings(mode) {
            for key in events {
                // The key reaches this binding (no earlier one, nor the global keys, shadows it).
                let found = keys::resolve(mode, &key);
                let shadowed_by_anywhere = found == Some(Bound::Pane(Action::Quit));
                assert!(
                    found == Some(bound) || shadowed_by_anywhere,
                    "{mode:?}: {key:?} finds {found:?}, not {bound:?}"
                );
                // And the app does something with it there.
                let mut app = app_in(dir.path(), mode);
                prime(&mut app, bound);
                assert_eq!(app.mode(), mode, "{bound:?} primed out of {mode:?}");
                let before = fingerprint(&app);
                let fx = update(&mut app, Event::Key(key));
                if bound == Bound::Quiz(ModeAction::Choose) && fx.is_empty() {
                    // A digit past the question's choices: found, and rightly nothing.
                    let choices = app.quiz.as_ref().and_then(|q| q.current(&app.lesson)).map(|(_, q)| q.choices.len());
                    let digit = if let KeyCode::Char(d) = key.code { d.to_digit(10) } else { None };
                    assert!(digit.zip(choices).is_some_and(|(d, n)| d as usize > n), "{key:?}");
                    continue;
                }
                assert!(
                    !fx.is_empty() || fingerprint(&app) != before,
                    "{mode:?}: {key:?} ({bound:?}) did nothing\n{before}"
                );
                checked += 1;
            }
        }
        // Ctrl-C leaves from every mode, saving the editor text.
        let mut app = app_in(dir.path(), mode);
        let fx = update(&mut app, Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(app.quit && fx.iter().any(|e| matches!(e, Effect::Quit)), "{mode:?}");
    }
    assert!(checked > 80, "{checked}");
}

#[test]
fn the_status_bar_of_each_mode_lists_exactly_its_bindings() {
    let dir = tempfile::tempdir().unwrap();
    for mode in modes() {
        let mut app = app_in(dir.path(), mode);
        if mode == Mode::Confirm {
            // The question itself goes to the message line.
            app.confirm = Some(Confirm::ResetEditor);
        }
        let wanted = keys::hints(mode);
        assert!(!wanted.is_empty(), "{mode:?}");
        assert_eq!(kubetutor::ui::status::key_hints(&app), wanted, "{mode:?}");
        // Every hint is a binding of the mode: its label names one of that mode's keys.
        let shorts: Vec<&str> = wanted.iter().map(|(_, s)| *s).collect();
        for (label, short) in &wanted {
            assert_eq!(shorts.iter().filter(|s| *s == short).count(), 1, "{mode:?}: {short} twice");
            assert!(!label.is_empty());
        }
        // As drawn on a wide screen (the command line shows its keys in one dim line).
        let screen = render(&app, 250, 40);
        let bar = screen.lines().rev().nth(1).unwrap_or_default().to_string();
        for (label, short) in &wanted {
            let shown = bar.contains(&format!("{label} {short}"));
            assert!(shown, "{mode:?}: the status bar lacks {label} {short}:\n{bar}");
        }
        // Nothing else: the bar holds exactly those pairs.
        let drawn: String = wanted.iter().map(|(l, s)| format!("{l} {s}")).collect::<Vec<_>>().join("  ");
        if mode == Mode::CommandLine {
            assert!(bar.contains(&keys::mode_line(keys::COMMAND_LINE)), "{bar}");
        } else {
            assert_eq!(bar.trim_end(), drawn, "{mode:?}");
        }
    }
}

#[test]
fn a_question_takes_y_and_any_other_key_says_no() {
    let dir = tempfile::tempdir().unwrap();
    for (code, reset) in [(KeyCode::Char('y'), true), (KeyCode::Char('n'), false), (KeyCode::Char('x'), false)] {
        let mut app = app_in(dir.path(), Mode::Confirm);
        prime(&mut app, Bound::Confirm(ConfirmAction::Yes));
        let typed = app.editor.text();
        update(&mut app, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        assert_eq!(app.confirm, None);
        assert_eq!(app.editor.text() != typed, reset, "{code:?}");
    }
}

#[test]
fn a_read_only_session_shows_the_yaml_but_takes_no_edit_and_writes_no_draft() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    app.readonly = true;
    app.set_focus(Pane::Editor);
    let text = app.editor.text();
    // Moving around works (and leaves something for Backspace to take).
    for code in [KeyCode::Down, KeyCode::End] {
        update(&mut app, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
    let (row, col) = app.editor.area.cursor();
    assert!(row == 1 && col > 0, "{row} {col}");
    let mut effects = Vec::new();
    for e in [
        Event::Key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)),
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        Event::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
        Event::Key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL)),
        Event::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL)),
        Event::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)),
        Event::Paste("kind: Pod\n".into()),
    ] {
        effects.extend(update(&mut app, e));
        assert_eq!(app.editor.text(), text);
        assert_eq!(app.confirm, None);
        let message = app.message.as_ref().map(|m| m.text.clone()).unwrap_or_default();
        assert!(message.contains("--readonly") && message.contains("no draft"), "{message} {:?}", app.mode());
    }
    assert_eq!(app.editor.area.cursor(), (row, col));
    // The refusal is read on the screen (80x24, editor tab).
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Read-only"), "{screen}");
    effects.extend(update(&mut app, Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL))));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::SaveDraft { .. } | Effect::After { .. })),
        "a read-only session asked to save: {effects:?}"
    );
    assert!(!dir.path().join("drafts").exists());
}
