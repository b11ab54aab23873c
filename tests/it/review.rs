//! Session records end to end: a scripted lesson (keys, applies, commands, the cluster's
//! changes and the grades, through the same `update_recorded` as the run loop) is recorded,
//! exported, and reviewed; the screen is asserted at chosen instants (web-1 created while
//! web-0 is Ready; the canary at partition 2) and the review keys move through time.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Service};
use kubetutor::app::recorder::Recorder;
use kubetutor::app::review::Review;
use kubetutor::app::run::update_recorded;
use kubetutor::app::{App, ClusterInfo, EditorState, Effect, Event, Pane};
use kubetutor::cluster::watch::{ClusterEvent, Connection};
use kubetutor::cluster::Snapshot;
use kubetutor::grade::{CheckReport, Outcome, StepReport};
use kubetutor::lesson::Lesson;
use kubetutor::record::{self, Header, Replay};
use kubetutor::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

use crate::tui_fixture::buffer_text;

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn ts(secs: i64) -> String {
    jiff::Timestamp::from_second(T0 + secs).unwrap().to_string()
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// A learner going through the lesson, with the cluster scripted.
struct Script {
    app: App,
    rec: Recorder,
    snap: Snapshot,
    rv: u64,
    secs: i64,
    lesson: Arc<Lesson>,
}

impl Script {
    fn new(dir: &std::path::Path) -> Script {
        let lesson = Arc::new(kubetutor::lesson::load::find("statefulset").unwrap());
        let info =
            ClusterInfo { describe: "sandbox".into(), namespace: "default".into(), kubectl_hint: None, sandbox: true };
        let mut app = App::new(lesson.clone(), 0, Default::default(), info, Theme::dark(), dir.to_path_buf());
        app.now = jiff::Timestamp::from_second(T0).unwrap();
        kubetutor::app::update(&mut app, Event::Cluster(ClusterEvent::Connection(Connection::Connected)));
        let header = Header {
            format: record::FORMAT.into(),
            version: record::VERSION,
            lesson: lesson.slug.clone(),
            namespace: "default".into(),
            started: app.now,
            step: 0,
            done: Default::default(),
        };
        Script { rec: Recorder::in_memory(&header), app, snap: Snapshot::default(), rv: 0, secs: 0, lesson }
    }

    /// One event, a second after the last; the effects a cluster would answer are answered.
    fn send(&mut self, event: Event) {
        let mut queue = vec![event];
        while let Some(e) = queue.pop() {
            // Keys (and the drafts they open) take no time; what the cluster and the grader
            // send comes a second apart.
            if !matches!(e, Event::Key(_) | Event::DraftLoaded { .. }) {
                self.secs += 1;
            }
            self.app.now = jiff::Timestamp::from_second(T0 + self.secs).unwrap();
            let (effects, notices) = update_recorded(&mut self.app, Some(&mut self.rec), e);
            assert!(notices.is_empty(), "{notices:?}");
            for fx in effects {
                match fx {
                    Effect::Apply { yaml, dry_run, .. } => {
                        let names: Vec<String> = yaml
                            .lines()
                            .filter_map(|l| l.strip_prefix("  name: "))
                            .take(1)
                            .map(|n| format!("{n} configured"))
                            .collect();
                        queue.push(Event::Applied { dry_run, result: Ok(names) });
                    }
                    Effect::LoadDraft { index, path } => {
                        queue.push(Event::DraftLoaded { index, loaded: kubetutor::app::drafts::read(&path) });
                    }
                    Effect::RunCommand { line, .. } => {
                        let out = if line.starts_with("scale") {
                            "statefulset.apps/web scaled"
                        } else {
                            "statefulset.apps/web patched"
                        };
                        queue.push(Event::CommandDone { echo: format!("$ kubectl {line}"), result: Ok(out.into()) });
                    }
                    _ => {}
                }
            }
        }
    }

    fn keys(&mut self, codes: &[KeyCode]) {
        for &c in codes {
            self.send(Event::Key(key(c)));
        }
    }

    /// Apply `yaml` from the editor of the open step (Ctrl-S: dry run, then apply).
    fn apply(&mut self, yaml: &str) {
        let starter = self.lesson.step(self.app.step).and_then(|s| s.starter.clone());
        self.app.editor = EditorState::new(starter, Some(yaml.to_string()));
        self.app.focus = Pane::Editor;
        self.send(Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    }

    fn command(&mut self, line: &str) {
        self.app.focus = Pane::Lesson;
        self.keys(&[KeyCode::Char(':')]);
        for c in line.chars() {
            self.keys(&[KeyCode::Char(c)]);
        }
        self.keys(&[KeyCode::Enter]);
        if self.app.confirm.is_some() {
            self.keys(&[KeyCode::Char('y')]);
        }
    }

    fn change(&mut self, f: impl FnOnce(&mut Snapshot, &mut dyn FnMut() -> String)) {
        let mut rv = self.rv;
        let mut next = || {
            rv += 1;
            rv.to_string()
        };
        f(&mut self.snap, &mut next);
        self.rv = rv;
        let snapshot = Arc::new(self.snap.clone());
        self.send(Event::Cluster(ClusterEvent::Changed { snapshot, new_entries: vec![] }));
    }

    fn graded(&mut self, step: usize, checks: Vec<(&str, Outcome)>) {
        let s = self.lesson.step(step).unwrap();
        let report = StepReport {
            index: step,
            id: s.id.clone(),
            title: s.title.clone(),
            checks: checks.into_iter().map(|(n, o)| CheckReport::live(n, o)).collect(),
        };
        self.send(Event::Graded(report));
    }

    fn now(&self) -> i64 {
        self.secs
    }
}

fn pod(name: &str, rv: String, uid: &str, rev: &str, image: &str, ready: bool, created: i64) -> Pod {
    let state = if ready { json!({"running": {}}) } else { json!({"waiting": {"reason": "ContainerCreating"}}) };
    serde_json::from_value(json!({
        "metadata": {"name": name, "uid": uid, "resourceVersion": rv, "creationTimestamp": ts(created),
            "labels": {"app": "nginx", "controller-revision-hash": rev},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "sts-web", "controller": true}]},
        "spec": {"containers": [{"name": "nginx", "image": image}]},
        "status": {"phase": if ready {"Running"} else {"Pending"},
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "lastTransitionTime": ts(created + 2)}],
            "containerStatuses": [{"name": "nginx", "image": image, "imageID": "", "ready": ready,
                "restartCount": 0, "state": state}]}
    }))
    .unwrap()
}

fn sts(rv: String, replicas: i32, partition: i32, image: &str, ready: i32, current: &str, update: &str) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "uid": "sts-web", "resourceVersion": rv, "creationTimestamp": ts(5)},
        "spec": {"replicas": replicas, "serviceName": "nginx", "selector": {"matchLabels": {"app": "nginx"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": image}]}}},
        "status": {"replicas": replicas, "readyReplicas": ready, "currentRevision": current, "updateRevision": update}
    }))
    .unwrap()
}

fn pvc(name: &str, rv: String) -> PersistentVolumeClaim {
    serde_json::from_value(json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": rv},
        "spec": {"volumeName": format!("pvc-{name}"), "accessModes": ["ReadWriteOnce"]},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    }))
    .unwrap()
}

fn service(rv: String) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "nginx", "uid": "svc-nginx", "resourceVersion": rv},
        "spec": {"clusterIP": "None", "selector": {"app": "nginx"}, "ports": [{"name": "web", "port": 80}]}
    }))
    .unwrap()
}

const OLD: &str = "web-6fb6c746c4";
const NEW: &str = "web-5bb8577c5f";

/// The lesson from the Service to the canary, recorded.
fn record_lesson(dir: &std::path::Path) -> (Arc<Lesson>, String) {
    let mut s = Script::new(dir);
    let lesson = s.lesson.clone();
    s.graded(0, vec![("a headless Service", Outcome::not_yet("there is no headless Service yet"))]);
    s.apply(&lesson.steps[0].solution[0]);
    s.change(|snap, rv| {
        snap.services.insert("nginx".into(), service(rv()));
    });
    s.graded(0, vec![("a headless Service", Outcome::Pass)]);
    s.app.focus = Pane::Lesson;
    s.keys(&[KeyCode::Char('n')]);
    assert_eq!(s.app.step, 1);
    s.apply(&lesson.steps[1].solution[0]);
    s.change(|snap, rv| {
        snap.statefulsets.insert("web".into(), sts(rv(), 2, 0, "nginx:mainline", 0, OLD, OLD));
    });
    let t = s.now();
    s.change(|snap, rv| {
        snap.pods.insert("web-0".into(), pod("web-0", rv(), "u-web-0", OLD, "nginx:mainline", false, t));
        snap.pvcs.insert("www-web-0".into(), pvc("www-web-0", rv()));
    });
    s.change(|snap, rv| {
        snap.pods.insert("web-0".into(), pod("web-0", rv(), "u-web-0", OLD, "nginx:mainline", true, t));
        snap.statefulsets.insert("web".into(), sts(rv(), 2, 0, "nginx:mainline", 1, OLD, OLD));
    });
    let t1 = s.now();
    s.change(|snap, rv| {
        snap.pods.insert("web-1".into(), pod("web-1", rv(), "u-web-1", OLD, "nginx:mainline", false, t1));
        snap.pvcs.insert("www-web-1".into(), pvc("www-web-1", rv()));
    });
    s.change(|snap, rv| {
        snap.pods.insert("web-1".into(), pod("web-1", rv(), "u-web-1", OLD, "nginx:mainline", true, t1));
        snap.statefulsets.insert("web".into(), sts(rv(), 2, 0, "nginx:mainline", 2, OLD, OLD));
    });
    s.graded(
        1,
        vec![
            ("StatefulSet web agrees with the Service", Outcome::Pass),
            ("web-0 and web-1 are running", Outcome::Pass),
        ],
    );
    // Straight to the canary step from the step list.
    s.app.focus = Pane::Lesson;
    s.keys(&[KeyCode::Char('j'), KeyCode::Char('j'), KeyCode::Char('j'), KeyCode::Enter]);
    assert_eq!(s.app.step, 4);
    s.command("scale statefulset web --replicas=3");
    s.change(|snap, rv| {
        snap.statefulsets.insert("web".into(), sts(rv(), 3, 0, "nginx:mainline", 2, OLD, OLD));
    });
    let t2 = s.now();
    s.change(|snap, rv| {
        snap.pods.insert("web-2".into(), pod("web-2", rv(), "u-web-2", OLD, "nginx:mainline", true, t2));
        snap.pvcs.insert("www-web-2".into(), pvc("www-web-2", rv()));
        snap.statefulsets.insert("web".into(), sts(rv(), 3, 0, "nginx:mainline", 3, OLD, OLD));
    });
    s.command(r#"patch statefulset web -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}'"#);
    s.change(|snap, rv| {
        snap.statefulsets.insert("web".into(), sts(rv(), 3, 2, "nginx:mainline", 3, OLD, OLD));
    });
    s.command(r#"patch statefulset web --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.13.12"}]'"#);
    s.change(|snap, rv| {
        snap.statefulsets.insert("web".into(), sts(rv(), 3, 2, "nginx:1.13.12", 3, OLD, NEW));
    });
    s.change(|snap, _| {
        snap.pods.remove("web-2");
    });
    let t3 = s.now();
    s.change(|snap, rv| {
        snap.pods.insert("web-2".into(), pod("web-2", rv(), "u-web-2b", NEW, "nginx:1.13.12", false, t3));
    });
    s.change(|snap, rv| {
        snap.pods.insert("web-2".into(), pod("web-2", rv(), "u-web-2b", NEW, "nginx:1.13.12", true, t3));
        snap.statefulsets.insert("web".into(), sts(rv(), 3, 2, "nginx:1.13.12", 3, OLD, NEW));
    });
    s.graded(
        4,
        vec![
            ("three replicas", Outcome::Pass),
            ("canary on web-2 only", Outcome::Pass),
            ("update rolled out from web-2 down to web-0", Outcome::waiting("partition to go down to 0")),
        ],
    );
    (lesson, s.rec.text())
}

fn screen(review: &Review, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| kubetutor::ui::review::draw(f, review)).unwrap();
    buffer_text(terminal.backend().buffer())
}

/// Record, export, and open the export as a review.
fn reviewed() -> (Review, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (lesson, text) = record_lesson(dir.path());
    let session = dir.path().join("session.jsonl");
    std::fs::write(&session, text).unwrap();
    let exported = dir.path().join("exported.jsonl");
    let n = record::export(&session, &exported).unwrap();
    let replay = Replay::open(&exported, Some(&lesson)).unwrap();
    assert_eq!(replay.len(), n);
    (Review::new(replay, lesson, Theme::dark(), &exported), dir)
}

fn search(review: &mut Review, query: &str) {
    review.key(key(KeyCode::Char('/')));
    for c in query.chars() {
        review.key(key(KeyCode::Char(c)));
    }
    review.key(key(KeyCode::Enter));
}

#[test]
fn the_record_holds_what_happened_in_order() {
    let (review, _dir) = reviewed();
    let lines: Vec<&str> = review.replay.events.iter().map(|e| e.describe.as_str()).collect();
    let at = |what: &str| lines.iter().position(|l| *l == what).unwrap_or_else(|| panic!("{what} in {lines:#?}"));
    assert!(at("created web-0 (nginx:mainline)") < at("web-0 Ready"));
    assert!(at("web-0 Ready") < at("created web-1 (nginx:mainline)"));
    assert!(at("step 0 passed: A headless Service") < at("opened step 1: The StatefulSet web"));
    assert!(at("web partition 0 → 2") < at("created web-2 (nginx:1.13.12)"));
    assert!(lines.iter().any(|l| l.starts_with("applied (step 1): web configured")), "{lines:#?}");
    assert!(lines.contains(&"kubectl scale statefulset web --replicas=3"), "{lines:#?}");
    assert!(lines.contains(&"checks of step 4: 2/3 pass"), "{lines:#?}");
}

#[test]
fn review_at_web_1_created_while_web_0_ready() {
    let (mut review, _dir) = reviewed();
    search(&mut review, "created web-1");
    let wide = screen(&review, 120, 40);
    assert!(wide.contains("created web-1 (nginx:mainline)"), "{wide}");
    assert!(wide.contains("web-0 1/1   Running"), "{wide}");
    assert!(wide.contains("web-1 0/1   ContainerCreating"), "{wide}");
    assert!(!wide.contains("web-2"), "{wide}");
    // The editor holds the StatefulSet as applied in step 1.
    assert!(wide.contains("Step 1"), "{wide}");
    assert!(wide.contains("replicas: 2") && wide.contains("editor: applied +0:07"), "{wide}");
    insta::assert_snapshot!("review_web1_created_wide", wide);
    insta::assert_snapshot!("review_web1_created_narrow", screen(&review, 80, 24));
}

#[test]
fn review_at_the_canary_at_partition_2() {
    let (mut review, _dir) = reviewed();
    search(&mut review, "created web-2 1.13.12");
    search(&mut review, "web-2 ready");
    assert!(screen(&review, 120, 40).contains("· web-2 Ready"));
    // The checks graded then come next.
    review.key(key(KeyCode::Right));
    let wide = screen(&review, 120, 40);
    assert!(wide.contains("checks of step 4: 2/3 pass"), "{wide}");
    let row = |name: &str| wide.lines().find(|l| l.contains(&format!("┃{name} "))).unwrap_or_default().to_string();
    assert!(row("web-2").contains("1/1   Running") && row("web-2").contains("nginx:1.13.12"), "{wide}");
    assert!(row("web-0").contains("nginx:mainline") && row("web-1").contains("nginx:mainline"), "{wide}");
    assert!(wide.contains("pods below partition 2 stay on web-6fb6c746c4 (canary done)"), "{wide}");
    assert!(wide.contains("canary on web-2 only"), "{wide}");
    insta::assert_snapshot!("review_canary_partition_2_wide", wide);
}

#[test]
fn review_keys_move_through_time() {
    let (mut review, _dir) = reviewed();
    let total = review.replay.len();
    assert_eq!(review.position(), 0);
    assert!(!screen(&review, 120, 40).contains("web-0 "), "nothing yet before the first event");
    // One event at a time, forward and back: the screen follows.
    search(&mut review, "web-0 ready");
    let ready_at = review.position();
    assert!(screen(&review, 120, 40).contains("web-0 1/1   Running"));
    review.key(key(KeyCode::Left));
    assert_eq!(review.position(), ready_at - 1);
    assert!(screen(&review, 120, 40).contains("web-0 0/1"));
    review.key(key(KeyCode::Char('l')));
    assert_eq!(review.position(), ready_at);
    // Step marks: the next is the pass of step 1, then the opening of step 4.
    review.key(key(KeyCode::Char(']')));
    assert!(screen(&review, 120, 40).contains("step 1 passed"), "{}", screen(&review, 120, 40));
    review.key(key(KeyCode::Char(']')));
    let s = screen(&review, 120, 40);
    assert!(s.contains("opened step 4"), "{s}");
    assert_eq!(review.app.step, 4);
    review.key(key(KeyCode::Char('[')));
    assert!(screen(&review, 120, 40).contains("step 1 passed"));
    assert_eq!(review.app.step, 1);
    // Again and back: n and N.
    search(&mut review, "ready");
    let first = review.position();
    review.key(key(KeyCode::Char('n')));
    assert!(review.position() > first);
    review.key(key(KeyCode::Char('N')));
    assert_eq!(review.position(), first);
    search(&mut review, "no such thing");
    assert_eq!(review.position(), first);
    assert!(screen(&review, 120, 40).contains("“no such thing” not found"));
    // The ends.
    review.key(key(KeyCode::End));
    assert_eq!(review.position(), total);
    review.key(key(KeyCode::Home));
    assert_eq!(review.position(), 0);
    // Play: speeds cycle, each tick is one event, the end stops it.
    review.key(key(KeyCode::Char('x')));
    assert_eq!(review.speed, 4);
    review.key(key(KeyCode::Char(' ')));
    assert!(review.playing);
    let slow = review.play_delay().unwrap();
    review.key(key(KeyCode::Char('x')));
    assert_eq!(review.speed, 16);
    assert!(review.play_delay().unwrap() < slow);
    while review.playing {
        review.play_tick();
    }
    assert_eq!(review.position(), total);
    assert!(screen(&review, 120, 40).contains("end of the record"));
    // The YAML applied next to the reference.
    review.key(key(KeyCode::Home));
    search(&mut review, "applied step 1");
    review.key(key(KeyCode::Char('s')));
    let s = screen(&review, 120, 40);
    assert!(s.contains("Reference solution"), "{s}");
    review.key(key(KeyCode::Esc));
    assert!(!screen(&review, 120, 40).contains("Reference solution"));
    assert!(review.key(key(KeyCode::Char('q'))));
}

#[test]
fn review_keys_table_in_readme_matches() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for b in kubetutor::app::keys::REVIEW {
        let (k, what) = (b.label, b.help);
        let row = format!("| `{k}` | {what} |");
        assert!(readme.contains(&row), "README lacks the review key row {row}");
    }
}

/// The run loop's recorder against a real sandbox: the apply with the learner's YAML, the
/// Service as the watch saw it, the checks and the pass land in the session file under the
/// state dir, and the newest session replays to the same state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_records_a_real_session() {
    let mut h = crate::tui_loop::Harness::new().await;
    let header = Header {
        format: record::FORMAT.into(),
        version: record::VERSION,
        lesson: "statefulset".into(),
        namespace: "default".into(),
        started: jiff::Timestamp::now(),
        step: 0,
        done: Default::default(),
    };
    let state = tempfile::tempdir().unwrap();
    let rec = Recorder::create(state.path(), &header).unwrap();
    let path = rec.path().unwrap().to_path_buf();
    h.runtime.recorder = Some(std::sync::Mutex::new(rec));
    h.fill_step0("web");
    h.ctrl('s');
    h.until(20, "step 0 to pass", |a| a.done.contains(&0)).await;
    assert_eq!(record::latest(state.path(), "statefulset").unwrap(), path);
    let lesson = kubetutor::lesson::load::find("statefulset").unwrap();
    let replay = Replay::open(&path, Some(&lesson)).unwrap();
    let lines: Vec<&str> = replay.events.iter().map(|e| e.describe.as_str()).collect();
    let applied = replay.events.iter().find_map(|e| match &e.step {
        record::replay::Step::Other(record::Record::Apply { yaml, ok: true, .. }) => Some(yaml.clone()),
        _ => None,
    });
    assert!(applied.is_some_and(|y| y.contains("clusterIP: None") && y.contains("targetPort: web")), "{lines:#?}");
    assert!(lines.contains(&"service nginx"), "{lines:#?}");
    assert!(lines.contains(&"step 0 passed: A headless Service"), "{lines:#?}");
    let end = replay.state_at(replay.len());
    assert!(end.snapshot.services.contains_key("nginx"));
    assert!(end.done.contains(&0));
    assert!(end.reports[&0].checks.iter().all(|c| c.outcome.is_pass()));
}

#[test]
fn review_offers_the_recap_quiz_and_keeps_the_answers() {
    crate::tui_loop::private_state_dir();
    let (mut review, _dir) = reviewed();
    assert!(screen(&review, 120, 40).contains("Q quiz"));
    review.key(key(KeyCode::Char('Q')));
    let quiz = review.app.quiz.clone().expect("Q opens the quiz");
    assert_eq!(quiz.items.len(), review.app.lesson.steps.iter().map(|s| s.quiz.len()).sum::<usize>());
    let s = screen(&review, 120, 40);
    assert!(s.contains("Recap quiz · question 1/12 · step 0: A headless Service"), "{s}");
    // The right answer, by its digit: kept in the reviewer's progress.
    let right = review.app.lesson.steps[0].quiz[0].answer;
    review.key(key(KeyCode::Char(char::from(b'1' + right as u8))));
    let s = screen(&review, 120, 40);
    assert!(s.contains("✓ Right."), "{s}");
    let progress = kubetutor::lesson::progress::Progress::load("statefulset").unwrap();
    let kept = progress.quiz_answer(&review.app.lesson, 0, 0).expect("the answer is kept");
    assert_eq!((kept.chosen, kept.correct), (right, true));
    // Time does not move while the quiz is open; Esc closes it and the review keys work again.
    let at = review.position();
    review.key(key(KeyCode::Right));
    assert_eq!(review.position(), at);
    review.key(key(KeyCode::Esc));
    assert!(review.app.quiz.is_none());
    review.key(key(KeyCode::Right));
    assert_eq!(review.position(), at + 1);
}
