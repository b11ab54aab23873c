//! Scripted keys through the app loop against a real embedded sandbox: jump between blanks,
//! fill them, apply, see an apply error placed on its line, run `:` commands (with history
//! and the confirmation of destructive ones), and the generic run loop on a TestBackend.

use std::sync::{Arc, Once};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kube_sandbox::SandboxConfig;
use kubetutor::app::effects::Services;
use kubetutor::app::run::{self, Runtime};
use kubetutor::app::{App, ApplyState, ClusterInfo, Confirm, Event, Overlay, ResultBox};
use kubetutor::cluster::{self, watch::WatchHandle, EmbeddedSandbox};
use kubetutor::lesson::progress::Progress;
use kubetutor::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokio::sync::mpsc::UnboundedReceiver;

static STATE: Once = Once::new();

/// Progress and drafts of these tests go to a temporary state dir, never the real one.
pub(crate) fn private_state_dir() {
    STATE.call_once(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        std::env::set_var("KUBETUTOR_STATE_DIR", dir);
    });
}

pub(crate) struct Harness {
    pub app: App,
    pub runtime: Runtime,
    pub rx: UnboundedReceiver<Event>,
    pub dir: tempfile::TempDir,
    _watch: WatchHandle,
    _sandbox: EmbeddedSandbox,
}

impl Harness {
    pub(crate) async fn new() -> Harness {
        private_state_dir();
        let dir = tempfile::tempdir().unwrap();
        let config = SandboxConfig { speed: f64::INFINITY, ..Default::default() };
        let (cluster, sandbox) =
            cluster::start_sandbox(config, dir.path().join("kubeconfig"), "default").await.unwrap();
        let lesson = Arc::new(kubetutor::lesson::load::find("statefulset").unwrap());
        let info = ClusterInfo {
            describe: cluster.describe(),
            namespace: cluster.namespace.clone(),
            kubectl_hint: cluster.kubectl_hint(),
            sandbox: true,
        };
        let mut app = App::new(lesson.clone(), 0, Default::default(), info, Theme::dark(), dir.path().to_path_buf());
        app.focus = kubetutor::app::Pane::Editor;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let watch = kubetutor::app::start::spawn_watch(&cluster, tx.clone());
        let progress = Progress { lesson: lesson.slug.clone(), ..Default::default() };
        let runtime = Runtime::new(tx.clone(), Services::new(cluster, lesson, progress, None, tx));
        Harness { app, runtime, rx, dir, _watch: watch, _sandbox: sandbox }
    }

    /// Feed one event; when it opened a step, also what comes back until its draft is in
    /// (as the run loop would before the next key).
    pub(crate) fn send(&mut self, e: Event) {
        run::step(&mut self.app, &self.runtime, e);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.app.loading_draft() {
            match self.rx.try_recv() {
                Ok(e) => {
                    run::step(&mut self.app, &self.runtime, e);
                }
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => panic!("the draft of step {} did not come: {e}", self.app.step),
            }
        }
    }

    pub(crate) fn key(&mut self, code: KeyCode) {
        self.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub(crate) fn ctrl(&mut self, c: char) {
        self.send(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)));
    }

    pub(crate) fn typ(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Feed the app what its effects and the watch report until `done` holds.
    pub(crate) async fn until(&mut self, secs: u64, what: &str, done: impl Fn(&App) -> bool) {
        pump_until(&mut self.app, &self.runtime, &mut self.rx, secs, what, done).await;
    }

    pub(crate) fn fill_step0(&mut self, port_name: &str) {
        for value in ["nginx", "None", "app", "nginx", port_name, port_name] {
            self.ctrl('n');
            self.typ(value);
        }
    }
}

/// Feed `app` what its effects and the watch report (on `rx`) until `done` holds; panics
/// after `secs` naming `what` and where the app is.
pub(crate) async fn pump_until(
    app: &mut App,
    runtime: &Runtime,
    rx: &mut UnboundedReceiver<Event>,
    secs: u64,
    what: &str,
    done: impl Fn(&App) -> bool,
) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !done(app) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e)) => {
                app.now = jiff::Timestamp::now();
                run::step(app, runtime, e);
            }
            Ok(None) => panic!("event channel closed waiting for {what}"),
            Err(_) => panic!(
                "timed out waiting for {what}; apply {:?}, step {}, done {:?}, report {:?}",
                app.apply,
                app.step,
                app.done,
                app.reports.get(&app.step)
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blanks_filled_applied_and_the_step_passes() {
    let mut h = Harness::new().await;
    assert_eq!(h.app.editor.blanks().len(), 6);
    // Ctrl-N selects the first blank; Ctrl-P from there wraps to the last one.
    h.ctrl('n');
    let first = h.app.editor.area.selection_range().unwrap();
    h.ctrl('p');
    let last = h.app.editor.area.selection_range().unwrap();
    assert!(last.0 > first.0, "{first:?} {last:?}");
    h.ctrl('n');
    assert_eq!(h.app.editor.area.selection_range(), Some(first));
    h.key(KeyCode::Esc);
    assert!(h.app.editor.area.selection_range().is_none());
    h.app.editor.area.move_cursor(tui_textarea::CursorMove::Top);
    h.fill_step0("web");
    assert!(h.app.editor.blanks().is_empty());
    assert!(h.app.editor.text().contains("clusterIP: None"));
    assert!(h.app.editor.text().contains("targetPort: web"));
    h.ctrl('s');
    assert_eq!(h.app.apply, ApplyState::DryRun);
    h.until(20, "the apply", |a| matches!(a.apply, ApplyState::Applied(_))).await;
    h.until(20, "step 0 to pass", |a| a.done.contains(&0)).await;
    // The passed step stays on screen with what it proved until the learner goes on.
    assert_eq!(h.app.step, 0);
    let screen = crate::tui_fixture::render(&h.app, 120, 40);
    assert!(
        screen.contains("Step passed. What it proved:") && screen.contains("✓ pass a headless Service"),
        "{screen}"
    );
    assert!(screen.contains("press Ctrl-N for step 1"), "{screen}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    h.until(1, "more events", |_| true).await;
    assert_eq!(h.app.step, 0, "moved on without the learner");
    // With no blanks left, Ctrl-N in the editor is the way on.
    h.ctrl('n');
    assert_eq!(h.app.step, 1);
    // The workshop table sees the learner on step 1 once step 1 has been graded.
    h.until(20, "a grade of step 1", |a| a.reports.contains_key(&1)).await;
    let client = h.runtime.services.cluster.as_ref().unwrap().client.clone();
    let rows = crate::support::eventually(20, "the published progress of step 1", || {
        let client = client.clone();
        async move {
            let rows = cluster::progress::collect(&client).await.ok()?;
            rows.into_iter().find(|r| r.progress.step == 1)
        }
    })
    .await;
    assert_eq!((rows.namespace.as_str(), rows.progress.steps), ("default", 5));
    // The draft of step 0 was saved on the way.
    let draft = std::fs::read_to_string(h.dir.path().join("drafts/statefulset/headless-service.yaml")).unwrap();
    assert!(draft.contains("clusterIP: None"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_error_lands_on_the_line_of_its_field() {
    let mut h = Harness::new().await;
    h.fill_step0("Web_Port");
    h.ctrl('s');
    h.until(20, "the apply to fail", |a| matches!(a.apply, ApplyState::Failed(_))).await;
    let line = h.app.editor.area.lines().iter().position(|l| l.contains("- name: Web_Port")).unwrap();
    let marks: Vec<_> = h.app.editor.marks_at(line).collect();
    assert!(!marks.is_empty(), "no mark on line {line}: {:?}", h.app.editor.marks);
    assert!(marks[0].mark.message.contains("spec.ports[0].name"), "{:?}", marks[0]);
    let screen = crate::tui_fixture::render(&h.app, 120, 40);
    assert!(screen.contains(&format!("{:>2} ✗", line + 1)), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_runs_echoes_and_remembers() {
    let mut h = Harness::new().await;
    h.fill_step0("web");
    h.ctrl('s');
    h.until(20, "step 0 to pass", |a| a.done.contains(&0)).await;
    h.ctrl('n');
    h.ctrl('o');
    h.typ("get svc");
    h.key(KeyCode::Enter);
    h.until(10, "the command output", |a| a.result.is_some()).await;
    let Some(ResultBox { title, text, .. }) = &h.app.result else { unreachable!() };
    assert_eq!(title, "$ kubectl get services");
    assert!(text.contains("nginx") && text.contains("None"), "{text}");
    assert!(h.app.overlay.is_none(), "the output is no overlay");
    // Esc (the editor has no selection) closes the result area.
    h.key(KeyCode::Esc);
    assert!(h.app.result.is_none());
    // History: Up brings the last command back.
    h.ctrl('o');
    h.key(KeyCode::Up);
    assert_eq!(h.app.command.as_ref().unwrap().input, "get svc");
    h.key(KeyCode::Esc);
    // A destructive command outside the lesson asks first; n cancels it.
    h.ctrl('o');
    h.typ("delete pod somebody-elses");
    h.key(KeyCode::Enter);
    assert!(
        matches!(&h.app.confirm, Some(Confirm::RunCommand { question, .. }) if question.contains("Pod/somebody-elses"))
    );
    h.key(KeyCode::Char('n'));
    assert!(h.app.confirm.is_none());
    // A bad command says why, without running anything.
    h.ctrl('o');
    h.typ("frobnicate web");
    h.key(KeyCode::Enter);
    assert!(matches!(&h.app.result, Some(ResultBox { text, .. }) if text.contains("unknown command")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_draws_scripted_keys_and_quits() {
    private_state_dir();
    let dir = tempfile::tempdir().unwrap();
    let mut app = crate::tui_fixture::app(dir.path(), Theme::dark());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = Runtime::new(tx, Services::none());
    let key = |c: KeyCode, m: KeyModifiers| Event::Key(KeyEvent::new(c, m));
    let mut script = vec![key(KeyCode::Char('n'), KeyModifiers::CONTROL)];
    script.extend("None".chars().map(|c| key(KeyCode::Char(c), KeyModifiers::NONE)));
    script.push(key(KeyCode::Char('q'), KeyModifiers::CONTROL));
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let clock = crate::tui_fixture::now;
    run::run(&mut terminal, &mut app, futures::stream::iter(script), &runtime, &mut rx, &clock, kubetutor::ui::draw)
        .await
        .unwrap();
    assert!(app.quit);
    let screen = crate::tui_fixture::buffer_text(terminal.backend().buffer());
    assert!(screen.contains("clusterIP: None"), "{screen}");
    // Quitting saved the draft.
    let draft = std::fs::read_to_string(dir.path().join("drafts/statefulset/headless-service.yaml")).unwrap();
    assert!(draft.contains("clusterIP: None"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_solution_and_reset_of_a_finished_step() {
    let mut h = Harness::new().await;
    h.fill_step0("web");
    h.ctrl('s');
    h.until(20, "step 0 to pass", |a| a.done.contains(&0)).await;
    h.ctrl('n');
    // Back to step 0 from the step list.
    h.app.focus = kubetutor::app::Pane::Lesson;
    h.key(KeyCode::Char('k'));
    h.key(KeyCode::Enter);
    assert_eq!(h.app.step, 0);
    assert!(h.app.editor.text().contains("clusterIP: None"), "the draft comes back");
    h.app.focus = kubetutor::app::Pane::Editor;
    h.ctrl('d');
    assert!(h.app.overlay.is_none(), "{:?}", h.app.overlay);
    assert_eq!(h.app.message.as_ref().map(|m| m.text.as_str()), Some(kubetutor::ui::text::DIFF_SAME));
    let edited = h.app.editor.text().replace("port: 80", "port: 8080");
    h.app.editor.set_text(&edited);
    h.ctrl('d');
    let Some(Overlay::Diff { lines, .. }) = &h.app.overlay else { panic!("no diff: {:?}", h.app.message) };
    use kubetutor::app::DiffTag;
    assert!(lines.iter().any(|l| l.tag == DiffTag::Removed && l.text.contains("port: 80")), "{lines:?}");
    assert!(lines.iter().any(|l| l.tag == DiffTag::Added && l.text.contains("port: 8080")), "{lines:?}");
    h.key(KeyCode::Esc);
    // The reference solution, next to the learner's text, once the step has passed.
    h.app.focus = kubetutor::app::Pane::Lesson;
    h.key(KeyCode::Char('s'));
    assert!(matches!(h.app.overlay, Some(Overlay::Solution { .. })));
    let screen = crate::tui_fixture::render(&h.app, 120, 40);
    assert!(screen.contains("yours") && screen.contains("reference"), "{screen}");
    h.key(KeyCode::Esc);
    // Reset asks first; n keeps the text, y brings the starter back.
    h.app.focus = kubetutor::app::Pane::Editor;
    h.ctrl('r');
    assert_eq!(h.app.confirm, Some(Confirm::ResetEditor));
    h.key(KeyCode::Char('n'));
    assert!(h.app.editor.text().contains("port: 8080"));
    h.ctrl('r');
    h.key(KeyCode::Char('y'));
    assert_eq!(h.app.editor.text(), h.app.lesson.steps[0].starter.as_ref().unwrap().text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_sandbox_gets_the_finished_steps_back() {
    let mut h = Harness::new().await;
    let lesson = h.app.lesson.clone();
    let cluster = h.runtime.services.cluster.clone().unwrap();
    let tx = h.runtime.tx.clone();
    let state_dir = h.dir.path().to_path_buf();
    tokio::spawn(async move {
        let done = [0, 1].into_iter().collect();
        let problems = kubetutor::app::effects::restore_done_steps(&cluster, &lesson, &done, &state_dir).await;
        let _ = tx.send(kubetutor::app::effects::restore_notice(&problems));
    });
    h.until(30, "the restore notice", |a| a.message.is_some()).await;
    assert_eq!(h.app.message.as_ref().unwrap().text, kubetutor::ui::text::RESTORED);
    h.until(30, "the pods of step 1", |a| a.snapshot.pods.len() >= 2 && a.snapshot.services.contains_key("nginx"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_ahead_solves_the_steps_before_and_restart_starts_over() {
    let mut h = Harness::new().await;
    h.app.focus = kubetutor::app::Pane::Lesson;
    // Select step 2 and skip ahead to it: asks first.
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    h.send(Event::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT)));
    let Some(Confirm::Restart { index: 2, question }) = h.app.confirm.clone() else {
        panic!("no question: {:?}", h.app.confirm)
    };
    assert!(question.starts_with("Skip ahead to step 2?"), "{question}");
    h.key(KeyCode::Char('y'));
    h.until(60, "step 2 prepared", |a| a.step == 2 && a.done.len() == 2).await;
    let message = h.app.message.clone().unwrap().text;
    assert!(message.starts_with("Step 2 starts afresh: 0 objects deleted"), "{message}");
    assert_eq!(h.app.done.iter().copied().collect::<Vec<_>>(), [0, 1]);
    // The reference solutions of steps 0 and 1 are on the cluster: step 2 passes by itself.
    h.until(60, "step 2 graded as passing", |a| {
        a.reports.get(&2).is_some_and(|r| r.status() == kubetutor::grade::StepStatus::Pass)
    })
    .await;

    // Restart step 1: its objects go, step 0's come back, step 1 is current again.
    h.app.selected = 1;
    h.send(Event::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT)));
    assert!(
        matches!(&h.app.confirm, Some(Confirm::Restart { index: 1, question }) if question.starts_with("Start step 1 afresh?"))
    );
    h.key(KeyCode::Char('y'));
    h.until(60, "step 1 restarted", |a| a.step == 1 && a.done.len() == 1).await;
    let message = h.app.message.clone().unwrap().text;
    assert!(message.starts_with("Step 1 starts afresh: ") && !message.contains(": 0 objects"), "{message}");
    h.until(60, "step 1 not passing without its StatefulSet", |a| {
        a.reports.get(&1).is_some_and(|r| r.status() == kubetutor::grade::StepStatus::NotYet)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_changes_nothing() {
    let mut h = Harness::new().await;
    h.app.readonly = true;
    h.fill_step0("web");
    h.ctrl('s');
    assert!(matches!(h.app.apply, ApplyState::Idle), "{:?}", h.app.apply);
    assert!(h.app.message.clone().unwrap().text.starts_with("Read-only session"));
    h.app.focus = kubetutor::app::Pane::Lesson;
    h.key(KeyCode::Char(':'));
    h.typ("delete pod web-0");
    h.key(KeyCode::Enter);
    assert!(h.app.message.clone().unwrap().text.starts_with("Read-only session"));
    h.send(Event::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT)));
    assert!(h.app.confirm.is_none());
    // Reading still works.
    h.key(KeyCode::Char(':'));
    h.typ("get pods");
    h.key(KeyCode::Enter);
    // A one-line answer goes to the message line, not to the result area.
    h.until(30, "the get output", |a| a.message.as_ref().is_some_and(|m| m.text.contains("No resources found"))).await;
    assert!(h.app.result.is_none());
}

#[test]
fn hints_start_with_the_blank_the_failing_check_points_at() {
    use kubetutor::grade::{CheckReport, Concern, Outcome, StepReport};
    let dir = tempfile::tempdir().unwrap();
    let mut app = crate::tui_fixture::app(dir.path(), Theme::dark());
    let step_hints = app.lesson.steps[0].hints.clone();
    assert_eq!(kubetutor::app::hint_list(&app)[0], step_hints[0], "no report: the step's own tiers first");
    let failing = |blank: Option<usize>| Outcome::NotYet {
        reason: "spec.ports[0] has no name".into(),
        concern: Concern { object: Some("Service/nginx".into()), field: Some("spec.ports[0].name".into()), blank },
        hint: Some("give the port a name".into()),
    };
    let report = |blank| StepReport {
        index: 0,
        id: "headless-service".into(),
        title: "A headless Service".into(),
        checks: vec![CheckReport::live("passing", Outcome::Pass), CheckReport::live("headless", failing(blank))],
    };
    // The fixture's second blank is the port name.
    app.reports.insert(0, report(Some(1)));
    let hints = kubetutor::app::hint_list(&app);
    assert_eq!(hints[0], "port name: the pods refer to it");
    assert_eq!(hints[1], step_hints[0]);
    assert_eq!(hints.len(), 3, "{hints:?}");
    // A failing check that names no blank: the step's tiers first.
    app.reports.insert(0, report(None));
    assert_eq!(kubetutor::app::hint_list(&app)[0], step_hints[0]);
}

/// Quitting writes what is still waiting, at once: with a writer that has no thread of its
/// own, the draft typed before Ctrl-Q (or before SIGTERM) is on disk when the loop returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_flushes_the_draft_the_writer_still_holds() {
    use kubetutor::app::writer::Writer;
    for last in [
        Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)),
        Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Event::Terminate,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut app = crate::tui_fixture::app(dir.path(), Theme::dark());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut services = Services::none();
        services.writer = Writer::without_thread(|e| panic!("{e}"));
        let writer = services.writer.clone();
        let runtime = Runtime::new(tx, services);
        let key = |c: KeyCode, m: KeyModifiers| Event::Key(KeyEvent::new(c, m));
        let mut script = vec![key(KeyCode::Char('n'), KeyModifiers::CONTROL)];
        script.extend("None".chars().map(|c| key(KeyCode::Char(c), KeyModifiers::NONE)));
        // The typed text goes to the writer (nothing written yet: it has no thread)...
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let clock = crate::tui_fixture::now;
        let draft = dir.path().join("drafts/statefulset/headless-service.yaml");
        for e in script {
            run::step(&mut app, &runtime, e);
        }
        let save = Event::Timer(kubetutor::app::Timer::SaveDraft(app.editor.generation));
        run::step(&mut app, &runtime, save);
        assert!(writer.pending() > 0 && !draft.exists(), "{last:?}: written before the quit");
        // ...and the quit (or the signal) writes it before the loop returns.
        let script = vec![key(KeyCode::Char('x'), KeyModifiers::NONE), last];
        run::run(
            &mut terminal,
            &mut app,
            futures::stream::iter(script),
            &runtime,
            &mut rx,
            &clock,
            kubetutor::ui::draw,
        )
        .await
        .unwrap();
        assert!(app.quit);
        assert_eq!(writer.pending(), 0);
        let saved = std::fs::read_to_string(&draft).unwrap();
        assert!(saved.contains("clusterIP: Nonex"), "{saved}");
        let cursor = std::fs::read_to_string(draft.with_extension("cursor")).unwrap();
        assert_eq!(cursor.trim(), format!("{} {}", app.editor.area.cursor().0, app.editor.area.cursor().1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_left_and_opened_again_at_once_brings_back_the_draft_the_writer_still_holds() {
    use kubetutor::app::writer::Writer;
    let dir = tempfile::tempdir().unwrap();
    let mut app = crate::tui_fixture::app(dir.path(), Theme::dark());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut services = Services::none();
    // A writer that never writes on its own: the text stays waiting in it.
    services.writer = Writer::without_thread(|e| panic!("{e}"));
    let writer = services.writer.clone();
    let runtime = Runtime::new(tx, services);
    let key = |c: KeyCode, m: KeyModifiers| Event::Key(KeyEvent::new(c, m));
    run::step(&mut app, &runtime, key(KeyCode::Char('n'), KeyModifiers::CONTROL));
    for c in "None".chars() {
        run::step(&mut app, &runtime, key(KeyCode::Char(c), KeyModifiers::NONE));
    }
    let save = Event::Timer(kubetutor::app::Timer::SaveDraft(app.editor.generation));
    run::step(&mut app, &runtime, save);
    let draft = dir.path().join("drafts/statefulset/headless-service.yaml");
    assert!(writer.pending() > 0 && !draft.exists());
    // To step 1 and straight back to step 0 from the step list.
    app.focus = kubetutor::app::Pane::Lesson;
    for code in [KeyCode::Down, KeyCode::Enter, KeyCode::Up, KeyCode::Enter] {
        run::step(&mut app, &runtime, key(code, KeyModifiers::NONE));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while app.loading_draft() {
            match tokio::time::timeout(std::time::Duration::from_millis(100), rx.recv()).await {
                Ok(Some(e)) => drop(run::step(&mut app, &runtime, e)),
                _ => assert!(std::time::Instant::now() < deadline, "the draft did not come"),
            }
        }
    }
    assert_eq!(app.step, 0);
    assert!(app.editor.text().contains("clusterIP: None"), "{}", app.editor.text());
}
