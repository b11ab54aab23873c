//! Snapshots of the tutor screen (insta + ratatui's TestBackend) at 80x24 and 120x40: each
//! pane, the full screen, an error state and the help overlay. A fixed clock keeps ages stable.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kubetutor::app::yaml::Mark;
use kubetutor::app::{update, ApplyFailure, Event, Pane};
use kubetutor::cluster::watch::{ClusterEvent, Connection};
use kubetutor::grade::{CheckReport, Concern, Outcome, StepReport};
use kubetutor::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::tui_fixture::{self, render};

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn busy_app(dir: &std::path::Path) -> kubetutor::app::App {
    let mut app = tui_fixture::app(dir, Theme::dark());
    let (snap, entries) = tui_fixture::cluster_state();
    update(&mut app, Event::Cluster(ClusterEvent::Connection(Connection::Connected)));
    update(&mut app, Event::Cluster(ClusterEvent::Changed { snapshot: Arc::new(snap), new_entries: entries }));
    app
}

fn failing_report() -> StepReport {
    StepReport {
        index: 0,
        id: "headless-service".into(),
        title: "A headless Service".into(),
        checks: vec![CheckReport {
            name: "headless Service nginx".into(),
            outcome: Outcome::NotYet {
                reason: "Service nginx has a cluster IP (10.96.0.12); a headless Service has none".into(),
                concern: Concern {
                    object: Some("Service/nginx".into()),
                    field: Some("spec.clusterIP".into()),
                    blank: Some(0),
                },
                hint: Some("set clusterIP: None".into()),
            },
            proven: false,
        }],
    }
}

#[test]
fn full_screen_wide_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let app = tui_fixture::app(dir.path(), Theme::dark());
    insta::assert_snapshot!("wide_fresh", render(&app, 120, 40));
}

#[test]
fn full_screen_wide_with_pods_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    app.attempted.insert(0);
    update(&mut app, Event::Graded(failing_report()));
    // Fill one blank, then an apply error from the server naming a field.
    update(&mut app, ctrl('n'));
    for c in "None".chars() {
        update(&mut app, key(KeyCode::Char(c)));
    }
    update(&mut app, ctrl('n'));
    for c in "web".chars() {
        update(&mut app, key(KeyCode::Char(c)));
    }
    let failure = ApplyFailure {
        message: "Service \"nginx\" is invalid: spec.ports[0].name: Invalid value: \"web\"".into(),
        marks: vec![Mark { line: 12, column: None, message: "spec.ports[0].name: Invalid value".into() }],
        conflict: false,
    };
    update(&mut app, Event::Applied { dry_run: true, result: Err(failure) });
    let screen = render(&app, 120, 40);
    assert!(screen.contains("✗ not yet"), "{screen}");
    assert!(screen.contains("web-2 waits for web-1 to be Ready"), "{screen}");
    assert!(screen.contains("13 ✗     name: web   ◀ spec.ports[0].name: Invalid value"), "{screen}");
    insta::assert_snapshot!("wide_errors", screen);
}

#[test]
fn full_screen_narrow_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    insta::assert_snapshot!("narrow_editor", render(&app, 80, 24));
    app.focus = Pane::Watch;
    insta::assert_snapshot!("narrow_watch", render(&app, 80, 24));
    app.focus = Pane::Lesson;
    app.attempted.insert(0);
    update(&mut app, Event::Graded(failing_report()));
    insta::assert_snapshot!("narrow_lesson", render(&app, 80, 24));
}

#[test]
fn full_screen_large_200x60() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    app.attempted.insert(0);
    update(&mut app, Event::Graded(failing_report()));
    update(&mut app, Event::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)));
    update(&mut app, key(KeyCode::Char('h')));
    insta::assert_snapshot!("large_hint", render(&app, 200, 60));
}

/// A command's output in the result area: under the editor on a wide screen (the watch pane
/// keeps its place), under the shown tab on a narrow one.
#[test]
fn result_area_at_three_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    let out = "pod \"web-0\" deleted\npod \"web-1\" deleted\npod \"web-2\" deleted\n";
    update(&mut app, Event::CommandDone { echo: "$ kubectl delete pods -l app=nginx".into(), result: Ok(out.into()) });
    let wide = render(&app, 120, 40);
    let watch_top = wide.lines().position(|l| l.contains("Watch (simulated pods)")).unwrap();
    let output_top = wide.lines().position(|l| l.contains("Output: $ kubectl delete")).unwrap();
    assert!(output_top < watch_top, "{wide}");
    insta::assert_snapshot!("result_wide", wide);
    insta::assert_snapshot!("result_large", render(&app, 200, 60));
    app.focus = Pane::Watch;
    insta::assert_snapshot!("result_narrow_watch", render(&app, 80, 24));
}

#[test]
fn a_passed_step_at_three_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    app.editor.set_text(&tui_fixture::SERVICE_STARTER.replace("???", "web"));
    let passed = StepReport {
        index: 0,
        id: "headless-service".into(),
        title: "A headless Service".into(),
        checks: vec![CheckReport::live("headless Service nginx", Outcome::Pass)],
    };
    update(&mut app, Event::Graded(passed));
    insta::assert_snapshot!("passed_wide", render(&app, 120, 40));
    insta::assert_snapshot!("passed_large", render(&app, 200, 60));
    app.focus = Pane::Lesson;
    insta::assert_snapshot!("passed_narrow", render(&app, 80, 24));
}

#[test]
fn help_overlay_at_both_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    update(&mut app, Event::Key(KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE)));
    let wide = render(&app, 120, 40);
    // Generated from the binding lists: every pane's keys are there.
    for list in [kubetutor::app::keys::EDITOR, kubetutor::app::keys::LESSON, kubetutor::app::keys::GLOBAL] {
        let mut seen = Vec::new();
        for b in list {
            if seen.contains(&b.action) {
                continue;
            }
            seen.push(b.action);
            let first_words: String = b.help.split(' ').take(3).collect::<Vec<_>>().join(" ");
            assert!(wide.contains(&format!("{:<10} {first_words}", b.label)), "help lacks {}\n{wide}", b.label);
        }
    }
    insta::assert_snapshot!("help_wide", wide);
    insta::assert_snapshot!("help_narrow", render(&app, 80, 24));
}

#[test]
fn yaml_error_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    update(&mut app, ctrl('n'));
    for c in "[oops".chars() {
        update(&mut app, key(KeyCode::Char(c)));
    }
    let screen = render(&app, 120, 40);
    assert!(screen.contains("YAML error 9:11"), "{screen}");
    insta::assert_snapshot!("yaml_error", screen);
}

fn pane(app: &kubetutor::app::App, width: u16, height: u16, which: Pane) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| {
            let area = f.area();
            match which {
                Pane::Lesson => kubetutor::ui::lesson::draw(f, area, app),
                Pane::Editor => kubetutor::ui::editor::draw(f, area, app),
                Pane::Watch => kubetutor::ui::watch::draw(f, area, app),
                Pane::Output => kubetutor::ui::output::draw(f, area, app),
            }
        })
        .unwrap();
    tui_fixture::buffer_text(terminal.backend().buffer())
}

#[test]
fn each_pane_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    app.attempted.insert(0);
    update(&mut app, Event::Graded(failing_report()));
    update(&mut app, key(KeyCode::Tab)); // editor -> watch
    insta::assert_snapshot!("pane_watch", pane(&app, 70, 18, Pane::Watch));
    update(&mut app, key(KeyCode::Tab)); // watch -> lesson
    update(&mut app, key(KeyCode::Char('h')));
    insta::assert_snapshot!("pane_lesson", pane(&app, 60, 30, Pane::Lesson));
    insta::assert_snapshot!("pane_editor", pane(&app, 60, 18, Pane::Editor));
}

#[test]
fn blanks_and_states_are_styled_not_just_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    app.attempted.insert(0);
    update(&mut app, Event::Graded(failing_report()));
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| kubetutor::ui::draw(f, &app)).unwrap();
    let buf = terminal.backend().buffer().clone();
    let text = tui_fixture::buffer_text(&buf);
    // The ??? of line 8 (`  clusterIP: ???`) carries the blank style.
    let (y, line) = text.lines().enumerate().find(|(_, l)| l.contains("clusterIP: ???")).unwrap();
    let x = line.chars().position(|c| c == '?').unwrap() as u16;
    assert_eq!(buf[(x, y as u16)].bg, app.theme.blank.bg.unwrap());
    // The failing step shows ✗ in the fail colour.
    let (y, line) = text.lines().enumerate().find(|(_, l)| l.contains("✗ 0  A headless Service")).unwrap();
    let x = line.chars().position(|c| c == '✗').unwrap() as u16;
    assert_eq!(buf[(x, y as u16)].fg, app.theme.fail.fg.unwrap());
}

#[test]
fn monochrome_renders_without_colour() {
    let dir = tempfile::tempdir().unwrap();
    let app = busy_app(dir.path());
    let mut app = app;
    app.theme = Theme::pick(kubetutor::ui::theme::ThemeName::Dark, true);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| kubetutor::ui::draw(f, &app)).unwrap();
    for cell in terminal.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset);
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
}

#[test]
fn command_step_shows_its_command_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    app.open_step(2);
    update(
        &mut app,
        Event::CommandDone {
            echo: "$ kubectl scale statefulset/web --replicas=3".into(),
            result: Ok("statefulset.apps/web scaled\n".into()),
        },
    );
    update(&mut app, key(KeyCode::Esc));
    let screen = render(&app, 120, 40);
    assert!(screen.contains("$ kubectl scale statefulset/web --replicas=3"), "{screen}");
    assert!(screen.contains("statefulset.apps/web scaled"), "{screen}");
    insta::assert_snapshot!("command_step", screen);
}

#[test]
fn a_lost_connection_says_reconnecting_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    let error = "error trying to connect: connection refused".to_string();
    update(&mut app, Event::Cluster(ClusterEvent::Connection(Connection::Reconnecting { error })));
    let screen = render(&app, 120, 40);
    assert!(screen.contains("reconnecting: error trying to connect: connection refused"), "{screen}");
    // The pods seen before stay on screen meanwhile.
    assert!(screen.contains("web-0 1/1   Running"), "{screen}");
    update(&mut app, Event::Cluster(ClusterEvent::Connection(Connection::Connected)));
    let screen = render(&app, 120, 40);
    assert!(!screen.contains("reconnecting") && screen.contains("● connected"), "{screen}");
}

#[test]
fn pods_that_do_not_fit_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tui_fixture::app(dir.path(), Theme::dark());
    let mut snap = kubetutor::cluster::Snapshot::default();
    for n in 0..30 {
        let name = format!("web-{n}");
        snap.pods.insert(name.clone(), tui_fixture::pod(&name, true, "2026-01-01T00:03:00Z"));
    }
    update(&mut app, Event::Cluster(ClusterEvent::Changed { snapshot: Arc::new(snap), new_entries: vec![] }));
    app.focus = Pane::Watch;
    let screen = render(&app, 80, 24);
    // Ordered by ordinal, and the rest counted.
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains("web-")).collect();
    assert!(rows[0].contains("web-0 ") && rows[1].contains("web-1 ") && rows[2].contains("web-2 "), "{screen}");
    let shown = rows.len();
    assert!(screen.contains(&format!("… {} more pods", 30 - shown)), "{screen}");
}

#[test]
fn quiz_overlay_asks_explains_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = busy_app(dir.path());
    app.focus = Pane::Lesson;
    // Before any step is done there is nothing to ask.
    update(&mut app, key(KeyCode::Char('Q')));
    assert!(app.quiz.is_none());
    assert!(app.message.as_ref().unwrap().text.contains("finish a step first"));
    app.done.insert(0);
    update(&mut app, key(KeyCode::Char('Q')));
    let asked = render(&app, 120, 40);
    assert!(asked.contains("Recap quiz · question 1/2 · step 0: A headless Service"), "{asked}");
    insta::assert_snapshot!("quiz_question_wide", asked);
    // A wrong answer: marked, the right one shown, and why.
    let fx = update(&mut app, key(KeyCode::Char('1')));
    assert!(matches!(fx.as_slice(), [kubetutor::app::Effect::QuizAnswered { step: 0, question: 0, .. }]), "{fx:?}");
    insta::assert_snapshot!("quiz_wrong_wide", render(&app, 120, 40));
    insta::assert_snapshot!("quiz_wrong_narrow", render(&app, 80, 24));
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, key(KeyCode::Enter));
    insta::assert_snapshot!("quiz_score_wide", render(&app, 120, 40));
    update(&mut app, key(KeyCode::Enter));
    assert!(app.quiz.is_none());
    assert_eq!(
        app.message.as_ref().unwrap().text,
        kubetutor::ui::text::QUIZ_SCORE.replace("{right}", "1").replace("{n}", "2")
    );
}
