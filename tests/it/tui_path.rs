//! The learner's path through the screen, step by step in `update` (no cluster): what waits
//! for the learner, where notices and hints are read, what each key does where the screen
//! says it does.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kubetutor::app::{update, ApplyState, Confirm, Effect, Event, Level, Pane, Timer, DRAFT_DELAY};
use kubetutor::grade::{CheckReport, Outcome, StepReport};
use kubetutor::ui::text;
use kubetutor::ui::theme::Theme;

use crate::tui_fixture::{self, render};

fn key(app: &mut kubetutor::app::App, code: KeyCode) -> Vec<Effect> {
    let fx = update(app, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    tui_fixture::settle(app, fx)
}

fn ctrl(app: &mut kubetutor::app::App, c: char) -> Vec<Effect> {
    let fx = update(app, Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)));
    tui_fixture::settle(app, fx)
}

fn typ(app: &mut kubetutor::app::App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn passed(index: usize, names: &[&str]) -> StepReport {
    StepReport {
        index,
        id: format!("step-{index}"),
        title: String::new(),
        checks: names.iter().map(|n| CheckReport::live(n.to_string(), Outcome::Pass)).collect(),
    }
}

/// The fixture lesson with step 2 made an observation step that names a tutor command.
fn observing_app(dir: &std::path::Path) -> kubetutor::app::App {
    let mut lesson = tui_fixture::lesson();
    lesson.steps[2].text = "Look at the pods: run `:get pods` and compare.".into();
    let cluster = tui_fixture::app(dir, Theme::dark()).cluster.clone();
    let done = [0, 1].into_iter().collect();
    let mut app = kubetutor::app::App::new(Arc::new(lesson), 2, done, cluster, Theme::dark(), dir.to_path_buf());
    app.now = tui_fixture::now();
    app
}

#[test]
fn an_observation_step_asks_the_learner_to_look_before_it_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = observing_app(dir.path());
    assert_eq!(app.focus, Pane::Lesson);
    update(&mut app, Event::Graded(passed(2, &["three replicas"])));
    assert!(!app.done.contains(&2), "passed by itself");
    assert!(app.awaiting_probe);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Your turn") && screen.contains(":get pods"), "{screen}");
    // The learner looks: the command runs, its answer comes back, the step counts.
    key(&mut app, KeyCode::Char(':'));
    typ(&mut app, "get pods");
    let fx = key(&mut app, KeyCode::Enter);
    assert!(fx.iter().any(|e| matches!(e, Effect::RunCommand { line, .. } if line == "get pods")));
    update(
        &mut app,
        Event::CommandDone { echo: "$ kubectl get pods".into(), result: Ok("NAME    READY\nweb-0   1/1\n".into()) },
    );
    assert!(app.done.contains(&2));
    assert!(!app.awaiting_probe);
    // A one-line answer that completes the step stays readable above the news.
    let dir2 = tempfile::tempdir().unwrap();
    let mut app2 = observing_app(dir2.path());
    update(&mut app2, Event::Graded(passed(2, &["three replicas"])));
    app2.attempted.insert(2);
    update(&mut app2, Event::CommandDone { echo: "$ kubectl get sts".into(), result: Ok("web 3/3\n".into()) });
    let text = &app2.message.as_ref().unwrap().text;
    assert!(text.starts_with("$ kubectl get sts → web 3/3\n") && text.contains(text::LESSON_DONE), "{text}");
    // Looked from their own terminal instead: n counts the step and goes on.
    let dir = tempfile::tempdir().unwrap();
    let mut app = observing_app(dir.path());
    update(&mut app, Event::Graded(passed(2, &["three replicas"])));
    let fx = key(&mut app, KeyCode::Char('n'));
    assert!(app.done.contains(&2));
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveProgress { done, .. } if done.contains(&2))));
    assert!(app.message.as_ref().unwrap().text.contains(text::LESSON_DONE));
}

#[test]
fn a_passed_step_stays_and_n_or_ctrl_n_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    app.editor.set_text(&tui_fixture::SERVICE_STARTER.replace("???", "x"));
    update(&mut app, Event::Graded(passed(0, &["headless Service nginx"])));
    assert!(app.done.contains(&0));
    assert_eq!((app.step, app.selected), (0, 1), "stays on the step, the list points at the next");
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Step passed. What it proved:"), "{screen}");
    assert!(screen.contains("Ctrl-N next step"), "the status bar says how to go on:\n{screen}");
    // More grades of the same step change nothing.
    update(&mut app, Event::Graded(passed(0, &["headless Service nginx"])));
    assert_eq!(app.step, 0);
    ctrl(&mut app, 'n');
    assert_eq!(app.step, 1);
    assert_eq!(app.focus, Pane::Editor);

    // Passed from outside (kubectl apply) with blanks left in the editor: Ctrl-N there selects
    // a blank, so the way on that is offered is the other panes' n.
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    update(&mut app, Event::Graded(passed(0, &["headless Service nginx"])));
    let said = &app.message.as_ref().unwrap().text;
    assert!(said.contains("press Tab, n for step 1"), "{said}");
    assert!(render(&app, 120, 40).contains("Tab, n next step"));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.step, 1);
}

#[test]
fn drafts_are_saved_within_the_delay_and_a_burst_is_one_write() {
    assert!(DRAFT_DELAY <= std::time::Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    let save_timers = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::After { timer: Timer::SaveDraft(_), delay } if *delay == DRAFT_DELAY))
            .count()
    };
    let fx = key(&mut app, KeyCode::Char('a'));
    assert_eq!(save_timers(&fx), 1, "the first keystroke schedules a save");
    let fx = key(&mut app, KeyCode::Char('b'));
    assert_eq!(save_timers(&fx), 0, "a save is already on its way");
    // The timer fires: what is saved is the text and cursor of now, both keystrokes.
    let fx = update(&mut app, Event::Timer(Timer::SaveDraft(0)));
    let Some(Effect::SaveDraft { text, cursor, .. }) = fx.into_iter().next() else { panic!("no save") };
    assert!(text.starts_with("abapiVersion"), "{text}");
    assert_eq!(cursor, (0, 2));
    // The next keystroke schedules the next save.
    assert_eq!(save_timers(&key(&mut app, KeyCode::Char('c'))), 1);
    // Quitting saves at once.
    let fx = ctrl(&mut app, 'q');
    assert!(matches!(&fx[0], Effect::SaveDraft { text, .. } if text.starts_with("abc")));
}

#[test]
fn enter_keeps_the_step_list_focused_so_its_keys_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    app.focus = Pane::Lesson;
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    assert_eq!((app.step, app.focus), (1, Pane::Lesson));
    let before = app.editor.text();
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.editor.text(), before, "s typed into the YAML");
    assert_eq!(app.message.as_ref().unwrap().text, text::SOLUTION_LOCKED);
}

#[test]
fn restart_says_skip_only_for_a_step_ahead_of_the_learner() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    app.done = [0, 1].into_iter().collect();
    app.focus = Pane::Lesson;
    // Reopen step 0, then R on step 1: behind the learner's progress, a fresh start.
    key(&mut app, KeyCode::Enter);
    app.selected = 1;
    update(&mut app, Event::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT)));
    let Some(Confirm::Restart { question, .. }) = app.confirm.take() else { panic!() };
    assert!(question.starts_with("Start step 1 afresh?"), "{question}");
    app.done.remove(&1);
    app.selected = 2;
    update(&mut app, Event::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT)));
    // The question is read whole at 80x24 before answering.
    let screen = render(&app, 80, 24);
    let Some(Confirm::Restart { question, .. }) = app.confirm.take() else { panic!() };
    assert!(question.starts_with("Skip ahead to step 2?"), "{question}");
    assert!(words(&screen).contains(&words(&question)), "{screen}");
    assert!(screen.contains("y yes  any other key no"), "{screen}");
}

/// The words of `s` (screen text, borders and line breaks dropped).
fn words(s: &str) -> String {
    s.replace(['│', '┃', '╭', '╮', '╰', '╯', '━', '─'], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_read_only_session_offers_no_apply_and_its_refusal_is_read_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    app.readonly = true;
    assert!(!render(&app, 80, 24).contains("Ctrl-S"));
    assert!(!render(&app, 200, 60).contains("Ctrl-S apply"));
    ctrl(&mut app, 's');
    assert_eq!(app.apply, ApplyState::Idle);
    // The editor tab is shown; the refusal is read there in full.
    let screen = render(&app, 80, 24);
    assert!(words(&screen).contains(&words(text::READ_ONLY)), "{screen}");
}

#[test]
fn every_notice_is_read_in_full_at_80x24_whatever_the_tab() {
    let dir = tempfile::tempdir().unwrap();
    for pane in [Pane::Lesson, Pane::Editor, Pane::Watch] {
        let mut app = tui_fixture::app(dir.path(), Theme::dark());
        app.focus = pane;
        update(
            &mut app,
            Event::Notice(
                Level::Problem,
                text::RESTORED.to_string() + ", except StatefulSet web: the claim www-web-0 is still Terminating",
            ),
        );
        let screen = render(&app, 80, 24);
        assert!(
            words(&screen).contains("except StatefulSet web: the claim www-web-0 is still Terminating"),
            "{pane:?}\n{screen}"
        );
    }
}

#[test]
fn the_kubectl_line_is_whole_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    let hint = "export KUBECONFIG=/home/learner/.local/state/kubetutor/sandbox.kubeconfig";
    app.cluster.kubectl_hint = Some(hint.into());
    let screen = render(&app, 80, 24);
    assert!(screen.contains(hint), "{screen}");
}

#[test]
fn at_60x15_the_checks_still_show() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    app.focus = Pane::Lesson;
    let report = StepReport {
        index: 0,
        id: "headless-service".into(),
        title: String::new(),
        checks: vec![CheckReport::live(
            "headless Service nginx",
            Outcome::NotYet { reason: "it has a cluster IP".into(), concern: Default::default(), hint: None },
        )],
    };
    update(&mut app, Event::Graded(report));
    let screen = render(&app, 60, 15);
    assert!(screen.contains("not yet headless Service nginx"), "{screen}");
}

#[test]
fn hints_are_shown_in_full_under_the_checks_one_tier_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    app.focus = Pane::Lesson;
    key(&mut app, KeyCode::Char('h'));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Hint 1/3: Headless means the Service has no virtual IP."), "{screen}");
    assert!(!screen.contains("Hint 2/3"), "{screen}");
    assert!(screen.contains("more hints: press h (2 left)"), "{screen}");
    key(&mut app, KeyCode::Char('h'));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Hint 2/3: cluster IP: None makes it headless"), "{screen}");
    // Under the checks, not at the end of the text.
    let checks = screen.find("Checks").unwrap();
    assert!(screen.find("Hint 1/3").unwrap() > checks, "{screen}");
}

#[test]
fn code_lines_are_never_wrapped_they_move_sideways_and_c_puts_the_command_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut lesson = tui_fixture::lesson();
    let long = "kubectl patch statefulset web -p '{\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":2}}}}'";
    lesson.steps[2].text = format!("Set the partition:\n\n```sh\n{long}\n```\n\nThen watch.");
    let cluster = tui_fixture::app(dir.path(), Theme::dark()).cluster.clone();
    let mut app =
        kubetutor::app::App::new(Arc::new(lesson), 2, Default::default(), cluster, Theme::dark(), dir.path().into());
    app.now = tui_fixture::now();
    let screen = render(&app, 80, 24);
    let line = screen.lines().find(|l| l.contains("kubectl patch")).unwrap();
    assert!(line.trim_end_matches(['┃', '│']).ends_with('›'), "{line}");
    let next = screen.lines().skip_while(|l| !l.contains("kubectl patch")).nth(1).unwrap();
    assert!(!next.contains("partition"), "the code line wrapped:\n{screen}");
    // → moves the code sideways until its end is in view; ← brings it back.
    for _ in 0..10 {
        key(&mut app, KeyCode::Right);
        render(&app, 80, 24);
    }
    let screen = render(&app, 80, 24);
    let Some(line) = screen.lines().find(|l| l.contains('‹')) else { panic!("{screen}") };
    assert!(line.contains('‹') && line.contains(r#""partition":2}}}}'"#) && !line.contains('›'), "{line}");
    for _ in 0..10 {
        key(&mut app, KeyCode::Left);
    }
    assert_eq!(app.code_shift, 0);
    assert!(render(&app, 80, 24).contains("  kubectl patch statefulset web"));
    let fx = key(&mut app, KeyCode::Char('c'));
    assert!(fx.iter().any(|e| matches!(e, Effect::Clipboard(t) if t == long)));
    assert_eq!(app.command.as_ref().unwrap().input, &long["kubectl ".len()..]);
    let fx = key(&mut app, KeyCode::Enter);
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::RunCommand { line, .. } if line.starts_with("patch statefulset web -p"))));
}

#[test]
fn page_down_stops_at_the_end_of_the_text_and_page_up_comes_straight_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut lesson = tui_fixture::lesson();
    lesson.steps[0].text = (1..=60).map(|i| format!("Paragraph {i}.\n\n")).collect();
    let cluster = tui_fixture::app(dir.path(), Theme::dark()).cluster.clone();
    let mut app =
        kubetutor::app::App::new(Arc::new(lesson), 0, Default::default(), cluster, Theme::dark(), dir.path().into());
    app.focus = Pane::Lesson;
    let screen = render(&app, 120, 40);
    assert!(screen.contains(text::MORE_BELOW), "{screen}");
    for _ in 0..30 {
        key(&mut app, KeyCode::PageDown);
    }
    let end = app.text_scroll;
    assert_eq!(end, app.text_max_scroll.get());
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Paragraph 60.") && !screen.contains(text::MORE_BELOW), "{screen}");
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.text_scroll, end - 10);
}

/// The README's key table, as the binding lists make it (one row per action, per pane).
fn key_table() -> String {
    use kubetutor::app::keys::{commands, GLOBAL};
    let mut out = String::from("| where | key | what it does |\n| --- | --- | --- |\n");
    let sections = [
        ("everywhere", GLOBAL),
        ("Lesson", commands(Pane::Lesson)),
        ("Editor", commands(Pane::Editor)),
        ("Watch", commands(Pane::Watch)),
        ("Output", commands(Pane::Output)),
    ];
    for (name, list) in sections {
        let mut seen = Vec::new();
        for b in list {
            if seen.contains(&b.action) {
                continue;
            }
            seen.push(b.action);
            out.push_str(&format!("| {name} | `{}` | {} |\n", b.label, b.help));
        }
    }
    out
}

#[test]
fn the_readme_key_table_is_the_key_map() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = key_table();
    assert!(readme.contains(&table), "README.md's key table differs from the key map; it should read:\n{table}");
}

#[test]
fn ctrl_t_reveals_a_hint_from_the_editor_and_it_is_read_where_the_learner_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    assert_eq!(app.focus, Pane::Editor);
    let before = app.editor.text();
    let fx = ctrl(&mut app, 't');
    assert!(fx.iter().any(|e| matches!(e, Effect::HintUsed { index: 0 })));
    assert_eq!(app.editor.text(), before);
    // Wide: under the checks, once (not repeated on the message line).
    let wide = render(&app, 120, 40);
    assert_eq!(wide.matches("Hint 1/3: Headless means").count(), 1, "{wide}");
    // Narrow, editor tab: on the message line above the status bar.
    let narrow = render(&app, 80, 24);
    assert!(narrow.contains("Hint 1/3: Headless means the Service has no virtual IP."), "{narrow}");
}

/// `update` reads no file: opening a step asks for its draft (an effect), the editor holds the
/// starter meanwhile and saves nothing over the draft, and keys wait for the draft, then apply
/// to it in order.
#[test]
fn a_step_draft_comes_in_as_an_event_and_keys_wait_for_it() {
    use kubetutor::app::{drafts, Effect};
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    let step1 = app.lesson.steps[1].id.clone();
    let path = drafts::draft_path(dir.path(), &app.lesson.slug, &step1);
    let starter = app.lesson.steps[1].starter.clone().expect("step 1 has an editor").text;
    let mine = format!("# mine\n{starter}");
    drafts::save(&path, &mine).unwrap();
    drafts::save_cursor(&path, (0, 6)).unwrap();
    app.focus = Pane::Lesson;
    update(&mut app, Event::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)));
    let fx = update(&mut app, Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let Some(Effect::LoadDraft { index: 1, path: asked }) = fx.iter().find(|e| matches!(e, Effect::LoadDraft { .. }))
    else {
        panic!("no draft asked for: {fx:?}")
    };
    assert_eq!(asked, &path);
    assert!(app.loading_draft());
    assert_eq!(app.editor.text(), starter, "the starter until the draft is in");
    // Typing and quitting wait; nothing would overwrite the draft with the starter.
    app.focus = Pane::Editor;
    let mut waited = Vec::new();
    for e in [
        Event::Paste("!".into()),
        Event::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)),
    ] {
        waited.extend(update(&mut app, e));
    }
    assert!(waited.is_empty(), "{waited:?}");
    assert_eq!(app.editor.text(), starter);
    assert!(!app.quit);
    // The draft comes back: it is in the editor at its cursor, then the keys that waited.
    let fx = update(&mut app, Event::DraftLoaded { index: 1, loaded: drafts::read(&path) });
    assert!(!app.loading_draft());
    assert!(app.editor.text().starts_with("# mine!?\n"), "{}", app.editor.text());
    assert!(app.quit);
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveDraft { text, .. } if text.starts_with("# mine!?"))), "{fx:?}");
    // A draft for a step no longer open is dropped (a later open asked for its own).
    update(&mut app, Event::DraftLoaded { index: 0, loaded: drafts::read(&path) });
    assert!(app.editor.text().starts_with("# mine!?\n"));
}
