//! A small lesson and cluster state built in code for the tutor screen tests, with a fixed
//! clock so ages and highlights render the same every run.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use kubetutor::app::{App, ClusterInfo};
use kubetutor::cluster::history::{Entry, EntryKind};
use kubetutor::cluster::Snapshot;
use kubetutor::grade::CheckSpec;
use kubetutor::lesson::model::{Blank, Lesson, Starter, Step};
use kubetutor::lesson::quiz::Question;
use kubetutor::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

pub(crate) const SERVICE_STARTER: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  clusterIP: ???
  selector:
    app: nginx
  ports:
  - port: 80
    name: ???
";

pub(crate) fn now() -> jiff::Timestamp {
    "2026-01-01T00:05:00Z".parse().unwrap()
}

pub(crate) fn lesson() -> Lesson {
    let check = |name: &str, kind: &str| CheckSpec { name: name.into(), kind: kind.into(), params: json!({}) };
    Lesson {
        slug: "statefulset".into(),
        title: "StatefulSets".into(),
        summary: "Run nginx as a StatefulSet".into(),
        steps: vec![
            Step {
                id: "headless-service".into(),
                title: "A headless Service".into(),
                text: "A **headless** Service has no cluster IP: `clusterIP: None`.\n\n\
                       - name the port `web`\n- select `app: nginx`\n\n```yaml\nclusterIP: None\n```\n"
                    .into(),
                starter: Some(Starter {
                    file_name: "service.yaml".into(),
                    text: SERVICE_STARTER.into(),
                    blanks: vec![
                        Blank {
                            label: "cluster IP".into(),
                            hints: vec!["None makes it headless".into()],
                            agrees_with: None,
                            fills: vec![],
                        },
                        Blank {
                            label: "port name".into(),
                            hints: vec!["the pods refer to it".into()],
                            agrees_with: None,
                            fills: vec![],
                        },
                    ],
                    objects: vec!["Service/nginx".into()],
                }),
                hints: vec!["Headless means the Service has no virtual IP.".into()],
                checks: vec![check("headless Service nginx", "headless_service")],
                solution: vec![SERVICE_STARTER
                    .replace("clusterIP: ???", "clusterIP: None")
                    .replace("name: ???", "name: web")],
                solution_actions: vec![],
                solution_files: vec![],
                quiz: vec![
                    Question {
                        question: "What makes a Service headless?".into(),
                        choices: vec![
                            "`type: NodePort`".into(),
                            "`clusterIP: None`".into(),
                            "It has no selector".into(),
                        ],
                        answer: 1,
                        explain: "A headless Service has `clusterIP: None`: no virtual IP; DNS answers with the pods."
                            .into(),
                    },
                    Question {
                        question: "Which name reaches the pod web-0?".into(),
                        choices: vec!["`web-0.nginx`".into(), "`nginx-0`".into()],
                        answer: 0,
                        explain: "A StatefulSet's pod is `<pod>.<serviceName>`.".into(),
                    },
                ],
            },
            Step {
                id: "statefulset".into(),
                title: "The StatefulSet".into(),
                text: "Fill in the blanks of the *StatefulSet* and apply it.".into(),
                starter: Some(Starter {
                    file_name: "web.yaml".into(),
                    text: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  serviceName: ???\n"
                        .into(),
                    blanks: vec![Blank::default()],
                    objects: vec!["StatefulSet/web".into()],
                }),
                hints: vec![],
                checks: vec![check("StatefulSet web", "statefulset_spec"), check("pods in order", "ordered_creation")],
                solution: vec![],
                solution_actions: vec![],
                solution_files: vec![],
                quiz: vec![],
            },
            Step {
                id: "scale".into(),
                title: "Scale up".into(),
                text: "Run `scale sts web --replicas=3` on the command line.".into(),
                starter: None,
                hints: vec![],
                checks: vec![check("three replicas", "replicas")],
                solution: vec![],
                solution_actions: vec!["scale sts web --replicas=3".into()],
                solution_files: vec![],
                quiz: vec![],
            },
        ],
        recap: String::new(),
        links: vec![],
        dir: "lessons/statefulset".into(),
        names: Default::default(),
    }
}

pub(crate) fn app(state_dir: &Path, theme: Theme) -> App {
    let cluster = ClusterInfo {
        describe: "sandbox (simulated pods, DNS, HTTP) · ns default".into(),
        namespace: "default".into(),
        kubectl_hint: Some("export KUBECONFIG=/state/sandbox.kubeconfig".into()),
        sandbox: true,
    };
    let mut app = App::new(Arc::new(lesson()), 0, BTreeSet::new(), cluster, theme, state_dir.to_path_buf());
    app.now = now();
    app
}

pub(crate) fn pod(name: &str, ready: bool, created: &str) -> k8s_openapi::api::core::v1::Pod {
    let state = if ready { json!({"running": {}}) } else { json!({"waiting": {"reason": "PodInitializing"}}) };
    serde_json::from_value(json!({
        "metadata": {"name": name, "uid": name, "creationTimestamp": created,
            "labels": {"controller-revision-hash": "web-6d5f8c7b9"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "s1"}]},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:mainline"}]},
        "status": {"phase": if ready {"Running"} else {"Pending"},
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
            "containerStatuses": [{"name": "nginx", "image": "nginx:mainline", "imageID": "", "ready": ready,
                "restartCount": 0, "state": state}]}
    }))
    .unwrap()
}

/// Two pods (web-0 Ready, web-1 starting), the StatefulSet, one bound PVC and a timeline.
pub(crate) fn cluster_state() -> (Snapshot, Vec<Entry>) {
    let mut snap = Snapshot::default();
    snap.pods.insert("web-0".into(), pod("web-0", true, "2026-01-01T00:03:00Z"));
    snap.pods.insert("web-1".into(), pod("web-1", false, "2026-01-01T00:04:40Z"));
    let sts = serde_json::from_value(json!({
        "metadata": {"name": "web", "uid": "s1"},
        "spec": {"replicas": 3, "serviceName": "nginx", "selector": {"matchLabels": {"app": "nginx"}}, "template": {}},
        "status": {"replicas": 2, "readyReplicas": 1, "currentRevision": "web-6d5f8c7b9", "updateRevision": "web-6d5f8c7b9"}
    }))
    .unwrap();
    snap.statefulsets.insert("web".into(), sts);
    let pvc = serde_json::from_value(json!({
        "metadata": {"name": "www-web-0"},
        "spec": {"volumeName": "pvc-3f2a", "accessModes": ["ReadWriteOnce"]},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    }))
    .unwrap();
    snap.pvcs.insert("www-web-0".into(), pvc);
    let at = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
    let entry = |seq, t: &str, name: &str, kind| Entry {
        seq,
        at: at(t),
        kind_of_object: if name == "web" { "StatefulSet" } else { "Pod" },
        name: name.into(),
        uid: name.into(),
        kind,
    };
    let entries = vec![
        entry(0, "2026-01-01T00:03:00Z", "web", EntryKind::SetCreated { replicas: 3 }),
        entry(
            1,
            "2026-01-01T00:03:00Z",
            "web-0",
            EntryKind::PodCreated { revision: None, image: Some("nginx:mainline".into()) },
        ),
        entry(2, "2026-01-01T00:04:30Z", "web-0", EntryKind::PodReady),
        entry(
            3,
            "2026-01-01T00:04:40Z",
            "web-1",
            EntryKind::PodCreated { revision: None, image: Some("nginx:mainline".into()) },
        ),
    ];
    (snap, entries)
}

/// Render the app on a `width`x`height` TestBackend and return the screen as text.
pub(crate) fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| kubetutor::ui::draw(f, app)).unwrap();
    buffer_text(terminal.backend().buffer())
}

pub(crate) fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Do what `update` asked that a test without a run loop must do itself: read the drafts it
/// asked for and hand them back (as the runtime does); returns every effect, those included.
pub(crate) fn settle(app: &mut App, fx: Vec<kubetutor::app::Effect>) -> Vec<kubetutor::app::Effect> {
    use kubetutor::app::{drafts, update, Effect, Event};
    let mut all = Vec::new();
    let mut todo = fx;
    while !todo.is_empty() {
        let mut next = Vec::new();
        for effect in todo {
            if let Effect::LoadDraft { index, path } = &effect {
                next.extend(update(app, Event::DraftLoaded { index: *index, loaded: drafts::read(path) }));
            }
            all.push(effect);
        }
        todo = next;
    }
    all
}
