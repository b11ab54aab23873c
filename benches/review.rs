//! The review benchmark (`cargo bench --bench review`): a session record of 10,000 events (a
//! 30-replica StatefulSet whose pods are created, become Ready, are deleted and come back, with
//! their claims and Kubernetes Events, every object whole as the API returns it) is written to
//! a file; measured are opening it (read, decode, replay, first state on screen) and moving one
//! event (forward and back, drawing the 120x40 frame each time), and a jump across the record.
//! Prints a Markdown table for README.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

use kubetutor::app::review::Review;
use kubetutor::record::{self, Header, Record};
use kubetutor::ui::theme::Theme;

const EVENTS: usize = 10_000;
const REPLICAS: usize = 30;

fn ts(secs: usize) -> String {
    jiff::Timestamp::from_second(1_767_225_600 + secs as i64).unwrap().to_string()
}

fn pod(n: usize, generation: usize, ready: bool, rv: usize, at: usize) -> serde_json::Value {
    let name = format!("web-{n}");
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{n}-{generation}"),
            "resourceVersion": rv.to_string(), "creationTimestamp": ts(at),
            "labels": {"app": "nginx", "controller-revision-hash": "web-6fb6c746c4",
                "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": n.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "sts-web",
                "controller": true, "blockOwnerDeletion": true}]},
        "spec": {
            "hostname": name, "subdomain": "nginx", "nodeName": "sandbox", "restartPolicy": "Always",
            "initContainers": [{"name": "setup", "image": "alpine:3.8",
                "command": ["/bin/sh", "-c", "echo $(hostname) >> /work-dir/index.html"],
                "volumeMounts": [{"name": "www", "mountPath": "/work-dir"}]}],
            "containers": [{"name": "nginx", "image": "nginx:mainline",
                "ports": [{"containerPort": 80, "name": "web", "protocol": "TCP"}],
                "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"},
                    {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}]}],
            "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": format!("www-{name}")}},
                {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}]}}]
        },
        "status": {"phase": if ready {"Running"} else {"Pending"}, "podIP": format!("10.244.0.{}", n + 10),
            "hostIP": "10.0.0.1", "startTime": ts(at), "qosClass": "BestEffort",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(at)},
                {"type": "Initialized", "status": "True", "lastTransitionTime": ts(at)},
                {"type": "ContainersReady", "status": if ready {"True"} else {"False"}, "lastTransitionTime": ts(at + 1)},
                {"type": "Ready", "status": if ready {"True"} else {"False"}, "lastTransitionTime": ts(at + 1)}],
            "initContainerStatuses": [{"name": "setup", "image": "alpine:3.8", "imageID": "docker.io/library/alpine@sha256:1", "ready": true,
                "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ts(at), "finishedAt": ts(at)}}}],
            "containerStatuses": [{"name": "nginx", "image": "nginx:mainline", "imageID": "docker.io/library/nginx@sha256:2",
                "ready": ready, "started": ready, "restartCount": 0,
                "state": if ready { json!({"running": {"startedAt": ts(at + 1)}}) } else { json!({"waiting": {"reason": "ContainerCreating"}}) }}]}
    })
}

fn event(i: usize, n: usize, reason: &str, at: usize) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("web.{i:08x}"), "namespace": "default", "uid": format!("ev-{i}"), "resourceVersion": i.to_string()},
        "involvedObject": {"kind": "StatefulSet", "name": "web", "namespace": "default", "uid": "sts-web"},
        "reason": reason, "message": format!("{reason} Pod web-{n} in StatefulSet web successful"),
        "type": "Normal", "count": 1, "firstTimestamp": ts(at), "lastTimestamp": ts(at),
        "source": {"component": "statefulset-controller"}})
}

/// A record of exactly `EVENTS` events.
fn session() -> String {
    let header = Header {
        format: record::FORMAT.into(),
        version: record::VERSION,
        lesson: "statefulset".into(),
        namespace: "default".into(),
        started: jiff::Timestamp::from_second(1_767_225_600).unwrap(),
        step: 4,
        done: (0..4).collect(),
    };
    let at = |s: usize| ts(s).parse::<jiff::Timestamp>().unwrap();
    let mut records = Vec::with_capacity(EVENTS);
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "sts-web", "resourceVersion": "1", "creationTimestamp": ts(0)},
        "spec": {"replicas": REPLICAS, "serviceName": "nginx", "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:mainline"}]}}},
        "status": {"replicas": REPLICAS, "readyReplicas": REPLICAS, "currentRevision": "web-6fb6c746c4", "updateRevision": "web-6fb6c746c4"}});
    records.push(Record::Put { at: at(0), object: sts });
    for n in 0..REPLICAS {
        let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": format!("www-web-{n}"), "namespace": "default", "uid": format!("pvc-{n}"), "resourceVersion": "2"},
            "spec": {"volumeName": format!("pvc-{n:08}"), "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}});
        records.push(Record::Put { at: at(0), object: claim });
    }
    let (mut i, mut generation) = (0, 0);
    while records.len() < EVENTS {
        let n = i % REPLICAS;
        if n == 0 {
            generation += 1;
        }
        let secs = i;
        let rv = records.len();
        match i % 4 {
            0 => records.push(Record::Put { at: at(secs), object: event(rv, n, "SuccessfulCreate", secs) }),
            1 => records.push(Record::Put { at: at(secs), object: pod(n, generation, false, rv, secs) }),
            2 => records.push(Record::Put { at: at(secs), object: pod(n, generation, true, rv, secs) }),
            _ => records.push(Record::Delete { at: at(secs), kind: record::Kind::Pod, name: format!("web-{n}") }),
        }
        i += 1;
    }
    records.truncate(EVENTS);
    record::to_text(&header, &records)
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("session.jsonl");
    let text = session();
    std::fs::write(&path, &text).unwrap();
    let lesson = Arc::new(kubetutor::lesson::load::find("statefulset").unwrap());
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();

    // Opening: read, decode and replay the file, put the first state on screen, draw it.
    let mut opens = Vec::new();
    let mut review = None;
    for _ in 0..5 {
        let t = Instant::now();
        let replay = record::Replay::open(&path, Some(&lesson)).unwrap();
        let r = Review::new(replay, lesson.clone(), Theme::dark(), &path);
        terminal.draw(|f| kubetutor::ui::review::draw(f, &r)).unwrap();
        opens.push(t.elapsed());
        review = Some(r);
    }
    let mut review = review.unwrap();
    assert_eq!(review.replay.len(), EVENTS);

    // Moving one event, then drawing the frame (what a key press costs), through the whole record.
    let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
    let mut forward = Vec::new();
    for _ in 0..EVENTS {
        let t = Instant::now();
        review.key(key(KeyCode::Right));
        terminal.draw(|f| kubetutor::ui::review::draw(f, &review)).unwrap();
        forward.push(t.elapsed());
    }
    assert_eq!(review.position(), EVENTS);
    let mut back = Vec::new();
    for _ in 0..2_000 {
        let t = Instant::now();
        review.key(key(KeyCode::Left));
        terminal.draw(|f| kubetutor::ui::review::draw(f, &review)).unwrap();
        back.push(t.elapsed());
    }
    let mut jumps = Vec::new();
    for _ in 0..20 {
        for k in [KeyCode::Home, KeyCode::End] {
            let t = Instant::now();
            review.key(key(k));
            terminal.draw(|f| kubetutor::ui::review::draw(f, &review)).unwrap();
            jumps.push(t.elapsed());
        }
    }

    let mb = text.len() as f64 / (1024.0 * 1024.0);
    println!("| measurement | target | result |");
    println!("| --- | --- | --- |");
    println!(
        "| open a record of {EVENTS} events ({mb:.1} MiB): read, decode, replay, first frame; median / max of 5 | < 200 ms | {} / {} |",
        ms(percentile(&mut opens.clone(), 0.5)),
        ms(*opens.iter().max().unwrap())
    );
    println!(
        "| one event forward + frame (120x40), p50 / p99 / max of {EVENTS} | < 16 ms | {} / {} / {} |",
        ms(percentile(&mut forward, 0.5)),
        ms(percentile(&mut forward, 0.99)),
        ms(*forward.iter().max().unwrap())
    );
    println!(
        "| one event back + frame, p50 / p99 / max of 2,000 | < 16 ms | {} / {} / {} |",
        ms(percentile(&mut back, 0.5)),
        ms(percentile(&mut back, 0.99)),
        ms(*back.iter().max().unwrap())
    );
    println!(
        "| jump first ↔ last event + frame, p50 / max of 40 | | {} / {} |",
        ms(percentile(&mut jumps, 0.5)),
        ms(*jumps.iter().max().unwrap())
    );
}
