//! The instructor's screen (`kubetutor progress` on a terminal) on a workshop sandbox: the table
//! of attendees, Enter opens a live read-only review of one (the lesson with its live checks,
//! the YAML they applied, their pods), keys go to the next attendee and back to the table; and
//! reviewing writes nothing as the attendee: their `kubetutor-progress` ConfigMap is as it was.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kube_sandbox::SandboxConfig;
use kubetutor::app::instructor::Instructor;
use kubetutor::app::Effect;
use kubetutor::cluster::progress::{self, Published};
use kubetutor::cluster::{Backend, Cluster};
use kubetutor::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::support::{client_from, serve_with, server_of};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn screen(instructor: &Instructor) -> String {
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| kubetutor::ui::instructor::draw(f, instructor)).unwrap();
    let buf = term.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>().trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Pump the live review's events until `f` holds (10 s at most).
async fn until(instructor: &mut Instructor, what: &str, f: impl Fn(&Instructor) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        instructor.pump();
        if f(instructor) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}:\n{}", screen(instructor));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_live_review_of_an_attendee_writes_nothing_as_them() {
    let served = serve_with(SandboxConfig { speed: f64::INFINITY, attendees: 2, ..Default::default() }).await;
    let sb = &served.sandbox;
    let server = server_of(&served.kubeconfig);
    let lesson = Arc::new(kubetutor::lesson::load::find("statefulset").unwrap());
    let backend = Backend::Kubeconfig { context: "kubetutor-sandbox".into(), server: server.clone() };
    // Each attendee did step 0 and published where they are, as their tutor does.
    for (a, step) in sb.attendees().iter().zip([1, 0]) {
        let client = client_from(&sb.attendee_kubeconfig(&server, a)).await;
        let cluster = Cluster { client, namespace: a.namespace.clone(), backend: backend.clone() };
        if step == 1 {
            let yaml = kubetutor::lesson::load::solution_for(&lesson, 0);
            kubetutor::cluster::apply::apply_manifests(&cluster, &yaml, Default::default()).await.unwrap();
        }
        let now = jiff::Timestamp::now();
        let p = Published {
            lesson: "statefulset".into(),
            step,
            steps: 5,
            step_title: lesson.steps[step].title.clone(),
            status: "not_yet".into(),
            check: Some(lesson.steps[step].checks[0].name.clone()),
            message: Some("there is no StatefulSet \"web\" yet".into()),
            since: now,
            updated: now,
        };
        progress::publish(&cluster, &p).await.unwrap();
    }
    let admin = served.client().await;
    let configmaps = |ns: &str| Api::<ConfigMap>::namespaced(admin.clone(), ns);
    let before = configmaps("attendee-01").get(progress::CONFIGMAP).await.unwrap();

    let cluster = Cluster { client: admin.clone(), namespace: "default".into(), backend };
    let mut instructor = Instructor::new(cluster, Theme::mono());
    instructor.set_rows(progress::collect(&admin).await.unwrap());
    let s = screen(&instructor);
    assert!(s.contains("▸ attendee-01   1 The StatefulSet web"), "{s}");
    assert!(s.contains("Enter review"), "{s}");

    // Enter: attendee-01, graded live on step 1; step 0's editor shows the Service they applied.
    assert!(!instructor.key(key(KeyCode::Enter)));
    until(&mut instructor, "step 1 graded", |i| i.live.as_ref().is_some_and(|l| l.app.reports.contains_key(&1))).await;
    let live = instructor.live.as_ref().unwrap();
    assert_eq!((live.namespace.as_str(), live.app.step, live.app.readonly), ("attendee-01", 1, true));
    let s = screen(&instructor);
    assert!(s.contains("live review of attendee-01 (1/2) · read-only"), "{s}");
    assert!(s.contains("]/n next") && s.contains("Esc/q table"), "{s}");
    assert!(s.contains("✓ 0  A headless Service"), "{s}");
    // To step 0 in the step list (Tab from the watch pane), Enter opens it; a hint.
    for k in [KeyCode::Tab, KeyCode::Up, KeyCode::Enter, KeyCode::Char('h')] {
        instructor.key(key(k));
    }
    // (Keys wait while the step's draft is read: the live review has none, but looks.)
    until(&mut instructor, "step 0 graded", |i| {
        i.live.as_ref().is_some_and(|l| l.app.reports.contains_key(&0) && !l.app.loading_draft())
    })
    .await;
    let text = instructor.live.as_ref().unwrap().app.editor.text();
    assert!(text.starts_with("# attendee-01 (live; read-only)\n") && text.contains("clusterIP: None"), "{text}");
    // Typing in the editor does nothing to it.
    instructor.key(key(KeyCode::Tab));
    assert_eq!(instructor.live.as_ref().unwrap().app.focus, kubetutor::app::Pane::Editor);
    instructor.key(key(KeyCode::Char('x')));
    instructor.key(key(KeyCode::Enter));
    assert_eq!(instructor.live.as_ref().unwrap().app.editor.text(), text);
    // The quiz, answered (its answer is dropped, not kept as the attendee's).
    instructor.key(key(KeyCode::Char('Q')));
    instructor.key(key(KeyCode::Char('1')));
    assert!(instructor.live.as_ref().unwrap().app.quiz.as_ref().is_some_and(|q| q.chosen == Some(0)));
    instructor.key(key(KeyCode::Esc));
    assert!(instructor.live.as_ref().unwrap().app.quiz.is_none(), "Esc closes the quiz, not the review");
    // No command line, no apply: the keys it takes are named instead.
    instructor.key(key(KeyCode::Char(':')));
    instructor.key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    let app = &instructor.live.as_ref().unwrap().app;
    assert!(app.command.is_none());
    assert!(app
        .message
        .as_ref()
        .is_some_and(|m| m.text.contains("read-only") && m.text.contains("]/n the next attendee")));
    // The next attendee, then back to the first, then the table.
    instructor.key(key(KeyCode::Char(']')));
    until(&mut instructor, "attendee-02", |i| {
        i.live.as_ref().is_some_and(|l| l.namespace == "attendee-02" && l.app.reports.contains_key(&0))
    })
    .await;
    assert!(screen(&instructor).contains("live review of attendee-02 (2/2)"));
    instructor.key(key(KeyCode::Char('n')));
    until(&mut instructor, "attendee-01 again", |i| i.live.as_ref().is_some_and(|l| l.namespace == "attendee-01"))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    instructor.pump();
    instructor.key(key(KeyCode::Esc));
    assert!(instructor.live.is_none());
    assert!(screen(&instructor).contains("▸ attendee-01"));
    assert!(instructor.key(key(KeyCode::Char('q'))), "q quits the table");

    // Nothing was published into the attendee's namespace.
    let after = configmaps("attendee-01").get(progress::CONFIGMAP).await.unwrap();
    assert_eq!(after.metadata.resource_version, before.metadata.resource_version);
    assert_eq!(after.data, before.data);
}

#[tokio::test]
async fn an_observer_runtime_drops_what_would_write_as_the_learner() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = kubetutor::app::run::Runtime::new(tx, kubetutor::app::effects::Services::none());
    let draft =
        |name: &str| Effect::SaveDraft { path: dir.path().join(name), text: "kind: Service\n".into(), cursor: (0, 0) };
    runtime.observer = true;
    assert!(!runtime.perform(draft("observed.yaml")));
    runtime.flush();
    assert!(!dir.path().join("observed.yaml").exists());
    assert!(runtime.perform(Effect::Quit), "quitting is not writing");
    runtime.observer = false;
    runtime.perform(draft("own.yaml"));
    runtime.flush();
    assert!(dir.path().join("own.yaml").exists());
    // Which effects write.
    let answer = kubetutor::lesson::quiz::Answer { chosen: 0, correct: true, at: jiff::Timestamp::UNIX_EPOCH };
    assert!(Effect::QuizAnswered { step: 0, question: 0, answer }.writes());
    assert!(Effect::SaveProgress { current: 0, done: Default::default() }.writes());
    assert!(Effect::HintUsed { index: 0 }.writes());
    assert!(!Effect::After { delay: Duration::ZERO, timer: kubetutor::app::Timer::Fade }.writes());
}

#[test]
fn the_readme_lists_the_quiz_and_instructor_keys() {
    use kubetutor::app::keys::{ATTENDEE, ATTENDEES, QUIZ};
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (name, list) in [("quiz", QUIZ), ("table", ATTENDEES), ("live review", ATTENDEE)] {
        for b in list {
            let row = format!("| `{}` | {} |", b.label, b.help);
            assert!(readme.contains(&row), "README lacks the {name} key row {row}");
        }
    }
}
