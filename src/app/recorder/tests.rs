//! The record format: what the recorder writes reads back; files that are not records, are
//! newer, or are damaged are refused naming the file and line; the size cap holds.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::cluster::Snapshot;
use crate::record::*;

fn header() -> Header {
    Header {
        format: FORMAT.into(),
        version: VERSION,
        lesson: "statefulset".into(),
        namespace: "default".into(),
        started: "2026-01-01T00:00:00Z".parse().unwrap(),
        step: 0,
        done: Default::default(),
    }
}

fn t(s: u32) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_767_225_600 + i64::from(s)).unwrap()
}

fn pod(name: &str, rv: &str, ready: bool) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": rv,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}]},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:mainline"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
    }))
    .unwrap()
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("r.jsonl");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn snapshot_changes_become_puts_and_deletes_without_managed_fields() {
    let mut a = Snapshot::default();
    a.pods.insert("web-0".into(), pod("web-0", "1", false));
    let mut b = a.clone();
    b.pods.insert("web-0".into(), pod("web-0", "2", true));
    b.pods.insert("web-1".into(), pod("web-1", "3", false));
    let records = diff(t(1), &a, &b);
    assert_eq!(records.len(), 2, "{records:?}");
    let Record::Put { object, .. } = &records[0] else { panic!("{records:?}") };
    assert_eq!(object["kind"], "Pod");
    assert_eq!(object["metadata"]["resourceVersion"], "2");
    assert!(object["metadata"].get("managedFields").is_none());
    // Nothing changed: nothing recorded.
    assert!(diff(t(2), &b, &b).is_empty());
    let gone = diff(t(3), &b, &a);
    assert_eq!(
        gone.iter().filter(|r| matches!(r, Record::Delete { kind: Kind::Pod, name, .. } if name == "web-1")).count(),
        1
    );
}

#[test]
fn recorded_session_replays_pods_timeline_and_steps() {
    let mut rec = Recorder::in_memory(&header());
    let mut s1 = Snapshot::default();
    s1.pods.insert("web-0".into(), pod("web-0", "1", false));
    let mut s2 = s1.clone();
    s2.pods.insert("web-0".into(), pod("web-0", "2", true));
    for (i, s) in [s1, s2].into_iter().enumerate() {
        let ev = Event::Cluster(ClusterEvent::Changed { snapshot: Arc::new(s), new_entries: vec![] });
        assert!(rec.before(t(i as u32 + 1), &ev).is_none());
    }
    rec.push(Record::Passed { at: t(5), step: 0 });
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &rec.text());
    let replay = Replay::open(&path, None).unwrap();
    assert_eq!(replay.header, header());
    assert_eq!(replay.len(), 3);
    let lines: Vec<&str> = replay.events.iter().map(|e| e.describe.as_str()).collect();
    assert_eq!(lines, ["created web-0 (nginx:mainline)", "web-0 Ready", "step 0 passed: "]);
    let one = replay.state_at(1);
    assert!(!crate::cluster::snapshot::is_ready(&one.snapshot.pods["web-0"]));
    assert_eq!(one.timeline, 1);
    let end = replay.state_at(3);
    assert!(crate::cluster::snapshot::is_ready(&end.snapshot.pods["web-0"]));
    assert!(end.done.contains(&0));
    assert_eq!(replay.find("WEB-0 ready", 0, true), Some(1));
    assert_eq!(replay.find("web-9", 0, true), None);
}

#[test]
fn a_file_that_is_not_a_record_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "apiVersion: v1\nkind: Pod\n");
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.starts_with(&format!("{}:1: not a kubetutor session record", path.display())), "{err}");
    let path = write(dir.path(), "{\"type\":\"header\",\"format\":\"other\"}\n");
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.contains(":1: not a kubetutor session record"), "{err}");
    let path = write(dir.path(), "");
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.contains("empty file"), "{err}");
}

#[test]
fn a_newer_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = serde_json::to_value(header()).unwrap();
    h["type"] = "header".into();
    h["version"] = (VERSION + 1).into();
    let path = write(dir.path(), &format!("{h}\n"));
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.contains(&format!(":1: record format version {} is newer", VERSION + 1)), "{err}");
}

#[test]
fn a_damaged_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let good = to_text(&header(), &[Record::Step { at: t(1), step: 1 }]);
    let path = write(dir.path(), &format!("{good}{{\"type\":\"step\",\"at\":\"yesterday\"}}\n"));
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.starts_with(&format!("{}:3: bad event", path.display())), "{err}");
    let foreign = json!({"type": "put", "at": "2026-01-01T00:00:00Z", "object": {"kind": "Secret"}});
    let path = write(dir.path(), &format!("{good}{foreign}\n"));
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.contains(":3: object of kind Secret"), "{err}");
    let cut = json!({"type": "put", "at": "2026-01-01T00:00:00Z"}).to_string();
    let path = write(dir.path(), &format!("{good}{}\n", &cut[..20]));
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.contains(":3: not JSON"), "{err}");
}

#[test]
fn of_two_damaged_lines_far_apart_the_first_is_named_and_blank_lines_count() {
    // Lines are decoded in parts on several threads: the error is still the first in the file.
    let steps: Vec<Record> = (0..2000).map(|i| Record::Step { at: t(1), step: i % 3 }).collect();
    let good = to_text(&header(), &steps);
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    lines.insert(5, String::new());
    lines[1500] = "{\"type\":\"step\"}".into();
    lines[1900] = "not json".into();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &(lines.join("\n") + "\n"));
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.starts_with(&format!("{}:1501: bad event", path.display())), "{err}");
    lines[1500] = lines[1499].clone();
    let path = write(dir.path(), &(lines.join("\n") + "\n"));
    let err = Replay::open(&path, None).err().unwrap().to_string();
    assert!(err.contains(":1901: not JSON"), "{err}");
    lines[1900] = lines[1499].clone();
    let path = write(dir.path(), &(lines.join("\n") + "\n"));
    assert_eq!(Replay::open(&path, None).unwrap().len(), 2000);
}

#[test]
fn the_record_stops_at_its_cap_and_says_so() {
    let mut rec = Recorder::in_memory(&header());
    rec.set_cap(2_000);
    let mut notices = Vec::new();
    for i in 0..100 {
        let r =
            Record::Command { at: t(i), step: 0, line: "$ kubectl get pods".into(), ok: true, output: "x".repeat(50) };
        notices.extend(rec.push(r));
    }
    assert!(rec.is_full());
    assert_eq!(notices.len(), 1, "one notice: {notices:?}");
    assert!(notices[0].contains("reached its cap"));
    let text = rec.text();
    assert!(text.len() <= 2_000, "{} bytes", text.len());
    let last = text.lines().last().unwrap();
    assert!(last.contains("\"type\":\"truncated\""), "{last}");
    let dir = tempfile::tempdir().unwrap();
    let replay = Replay::open(&write(dir.path(), &text), None).unwrap();
    assert!(replay.events.last().unwrap().describe.starts_with("the record stops here"));
}

#[test]
fn sessions_are_kept_bounded_and_the_newest_is_found() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..(KEEP_SESSIONS + 3) {
        let mut h = header();
        h.started = t(i as u32 * 60);
        let r = Recorder::create(dir.path(), &h).unwrap();
        drop(r);
    }
    let files = std::fs::read_dir(sessions_dir(dir.path(), "statefulset")).unwrap().count();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let newest = latest(dir.path(), "statefulset").unwrap();
        assert_eq!(std::fs::metadata(newest).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(files, KEEP_SESSIONS);
    let newest = latest(dir.path(), "statefulset").unwrap();
    assert_eq!(read_header(&newest).unwrap().started, t((KEEP_SESSIONS as u32 + 2) * 60));
    let err = latest(dir.path(), "other").err().unwrap().to_string();
    assert!(err.contains("no session record of lesson other"), "{err}");
    let out = dir.path().join("export.jsonl");
    assert_eq!(export(&newest, &out).unwrap(), 0);
    assert_eq!(read_header(&out).unwrap().started, t((KEEP_SESSIONS as u32 + 2) * 60));
}

#[test]
fn an_event_naming_another_kind_first_is_still_an_event() {
    // Sorted keys put involvedObject (kind StatefulSet) before the Event's own kind.
    let ev = json!({"apiVersion": "v1", "kind": "Event", "count": 1,
        "metadata": {"name": "web.1", "uid": "e1", "resourceVersion": "1"},
        "involvedObject": {"kind": "StatefulSet", "name": "web"},
        "reason": "SuccessfulCreate", "message": "create Pod web-1 in StatefulSet web successful"});
    let owned = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "uid": "p1", "resourceVersion": "2",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "s"}]}});
    let text = to_text(&header(), &[Record::Put { at: t(1), object: ev }, Record::Put { at: t(2), object: owned }]);
    assert!(text.lines().nth(1).unwrap().find("StatefulSet") < text.lines().nth(1).unwrap().find("\"Event\""));
    let dir = tempfile::tempdir().unwrap();
    let replay = Replay::open(&write(dir.path(), &text), None).unwrap();
    assert!(matches!(replay.events[0].step, replay::Step::Put(replay::Object::Event(_))));
    assert_eq!(replay.events[0].describe, "SuccessfulCreate web: create Pod web-1 in StatefulSet web successful");
    assert!(matches!(replay.events[1].step, replay::Step::Put(replay::Object::Pod(_))));
    let end = replay.state_at(2);
    assert_eq!(end.snapshot.events.len(), 1);
    assert!(end.snapshot.statefulsets.is_empty());
}
