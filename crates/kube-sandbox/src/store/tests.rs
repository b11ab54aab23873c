//! Store semantics: versions, conflicts, graceful deletion, finalizers, history bounds.

use serde_json::json;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::*;
use crate::resources::kinds;

fn store() -> Store {
    let s = Store::new(Clock::new(1.0));
    s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
    s
}

fn sts(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": name, "namespace": "default"},
           "spec": {"replicas": 2}})
}

#[tokio::test]
async fn create_sets_system_metadata() {
    let s = store();
    let o = s.create(kinds::statefulsets(), sts("web"), false).unwrap();
    assert_eq!(o["metadata"]["generation"], 1);
    assert_eq!(uid_of(&o).len(), 36);
    assert!(!rv_of(&o).is_empty());
    let e = s.create(kinds::statefulsets(), sts("web"), false).unwrap_err();
    assert_eq!(e.code, 409);
    assert_eq!(e.reason, "AlreadyExists");
}

#[tokio::test]
async fn create_in_missing_namespace_is_not_found() {
    let s = store();
    let mut o = sts("web");
    o["metadata"]["namespace"] = json!("nope");
    let e = s.create(kinds::statefulsets(), o, false).unwrap_err();
    assert_eq!(e.message, "namespaces \"nope\" not found");
}

#[tokio::test]
async fn generation_bumps_on_spec_only_and_stale_update_conflicts() {
    let s = store();
    let o = s.create(kinds::statefulsets(), sts("web"), false).unwrap();
    let mut labelled = (*o).clone();
    labelled["metadata"]["labels"] = json!({"a": "b"});
    let o2 = s.update(kinds::statefulsets(), labelled, UpdateScope::Main, false).unwrap();
    assert_eq!(o2["metadata"]["generation"], 1);
    let mut scaled = (*o2).clone();
    scaled["spec"]["replicas"] = json!(3);
    let o3 = s.update(kinds::statefulsets(), scaled, UpdateScope::Main, false).unwrap();
    assert_eq!(o3["metadata"]["generation"], 2);
    // Writing from the first version again is stale.
    let e = s.update(kinds::statefulsets(), (*o).clone(), UpdateScope::Main, false).unwrap_err();
    assert_eq!(e.code, 409);
    assert_eq!(e.reason, "Conflict");
    // A no-op update keeps the resourceVersion.
    let same = s.update(kinds::statefulsets(), (*o3).clone(), UpdateScope::Main, false).unwrap();
    assert_eq!(rv_of(&same), rv_of(&o3));
}

#[tokio::test]
async fn status_scope_only_touches_status() {
    let s = store();
    let o = s.create(kinds::statefulsets(), sts("web"), false).unwrap();
    let mut w = (*o).clone();
    w["spec"]["replicas"] = json!(9);
    w["status"] = json!({"replicas": 1});
    let o2 = s.update(kinds::statefulsets(), w.clone(), UpdateScope::Status, false).unwrap();
    assert_eq!(o2["spec"]["replicas"], 2);
    assert_eq!(o2["status"]["replicas"], 1);
    w["metadata"]["resourceVersion"] = json!("");
    w["status"] = json!({"replicas": 5});
    let o3 = s.update(kinds::statefulsets(), w, UpdateScope::Main, false).unwrap();
    assert_eq!(o3["spec"]["replicas"], 9);
    assert_eq!(o3["status"]["replicas"], 1);
}

#[tokio::test]
async fn bound_pods_delete_gracefully() {
    let s = store();
    let pod = json!({"metadata": {"name": "p", "namespace": "default"},
                     "spec": {"nodeName": "n", "containers": []}});
    s.create(kinds::pods(), pod, false).unwrap();
    let (o, gone) = s.delete(kinds::pods(), "default", "p", &DeleteOpts::default()).unwrap();
    assert!(!gone);
    assert_eq!(o["metadata"]["deletionGracePeriodSeconds"], 30);
    let now = DeleteOpts { grace_period_seconds: Some(0), ..Default::default() };
    let (_, gone) = s.delete(kinds::pods(), "default", "p", &now).unwrap();
    assert!(gone);
    assert!(s.get(kinds::pods(), "default", "p").is_none());
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let s = store();
    let mut o = sts("web");
    o["metadata"]["finalizers"] = json!(["x/y"]);
    s.create(kinds::statefulsets(), o, false).unwrap();
    let (o, gone) = s.delete(kinds::statefulsets(), "default", "web", &DeleteOpts::default()).unwrap();
    assert!(!gone);
    let mut cleared = (*o).clone();
    cleared["metadata"]["finalizers"] = json!([]);
    s.update(kinds::statefulsets(), cleared, UpdateScope::Main, false).unwrap();
    assert!(s.get(kinds::statefulsets(), "default", "web").is_none());
}

#[tokio::test]
async fn watch_resumes_from_history_and_reports_compaction() {
    let s = Store::with_history(Clock::new(1.0), 3);
    s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
    let start = s.current_rv();
    for i in 0..5 {
        s.create(kinds::configmaps(), json!({"metadata": {"name": format!("c{i}"), "namespace": "default"}}), false)
            .unwrap();
    }
    let mut sub = s.watch_from(Some(s.current_rv() - 2)).unwrap();
    assert_eq!(sub.try_recv().unwrap().name(), "c3");
    assert_eq!(sub.try_recv().unwrap().name(), "c4");
    assert!(matches!(sub.try_recv(), Err(TryRecvError::Empty)));
    let oldest = s.watch_from(Some(start)).unwrap_err();
    assert!(oldest > start);
}

#[tokio::test]
async fn a_subscription_that_falls_out_of_the_history_lags_once_then_continues() {
    let s = Store::with_history(Clock::new(1.0), 3);
    s.create(kinds::namespaces(), json!({"metadata": {"name": "default"}}), false).unwrap();
    let mut sub = s.subscribe();
    for i in 0..5 {
        s.create(kinds::configmaps(), json!({"metadata": {"name": format!("c{i}"), "namespace": "default"}}), false)
            .unwrap();
    }
    assert!(matches!(sub.recv().await, Err(RecvError::Lagged(2))));
    let names: Vec<String> = (0..3).map(|_| sub.try_recv().unwrap().name().to_string()).collect();
    assert_eq!(names, ["c2", "c3", "c4"]);
    // A change made while it waits wakes it.
    let writer = s.clone();
    let wait = tokio::spawn(async move { sub.recv().await.map(|c| c.name().to_string()) });
    tokio::task::yield_now().await;
    writer.create(kinds::configmaps(), json!({"metadata": {"name": "late", "namespace": "default"}}), false).unwrap();
    assert_eq!(wait.await.unwrap().unwrap(), "late");
}

#[tokio::test]
async fn subscriptions_close_when_the_store_goes() {
    let s = store();
    let mut sub = s.subscribe();
    let wait = tokio::spawn(async move { sub.recv().await.is_err() });
    tokio::task::yield_now().await;
    drop(s);
    assert!(wait.await.unwrap());
}

#[tokio::test]
async fn the_history_is_bounded_by_bytes_and_shares_current_versions() {
    let s = store();
    s.lock().history_bytes_limit = 10_000;
    let big = "x".repeat(1_000);
    for i in 0..30 {
        s.create(
            kinds::configmaps(),
            json!({"metadata": {"name": format!("c{i}"), "namespace": "default"}, "data": {"k": big}}),
            false,
        )
        .unwrap();
    }
    let st = s.lock();
    assert!(st.history_bytes <= 10_000 && st.history.len() < 30, "{} bytes", st.history_bytes);
    assert_eq!(st.history_bytes, st.history.iter().map(|c| c.object.json().len()).sum::<usize>());
    let newest = st.history.back().unwrap();
    assert!(newest.object.same(&st.tables[kinds::configmaps().storage][&("default".into(), "c29".into())]));
    assert!(st.compacted_rv > 1);
}

#[tokio::test]
async fn generate_name_and_dry_run() {
    let s = store();
    let o = s
        .create(kinds::configmaps(), json!({"metadata": {"generateName": "probe-", "namespace": "default"}}), true)
        .unwrap();
    assert!(name_of(&o).starts_with("probe-"));
    assert_eq!(name_of(&o).len(), "probe-".len() + 5);
    assert!(s.list(kinds::configmaps(), Some("default")).0.is_empty());
}

fn cm(ns: &str, name: &str, data: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {"k": data}})
}

#[tokio::test]
async fn a_namespace_with_a_quota_takes_no_more_objects_or_bytes_than_it_allows() {
    let s = store();
    s.create(kinds::namespaces(), json!({"metadata": {"name": "attendee-01"}}), false).unwrap();
    s.create(kinds::configmaps(), cm("attendee-01", "before", "x"), false).unwrap();
    s.set_quota("attendee-01", Quota { objects: 3, bytes: 4000 });
    s.create(kinds::configmaps(), cm("attendee-01", "a", "x"), false).unwrap();
    s.create(kinds::configmaps(), cm("attendee-01", "b", "x"), false).unwrap();
    // The object that was there before the quota counts: this is the fourth.
    let e = s.create(kinds::configmaps(), cm("attendee-01", "c", "x"), false).unwrap_err();
    assert_eq!((e.code, e.reason), (403, "Forbidden"));
    assert!(
        e.message.starts_with(
            "configmaps \"c\" is forbidden: exceeded quota: kubetutor-attendee, requested: count/objects=1, used: \
             count/objects=3, limited: count/objects=3"
        ),
        "{}",
        e.message
    );
    let dry = s.create(kinds::configmaps(), cm("attendee-01", "c", "x"), true).unwrap_err();
    assert_eq!(dry.code, 403, "a dry run is refused as the create would be");
    // Other namespaces have no quota.
    for i in 0..10 {
        s.create(kinds::configmaps(), cm("default", &format!("cm-{i}"), "x"), false).unwrap();
    }
    // A delete frees a place.
    s.delete(kinds::configmaps(), "attendee-01", "a", &DeleteOpts::default()).unwrap();
    s.create(kinds::configmaps(), cm("attendee-01", "c", "x"), false).unwrap();
    // Growing an object past the bytes is refused, by update and by modify; shrinking passes.
    let big = "y".repeat(4000);
    let e = s.update(kinds::configmaps(), cm("attendee-01", "b", &big), UpdateScope::Main, false).unwrap_err();
    assert_eq!(e.code, 403);
    assert!(e.message.contains("requested: sandbox.kubetutor.dev/object-bytes="), "{}", e.message);
    let e = s
        .modify(kinds::configmaps(), "attendee-01", "b", None, |o, _| {
            o["data"]["k"] = json!(big);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(e.code, 403);
    assert_eq!(s.get(kinds::configmaps(), "attendee-01", "b").unwrap()["data"]["k"], "x");
    s.update(kinds::configmaps(), cm("attendee-01", "b", &"y".repeat(1000)), UpdateScope::Main, false).unwrap();
    s.update(kinds::configmaps(), cm("attendee-01", "b", ""), UpdateScope::Main, false).unwrap();
    // Deleting everything brings the count back to nothing.
    for name in ["before", "b", "c"] {
        s.delete(kinds::configmaps(), "attendee-01", name, &DeleteOpts::default()).unwrap();
    }
    let st = s.lock();
    assert_eq!(st.usage["attendee-01"], quota::Usage { objects: 0, bytes: 0 });
}
