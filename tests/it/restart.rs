//! A finished lesson, then the tutor started again on a fresh sandbox: the app loop restores
//! the finished steps from the learner's drafts and the record, every step stays passed (the
//! order, the restart and the rollout are proven from the record, not re-judged on the
//! restored objects), and `kubetutor check` agrees with the screen (exit 0).

use std::path::Path;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube_sandbox::SandboxConfig;
use kubetutor::app::effects::{Restore, Services};
use kubetutor::app::run::{self, Runtime};
use kubetutor::app::{App, ClusterInfo, Event};
use kubetutor::cluster::apply::{apply_manifests, ApplyOptions};
use kubetutor::cluster::{self, watch::WatchHandle, Cluster, EmbeddedSandbox};
use kubetutor::grade::StepStatus;
use kubetutor::lesson::progress::Progress;
use kubetutor::lesson::Lesson;
use kubetutor::ui::theme::Theme;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::tui_loop::{private_state_dir, pump_until};

/// One run of the tutor: a sandbox of its own, the app, its grading task and watch.
struct Session {
    app: App,
    runtime: Runtime,
    rx: UnboundedReceiver<Event>,
    cluster: Cluster,
    kubeconfig: std::path::PathBuf,
    _watch: WatchHandle,
    _sandbox: EmbeddedSandbox,
}

impl Session {
    /// Start as `kubetutor` does: the saved progress, and on a fresh sandbox the finished steps
    /// restored from the drafts in `state`.
    async fn start(lesson: &Arc<Lesson>, state: &Path, sandbox_dir: &Path) -> Session {
        let config = SandboxConfig { speed: f64::INFINITY, ..Default::default() };
        let kubeconfig = sandbox_dir.join("kubeconfig");
        let (cluster, sandbox) = cluster::start_sandbox(config, kubeconfig.clone(), "default").await.unwrap();
        let progress = Progress::load(&lesson.slug).unwrap();
        let done: std::collections::BTreeSet<usize> =
            (0..lesson.steps.len()).filter(|&i| progress.is_done(lesson, i)).collect();
        let info = ClusterInfo {
            describe: cluster.describe(),
            namespace: cluster.namespace.clone(),
            kubectl_hint: cluster.kubectl_hint(),
            sandbox: true,
        };
        let app = App::new(
            lesson.clone(),
            progress.current_index(lesson),
            done.clone(),
            info,
            Theme::dark(),
            state.to_path_buf(),
        );
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let watch = kubetutor::app::start::spawn_watch(&cluster, tx.clone());
        let restore = Some(Restore { done, state_dir: state.to_path_buf() });
        let services = Services::new(cluster.clone(), lesson.clone(), progress, restore, tx.clone());
        let runtime = Runtime::new(tx, services);
        Session { app, runtime, rx, cluster, kubeconfig, _watch: watch, _sandbox: sandbox }
    }

    async fn until(&mut self, secs: u64, what: &str, done: impl Fn(&App) -> bool) {
        pump_until(&mut self.app, &self.runtime, &mut self.rx, secs, what, done).await;
    }

    /// Ask for a grade now (Ctrl-G, as the learner can).
    fn grade(&mut self) {
        run::step(&mut self.app, &self.runtime, Event::Key(KeyEvent::new(KeyCode::Char('g'), KeyModifiers::CONTROL)));
    }

    /// Wait until every check of step `i` passes, then go on as the learner does: `n` in the
    /// lesson pane (which also counts a step whose point is to look, looked at from outside).
    async fn pass(&mut self, i: usize) {
        self.until(60, &format!("step {i}'s checks to pass"), |a| {
            a.reports.get(&i).is_some_and(|r| r.status() == StepStatus::Pass)
        })
        .await;
        self.app.focus = kubetutor::app::Pane::Lesson;
        run::step(&mut self.app, &self.runtime, Event::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)));
        self.until(10, &format!("step {i} done"), |a| a.done.contains(&i)).await;
        if i + 1 < self.app.lesson.steps.len() {
            // Open, with its draft read (it comes back as an event).
            self.until(10, &format!("step {} open", i + 1), |a| a.step == i + 1 && !a.loading_draft()).await;
            self.grade();
        }
    }

    fn sets(&self) -> Api<StatefulSet> {
        Api::namespaced(self.cluster.client.clone(), "default")
    }
}

/// The learner's own manifests: Service `frontend`, pods labelled `tier: edu`.
fn learners(lesson: &Lesson, step: usize) -> String {
    kubetutor::lesson::load::solution_for(lesson, step)
        .replace("metadata:\n  name: nginx\n", "metadata:\n  name: frontend\n")
        .replace("serviceName: \"nginx\"", "serviceName: \"frontend\"")
        .replace("app: nginx", "tier: edu")
}

/// A copy of the built-in lesson under its own slug, so its progress file is this test's alone.
fn lesson_copy(dir: &Path) -> Arc<Lesson> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons/statefulset");
    let dst = dir.join("restart-proofs");
    copy_dir(&src, &dst);
    Arc::new(kubetutor::lesson::load::load_dir(&dst).unwrap())
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_lesson_stays_passed_on_a_fresh_sandbox() {
    private_state_dir();
    let lessons = tempfile::tempdir().unwrap();
    let lesson = lesson_copy(lessons.path());
    let state = tempfile::tempdir().unwrap();
    let first_dir = tempfile::tempdir().unwrap();

    // The first session: the learner does the whole lesson with names of their own (their
    // editor text is what the drafts keep).
    for step in [0, 1] {
        let draft = kubetutor::app::drafts::draft_path(state.path(), &lesson.slug, &lesson.steps[step].id);
        std::fs::create_dir_all(draft.parent().unwrap()).unwrap();
        std::fs::write(&draft, learners(&lesson, step)).unwrap();
    }
    let mut s = Session::start(&lesson, state.path(), first_dir.path()).await;
    for step in [0, 1] {
        assert_eq!(s.app.editor.text().trim_end(), learners(&lesson, step).trim_end());
        apply_manifests(&s.cluster, &learners(&lesson, step), ApplyOptions::default()).await.unwrap();
        s.grade();
        s.pass(step).await;
    }
    s.pass(2).await;
    // Step 3 takes the pods of before as its baseline when graded first; then they go.
    s.until(30, "a grade of step 3", |a| a.reports.contains_key(&3)).await;
    let pods: Api<Pod> = Api::namespaced(s.cluster.client.clone(), "default");
    pods.delete_collection(&DeleteParams::default(), &ListParams::default().labels("tier=edu")).await.unwrap();
    s.pass(3).await;
    let pp = PatchParams::default();
    s.sets().patch("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 3}}))).await.unwrap();
    s.until(60, "three replicas", |a| a.reports.get(&4).is_some_and(|r| r.checks[0].outcome.is_pass())).await;
    let canary = json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}});
    s.sets().patch("web", &pp, &Patch::Strategic(canary)).await.unwrap();
    let image: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.13.12"}
    ]))
    .unwrap();
    s.sets().patch("web", &pp, &Patch::<()>::Json(image)).await.unwrap();
    s.until(60, "the canary", |a| a.reports.get(&4).is_some_and(|r| r.checks[1].outcome.is_pass())).await;
    let zero = json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}});
    s.sets().patch("web", &pp, &Patch::Strategic(zero)).await.unwrap();
    s.pass(4).await;
    assert_eq!(s.app.done.len(), 5);
    // The record was saved by the grading task: give it the last word before the restart.
    s.until(10, "the record of the last step", |_| {
        Progress::load(&lesson.slug).is_ok_and(|p| p.done.len() == 5 && p.proven.contains_key("canary"))
    })
    .await;
    drop(s);

    // The second session, on a fresh sandbox: the finished steps are restored from the
    // learner's drafts, and the app opens where the learner left off.
    let second_dir = tempfile::tempdir().unwrap();
    let mut s = Session::start(&lesson, state.path(), second_dir.path()).await;
    assert_eq!(s.app.done.len(), 5);
    // The restored objects are the learner's.
    s.until(60, "the restored Service frontend", |a| a.snapshot.services.contains_key("frontend")).await;
    for step in 0..5 {
        s.app.open_step(step);
        s.grade();
        s.until(60, &format!("step {step} to pass again"), |a| {
            a.reports.get(&step).is_some_and(|r| r.index == step && r.status() == StepStatus::Pass)
        })
        .await;
        let report = &s.app.reports[&step];
        assert!(report.checks.iter().all(|c| c.outcome.is_pass()), "step {step}: {report:?}");
        // Nothing says "passed, now failing".
        assert_eq!(kubetutor::ui::lesson::step_symbol(&s.app, step).0, kubetutor::ui::text::SYM_DONE);
    }
    // What is over is proven from the record, and says so.
    let rollout = &s.app.reports[&4].checks[2];
    assert!(rollout.proven, "{rollout:?}");

    // `kubetutor check` reads the same record and agrees with the screen.
    let (text, code) = check(&s, lessons.path()).await;
    assert_eq!(code, Some(0), "{text}");
    for step in 0..5 {
        assert!(text.contains(&format!("\nstep {step} ")), "{text}");
    }
    assert!(!text.contains("FIX") && !text.contains("now failing"), "{text}");
    assert!(text.contains("  ok  update rolled out from web-2 down to web-0 (proven when it passed)"), "{text}");

    // The learner deletes the Service later: step 0 passed, and is failing now; the screen and
    // `check` both say so.
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(s.cluster.client.clone(), "default");
    services.delete("frontend", &DeleteParams::default()).await.unwrap();
    s.app.open_step(0);
    s.until(30, "the Service to go", |a| !a.snapshot.services.contains_key("frontend")).await;
    s.grade();
    s.until(30, "step 0 failing", |a| a.reports.get(&0).is_some_and(|r| r.status() == StepStatus::NotYet)).await;
    assert_eq!(kubetutor::ui::lesson::step_symbol(&s.app, 0).0, kubetutor::ui::text::SYM_BROKEN);
    assert!(s.app.done.contains(&0), "the record keeps the pass");
    let (text, code) = check(&s, lessons.path()).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("\nstep 0 A headless Service: passed, now failing\n  FIX a headless Service: there is no headless Service yet\n"), "{text}");
}

/// `kubetutor check` on the session's sandbox, with the test's state dir: (stdout, exit code).
async fn check(s: &Session, lessons: &Path) -> (String, Option<i32>) {
    let (kubeconfig, lessons_dir) = (s.kubeconfig.clone(), lessons.to_path_buf());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kubetutor"))
            .args(["check", "--lesson", "restart-proofs", "--kubeconfig"])
            .arg(&kubeconfig)
            .arg("--lessons-dir")
            .arg(&lessons_dir)
            .env("KUBETUTOR_STATE_DIR", std::env::var_os("KUBETUTOR_STATE_DIR").unwrap())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (text, out.status.code())
}
