//! The sandbox API through a real kube-rs client over HTTP: every verb, watch resume and 410,
//! optimistic concurrency, each patch type, validation with field paths, authentication and
//! malformed requests.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::{json, Value};

use super::support::{client_from, eventually, serve, serve_with};
use kube_sandbox::SandboxConfig;

fn api_status(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn web_sts() -> StatefulSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "labels": {"app": "nginx"}},
        "spec": {
            "serviceName": "nginx", "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [
                {"name": "nginx", "image": "nginx:mainline", "ports": [{"containerPort": 80, "name": "web"}],
                 "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    }))
    .unwrap()
}

fn cm(name: &str, labels: Value) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}})).unwrap()
}

#[tokio::test]
async fn crud_verbs_through_kube_rs() {
    let s = serve().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(s.client().await);
    let created = cms.create(&PostParams::default(), &cm("a", json!({"tier": "web"}))).await.unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    cms.create(&PostParams::default(), &cm("b", json!({"tier": "db"}))).await.unwrap();

    // get and list with a label selector
    assert_eq!(cms.get("a").await.unwrap().data.unwrap()["k"], "v");
    let web = cms.list(&ListParams::default().labels("tier=web")).await.unwrap();
    assert_eq!(web.items.len(), 1);
    let by_name = cms.list(&ListParams::default().fields("metadata.name=b")).await.unwrap();
    assert_eq!(by_name.items[0].metadata.name.as_deref(), Some("b"));

    // paging
    let page = cms.list(&ListParams::default().limit(1)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let token = page.metadata.continue_.clone().expect("a continue token");
    let rest = cms.list(&ListParams::default().limit(1).continue_token(&token)).await.unwrap();
    assert_eq!(rest.items[0].metadata.name.as_deref(), Some("b"));

    // update
    let mut a = cms.get("a").await.unwrap();
    a.data.as_mut().unwrap().insert("k".into(), "v2".into());
    let replaced = cms.replace("a", &PostParams::default(), &a).await.unwrap();
    assert_eq!(replaced.data.unwrap()["k"], "v2");

    // dry run changes nothing
    let dry = PostParams { dry_run: true, ..Default::default() };
    cms.create(&dry, &cm("c", json!({}))).await.unwrap();
    assert!(cms.get_opt("c").await.unwrap().is_none());

    // delete and deletecollection
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    let e = api_status(cms.get("a").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
    assert_eq!(e.message, "configmaps \"a\" not found");
    cms.delete_collection(&DeleteParams::default(), &ListParams::default().labels("tier=db")).await.unwrap();
    // Only the namespace's own CA bundle is left, as in every namespace of a real cluster.
    let left: Vec<String> =
        cms.list(&ListParams::default()).await.unwrap().items.into_iter().filter_map(|c| c.metadata.name).collect();
    assert_eq!(left, ["kube-root-ca.crt"]);

    // already exists
    cms.create(&PostParams::default(), &cm("d", json!({}))).await.unwrap();
    let e = api_status(cms.create(&PostParams::default(), &cm("d", json!({}))).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));
}

#[tokio::test]
async fn stale_update_conflicts() {
    let s = serve().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(s.client().await);
    let first = cms.create(&PostParams::default(), &cm("a", json!({}))).await.unwrap();
    let mut newer = first.clone();
    newer.data = Some([("k".to_string(), "new".to_string())].into());
    cms.replace("a", &PostParams::default(), &newer).await.unwrap();
    let mut stale = first;
    stale.data = Some([("k".to_string(), "stale".to_string())].into());
    let e = api_status(cms.replace("a", &PostParams::default(), &stale).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert!(e.message.contains("the object has been modified"), "{}", e.message);
    assert_eq!(cms.get("a").await.unwrap().data.unwrap()["k"], "new");
}

#[tokio::test]
async fn every_patch_type() {
    let s = serve().await;
    let sts: Api<StatefulSet> = Api::default_namespaced(s.client().await);
    sts.create(&PostParams::default(), &web_sts()).await.unwrap();
    let pp = PatchParams::default();

    // strategic merge: the exercise's partition patch, and a container merged by name
    let p = json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}});
    let o = sts.patch("web", &pp, &Patch::Strategic(p)).await.unwrap();
    assert_eq!(
        o.spec.as_ref().unwrap().update_strategy.as_ref().unwrap().rolling_update.as_ref().unwrap().partition,
        Some(2)
    );
    let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}});
    let o = sts.patch("web", &pp, &Patch::Strategic(p)).await.unwrap();
    let c = &o.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers;
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].image.as_deref(), Some("nginx:1.27"));
    assert_eq!(c[0].ports.as_ref().unwrap()[0].name.as_deref(), Some("web"), "strategic merge keeps the ports");
    assert_eq!(o.metadata.generation, Some(3));

    // JSON patch, as in the exercise
    let jp: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.13.12"}]))
    .unwrap();
    let o = sts.patch("web", &pp, &Patch::<()>::Json(jp)).await.unwrap();
    assert_eq!(o.spec.unwrap().template.spec.unwrap().containers[0].image.as_deref(), Some("nginx:1.13.12"));
    let bad: json_patch::Patch = serde_json::from_value(json!([{"op": "remove", "path": "/spec/nope"}])).unwrap();
    let e = api_status(sts.patch("web", &pp, &Patch::<()>::Json(bad)).await.unwrap_err());
    assert!(e.code == 422 || e.code == 400, "{e:?}");

    // merge patch replaces lists whole
    let o = sts.patch("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 3}}))).await.unwrap();
    assert_eq!(o.spec.unwrap().replicas, Some(3));

    // server-side apply: create, then change with ownership
    let svc: Api<Service> = Api::default_namespaced(s.client().await);
    let applied = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
        "spec": {"clusterIP": "None", "selector": {"app": "nginx"}, "ports": [{"port": 80, "name": "web", "targetPort": "web"}]}});
    let ssa = PatchParams::apply("kubetutor-test");
    let o = svc.patch("nginx", &ssa, &Patch::Apply(&applied)).await.unwrap();
    assert_eq!(o.spec.as_ref().unwrap().cluster_ip.as_deref(), Some("None"));
    let mf = o.metadata.managed_fields.unwrap();
    assert!(mf
        .iter()
        .any(|m| m.manager.as_deref() == Some("kubetutor-test") && m.operation.as_deref() == Some("Apply")));
    let mut less = applied.clone();
    less["metadata"]["labels"] = json!({});
    let o = svc.patch("nginx", &ssa, &Patch::Apply(&less)).await.unwrap();
    assert!(o.metadata.labels.unwrap_or_default().is_empty(), "a label no longer applied is removed");
}

#[tokio::test]
async fn validation_errors_name_fields() {
    let s = serve().await;
    let sts: Api<StatefulSet> = Api::default_namespaced(s.client().await);
    let mut bad = web_sts();
    bad.spec.as_mut().unwrap().replicas = Some(-1);
    bad.spec.as_mut().unwrap().selector.match_labels = Some([("app".to_string(), "other".to_string())].into());
    let e = api_status(sts.create(&PostParams::default(), &bad).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    let fields: Vec<String> = e.details.unwrap().causes.into_iter().map(|c| c.field).collect();
    assert!(fields.contains(&"spec.replicas".to_string()), "{fields:?}");
    assert!(fields.contains(&"spec.template.metadata.labels".to_string()), "{fields:?}");
    assert!(sts.get_opt("web").await.unwrap().is_none(), "a rejected create stores nothing");

    // immutable fields on update
    sts.create(&PostParams::default(), &web_sts()).await.unwrap();
    let e = api_status(
        sts.patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"serviceName": "other"}})))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422);
    assert!(e.message.contains("updates to statefulset spec for fields other than"), "{}", e.message);

    // a name that is not a DNS label
    let ns: Api<Namespace> = Api::all(s.client().await);
    let e = api_status(
        ns.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "Bad_Name"}})).unwrap())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422);
    assert!(e.message.contains("metadata.name"), "{}", e.message);
}

/// A raw request through the client (for bodies kube-rs would never send).
async fn raw(client: &kube::Client, method: &str, path: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
    let req = http::Request::builder().method(method).uri(path).header("content-type", ct).body(body).unwrap();
    match client.request::<Value>(req).await {
        Ok(v) => (200, v),
        Err(kube::Error::Api(s)) => (s.code, serde_json::to_value(&*s).unwrap()),
        Err(e) => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn strict_field_validation_and_malformed_bodies() {
    let s = serve().await;
    let c = s.client().await;
    let path = "/apis/apps/v1/namespaces/default/statefulsets?fieldValidation=Strict";
    let mut typo = serde_json::to_value(web_sts()).unwrap();
    typo["spec"]["replica"] = json!(2);
    let (code, st) = raw(&c, "POST", path, "application/json", serde_json::to_vec(&typo).unwrap()).await;
    assert_eq!(code, 400);
    assert!(st["message"].as_str().unwrap().contains("unknown field \"spec.replica\""), "{st}");

    let (code, st) = raw(&c, "POST", path, "application/json", b"{\"apiVersion\": ".to_vec()).await;
    assert_eq!((code, st["reason"].as_str()), (400, Some("BadRequest")));
    let (code, _) = raw(
        &c,
        "POST",
        path,
        "application/json",
        br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}"#.to_vec(),
    )
    .await;
    assert_eq!(code, 400, "wrong apiVersion for the URL");
    let huge = vec![b' '; 3 * 1024 * 1024 + 10];
    let (code, st) = raw(&c, "POST", path, "application/json", huge).await;
    assert_eq!((code, st["reason"].as_str()), (413, Some("RequestEntityTooLarge")));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (code, _) = raw(&c, "POST", path, "application/json", deep.into_bytes()).await;
    assert_eq!(code, 400);
    let (code, _) = raw(&c, "POST", path, "application/x-unknown", b"{}".to_vec()).await;
    assert_eq!(code, 415);
    let (code, st) = raw(
        &c,
        "PATCH",
        "/apis/apps/v1/namespaces/default/statefulsets/web",
        "application/merge-patch+json",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!((code, st["reason"].as_str()), (404, Some("NotFound")));
    // ...and the server still answers normally afterwards.
    let sts: Api<StatefulSet> = Api::default_namespaced(c);
    sts.create(&PostParams::default(), &web_sts()).await.unwrap();
}

#[tokio::test]
async fn requests_without_the_token_are_unauthorized() {
    let s = serve().await;
    let wrong = s.kubeconfig.replace(s.sandbox.token(), "not-the-token");
    let c = client_from(&wrong).await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let e = api_status(cms.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (401, "Unauthorized"));
}

#[tokio::test]
async fn watch_streams_and_resumes() {
    let s = serve().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(s.client().await);
    let start = cms.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    let mut w = cms.watch(&WatchParams::default().labels("w=1"), &start).await.unwrap().boxed();
    cms.create(&PostParams::default(), &cm("a", json!({"w": "1"}))).await.unwrap();
    cms.create(&PostParams::default(), &cm("other", json!({}))).await.unwrap();
    cms.patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"k": "2"}}))).await.unwrap();
    // stops matching the selector: seen as DELETED
    cms.patch("a", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"w": "0"}}}))).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match w.try_next().await.unwrap().unwrap() {
            WatchEvent::Added(o) => seen.push(("ADDED", o.metadata.name.unwrap())),
            WatchEvent::Modified(o) => seen.push(("MODIFIED", o.metadata.name.unwrap())),
            WatchEvent::Deleted(o) => seen.push(("DELETED", o.metadata.name.unwrap())),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, [("ADDED", "a".to_string()), ("MODIFIED", "a".into()), ("DELETED", "a".into())]);

    // resume from the middle: only what came after
    let resumed = cms.watch(&WatchParams::default(), &start).await.unwrap().boxed();
    let names: Vec<String> = resumed
        .take(4)
        .map(|e| match e.unwrap() {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => o.metadata.name.unwrap(),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
        .await;
    assert_eq!(names, ["a", "other", "a", "a"]);
}

#[tokio::test]
async fn watch_from_a_compacted_version_is_gone() {
    let s = serve_with(SandboxConfig { speed: f64::INFINITY, history: 5, ..Default::default() }).await;
    let cms: Api<ConfigMap> = Api::default_namespaced(s.client().await);
    let start = cms.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    for i in 0..10 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}"), json!({}))).await.unwrap();
    }
    let mut w = cms.watch(&WatchParams::default(), &start).await.unwrap().boxed();
    match w.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(e) => {
            assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
            assert!(e.message.starts_with("too old resource version"), "{}", e.message);
        }
        other => panic!("expected 410, got {other:?}"),
    }
    // a kube-runtime watcher recovers by relisting: it sees all ten objects
    let events = kube::runtime::watcher(cms.clone(), kube::runtime::watcher::Config::default());
    let mut events = Box::pin(events);
    let mut listed = 0;
    loop {
        match events.try_next().await.unwrap().unwrap() {
            kube::runtime::watcher::Event::InitApply(c) if c.metadata.name.as_deref() != Some("kube-root-ca.crt") => {
                listed += 1;
            }
            kube::runtime::watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(listed, 10);
}

#[tokio::test]
async fn tables_for_kubectl() {
    let s = serve().await;
    let c = s.client().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c.clone());
    cms.create(&PostParams::default(), &cm("a", json!({}))).await.unwrap();
    let req = http::Request::builder()
        .uri("/api/v1/namespaces/default/configmaps")
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
        .body(Vec::new())
        .unwrap();
    let t: Value = c.request(req).await.unwrap();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["columnDefinitions"][0]["name"], "Name");
    assert_eq!(t["rows"][0]["cells"][0], "a");
}

#[tokio::test]
async fn deleting_an_owner_collects_its_dependents() {
    let s = serve().await;
    let c = s.client().await;
    let sts: Api<StatefulSet> = Api::default_namespaced(c.clone());
    let owner = sts.create(&PostParams::default(), &web_sts()).await.unwrap();
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let mut dep = cm("dep", json!({}));
    dep.metadata.owner_references = Some(vec![serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": owner.metadata.uid.unwrap()}))
    .unwrap()]);
    cms.create(&PostParams::default(), &dep).await.unwrap();
    sts.delete("web", &DeleteParams::background()).await.unwrap();
    eventually(5, "the dependent to be collected", || {
        let cms = cms.clone();
        async move { cms.get_opt("dep").await.unwrap().is_none().then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn a_server_side_apply_that_changes_nothing_is_no_write() {
    use kube::api::{Api, Patch, PatchParams};
    let served = serve().await;
    let cms: Api<ConfigMap> = Api::namespaced(served.client().await, "default");
    let cm =
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "same"}, "data": {"a": "b"}});
    let pp = PatchParams::apply("kubetutor");
    let first = cms.patch("same", &pp, &Patch::Apply(&cm)).await.unwrap();
    let again = cms.patch("same", &pp, &Patch::Apply(&cm)).await.unwrap();
    assert_eq!(again.metadata.resource_version, first.metadata.resource_version);
    assert_eq!(again.metadata.managed_fields, first.metadata.managed_fields);
    // A real change still writes.
    let changed =
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "same"}, "data": {"a": "c"}});
    let third = cms.patch("same", &pp, &Patch::Apply(&changed)).await.unwrap();
    assert_ne!(third.metadata.resource_version, first.metadata.resource_version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_while_the_status_changes_never_conflicts() {
    // `kubectl scale` sends no resourceVersion: the update is unconditional, so a status
    // written meanwhile (the controller's, as pods come and go) must not make it a 409.
    let s = serve().await;
    let client = s.sandbox.client();
    let sets: Api<StatefulSet> = Api::default_namespaced(client.clone());
    sets.create(&PostParams::default(), &web_sts()).await.unwrap();
    let busy = {
        let sets = sets.clone();
        tokio::spawn(async move {
            for i in 0..400 {
                let status = json!({"status": {"replicas": 0, "observedGeneration": i}});
                let _ = sets.patch_status("web", &PatchParams::default(), &Patch::Merge(status)).await;
            }
        })
    };
    for i in 0..100 {
        let replicas = i % 4;
        let scale = json!({"spec": {"replicas": replicas}});
        sets.patch_scale("web", &PatchParams::default(), &Patch::Merge(&scale)).await.unwrap_or_else(|e| {
            panic!("scale {i}: {e}");
        });
        let mut whole = sets.get_scale("web").await.unwrap();
        whole.metadata.resource_version = None;
        whole.spec.get_or_insert_with(Default::default).replicas = Some(replicas + 1);
        sets.replace_scale("web", &PostParams::default(), &whole)
            .await
            .unwrap_or_else(|e| panic!("replace scale {i}: {e}"));
    }
    busy.await.unwrap();
    // With a resourceVersion, a stale one is still a conflict.
    let mut stale = sets.get_scale("web").await.unwrap();
    sets.patch_scale("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 2}}))).await.unwrap();
    stale.spec.get_or_insert_with(Default::default).replicas = Some(1);
    let e = sets.replace_scale("web", &PostParams::default(), &stale).await.unwrap_err();
    assert_eq!(api_status(e).code, 409);
}
