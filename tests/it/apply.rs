//! `cluster::apply` against the sandbox: multi-document server-side apply with created /
//! configured / unchanged, dry runs, strict field validation, YAML positions, the namespace
//! guard, conflicts, and the lesson reset.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Service};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kubetutor::cluster::apply::{apply_manifests, reset_lesson_objects, ApplyOptions};
use kubetutor::cluster::probe::MANAGED_BY;
use kubetutor::cluster::{Backend, Cluster};
use serde_json::json;

use super::support::{client_from, eventually, Served};

/// The exercise's headless Service and StatefulSet, in one text.
pub(crate) const EXERCISE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector:
    app: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: "nginx"
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      initContainers:
      - name: init
        image: alpine:3.8
        command: ["sh", "-c", "echo $(hostname) >> /usr/share/nginx/html/index.html"]
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
      containers:
      - name: nginx
        image: nginx:1.30
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      resources:
        requests:
          storage: 1Gi
"#;

/// A `Cluster` over HTTP from the served sandbox's kubeconfig, as for a real cluster.
pub(crate) async fn cluster_of(served: &Served) -> Cluster {
    let client = client_from(&served.kubeconfig).await;
    Cluster {
        client,
        namespace: "default".into(),
        backend: Backend::Kubeconfig { context: "sandbox".into(), server: "https://127.0.0.1".into() },
    }
}

/// Ready pods of the exercise's set.
pub(crate) async fn ready_pods(cluster: &Cluster, n: usize) {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    eventually(30, &format!("{n} ready pods"), || async {
        let list = pods.list(&ListParams::default().labels("app=nginx")).await.unwrap().items;
        let ready = list
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none() && kubetutor::cluster::snapshot::is_ready(p));
        (ready.count() == n).then_some(())
    })
    .await;
}

fn actions(applied: &[kubetutor::cluster::apply::Applied]) -> Vec<String> {
    applied.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn apply_reports_created_unchanged_configured() {
    let s = super::support::serve().await;
    let cluster = cluster_of(&s).await;
    let opts = ApplyOptions::default();

    let first = apply_manifests(&cluster, EXERCISE, opts).await.unwrap();
    assert_eq!(actions(&first), ["service/nginx created", "statefulset.apps/web created"]);
    let sts: Api<StatefulSet> = Api::default_namespaced(cluster.client.clone());
    let web = sts.get("web").await.unwrap();
    assert_eq!(web.metadata.labels.as_ref().unwrap()[MANAGED_BY.0], MANAGED_BY.1);
    let managers: Vec<String> =
        web.metadata.managed_fields.iter().flatten().filter_map(|m| m.manager.clone()).collect();
    assert_eq!(managers, ["kubetutor"]);

    let again = apply_manifests(&cluster, EXERCISE, opts).await.unwrap();
    assert_eq!(actions(&again), ["service/nginx unchanged", "statefulset.apps/web unchanged"]);

    let three = EXERCISE.replace("replicas: 2", "replicas: 3");
    let changed = apply_manifests(&cluster, &three, opts).await.unwrap();
    assert_eq!(actions(&changed), ["service/nginx unchanged", "statefulset.apps/web configured"]);
    assert_eq!(sts.get("web").await.unwrap().spec.unwrap().replicas, Some(3));
    ready_pods(&cluster, 3).await;
}

#[tokio::test]
async fn dry_run_stores_nothing_but_reports_what_would_happen() {
    let s = super::support::serve().await;
    let cluster = cluster_of(&s).await;
    let dry = ApplyOptions { dry_run: true, force: false };
    let out = apply_manifests(&cluster, EXERCISE, dry).await.unwrap();
    assert_eq!(actions(&out), ["service/nginx created", "statefulset.apps/web created"]);
    let svc: Api<Service> = Api::default_namespaced(cluster.client.clone());
    let sts: Api<StatefulSet> = Api::default_namespaced(cluster.client.clone());
    assert!(svc.get_opt("nginx").await.unwrap().is_none());
    assert!(sts.get_opt("web").await.unwrap().is_none());

    apply_manifests(&cluster, EXERCISE, ApplyOptions::default()).await.unwrap();
    let four = EXERCISE.replace("replicas: 2", "replicas: 4");
    let out = apply_manifests(&cluster, &four, dry).await.unwrap();
    assert_eq!(actions(&out), ["service/nginx unchanged", "statefulset.apps/web configured"]);
    assert_eq!(sts.get("web").await.unwrap().spec.unwrap().replicas, Some(2), "a dry run changes nothing");
}

#[tokio::test]
async fn server_errors_name_the_fields_and_nothing_is_half_applied() {
    let s = super::support::serve().await;
    let cluster = cluster_of(&s).await;
    // A typo: strict validation reports the unknown field by its path.
    let typo = EXERCISE.replace("  replicas: 2", "  replica: 2");
    let err = apply_manifests(&cluster, &typo, ApplyOptions::default()).await.unwrap_err();
    assert_eq!(err.document, 1);
    assert_eq!((err.kind.as_deref(), err.name.as_deref()), (Some("StatefulSet"), Some("web")));
    assert!(err.causes.iter().any(|c| c.field == "spec.replica"), "{err}");
    let svc: Api<Service> = Api::default_namespaced(cluster.client.clone());
    assert!(svc.get_opt("nginx").await.unwrap().is_none(), "the valid Service was not applied either");

    // A validation error: the selector does not match the template's labels.
    let mismatch = EXERCISE.replace("      app: nginx\n  template", "      app: web\n  template");
    let err = apply_manifests(&cluster, &mismatch, ApplyOptions::default()).await.unwrap_err();
    assert!(err.causes.iter().any(|c| c.field == "spec.template.metadata.labels"), "{err}");
    assert!(!err.conflict);

    // The learner's blank left in place reaches the server and is refused with its field.
    let blank = EXERCISE.replace("clusterIP: None", "clusterIP: ???");
    let err = apply_manifests(&cluster, &blank, ApplyOptions::default()).await.unwrap_err();
    assert_eq!(err.document, 0);
    assert!(err.causes.iter().any(|c| c.field == "spec.clusterIPs[0]" && c.message.contains("\"???\"")), "{err}");

    let err = apply_manifests(
        &cluster,
        "apiVersion: apps/v1\nkind: StatefulSett\nmetadata:\n  name: x\n",
        ApplyOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("no matches for kind \"StatefulSett\" in version \"apps/v1\""), "{err}");
}

#[tokio::test]
async fn syntax_errors_and_other_namespaces_are_refused_before_sending() {
    let s = super::support::serve().await;
    let cluster = cluster_of(&s).await;
    // Line 21 is `  replicas 2` (no colon) inside the second document.
    let broken = EXERCISE.replace("  replicas: 2\n", "  replicas 2\n  x: [\n");
    let err = apply_manifests(&cluster, &broken, ApplyOptions::default()).await.unwrap_err();
    assert_eq!(err.document, 1);
    let (line, column) = err.position.expect("a position");
    let lines: Vec<&str> = broken.lines().collect();
    assert!((21..=22).contains(&line), "line {line}: {err}");
    assert!(column >= 1 && column <= lines[line - 1].len() + 1, "{err}");
    let svc: Api<Service> = Api::default_namespaced(cluster.client.clone());
    assert!(svc.get_opt("nginx").await.unwrap().is_none());

    let elsewhere = EXERCISE.replace("  name: nginx\n", "  name: nginx\n  namespace: kube-system\n");
    let err = apply_manifests(&cluster, &elsewhere, ApplyOptions::default()).await.unwrap_err();
    assert_eq!(err.causes[0].field, "metadata.namespace");
    assert!(err.to_string().contains("only works in namespace \"default\""), "{err}");
    let here = EXERCISE.replace("  name: nginx\n", "  name: nginx\n  namespace: default\n");
    assert_eq!(apply_manifests(&cluster, &here, ApplyOptions::default()).await.unwrap().len(), 2);
}

#[tokio::test]
async fn conflicts_come_back_and_force_takes_over() {
    let s = super::support::serve().await;
    let cluster = cluster_of(&s).await;
    apply_manifests(&cluster, EXERCISE, ApplyOptions::default()).await.unwrap();
    // kubectl (another manager) takes replicas.
    let sts: Api<StatefulSet> = Api::default_namespaced(cluster.client.clone());
    let scale =
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"}, "spec": {"replicas": 1}});
    sts.patch("web", &PatchParams::apply("kubectl").force(), &Patch::Apply(&scale)).await.unwrap();

    let three = EXERCISE.replace("replicas: 2", "replicas: 3");
    let err = apply_manifests(&cluster, &three, ApplyOptions::default()).await.unwrap_err();
    assert!(err.conflict, "{err}");
    assert!(err.message.contains("conflict") && err.message.contains(".spec.replicas"), "{err}");
    assert!(err.message.contains("kubectl"), "{err}");

    let forced = apply_manifests(&cluster, &three, ApplyOptions { dry_run: false, force: true }).await.unwrap();
    assert_eq!(forced[1].action, "configured");
    assert_eq!(sts.get("web").await.unwrap().spec.unwrap().replicas, Some(3));
}

#[tokio::test]
async fn reset_deletes_the_lessons_objects_and_claims_only() {
    let s = super::support::serve().await;
    let cluster = cluster_of(&s).await;
    let with_map =
        format!("{EXERCISE}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lesson-config\ndata:\n  a: b\n");
    apply_manifests(&cluster, &with_map, ApplyOptions::default()).await.unwrap();
    ready_pods(&cluster, 2).await;
    let maps: Api<ConfigMap> = Api::default_namespaced(cluster.client.clone());
    let mine: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "mine"}, "data": {"x": "y"}})).unwrap();
    maps.create(&PostParams::default(), &mine).await.unwrap();
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(cluster.client.clone());
    // An unlabelled claim that only looks like a template's (not `<claim>-<sts>-<n>`).
    let other: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "www-web-data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    }))
    .unwrap();
    pvcs.create(&PostParams::default(), &other).await.unwrap();

    let mut deleted = reset_lesson_objects(&cluster).await.unwrap();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            "ConfigMap/lesson-config",
            "PersistentVolumeClaim/www-web-0",
            "PersistentVolumeClaim/www-web-1",
            "Service/nginx",
            "StatefulSet/web"
        ]
    );
    // Everything is gone by the time reset returns.
    let pods: Api<Pod> = Api::default_namespaced(cluster.client.clone());
    let left: Vec<String> =
        pods.list(&ListParams::default()).await.unwrap().items.into_iter().filter_map(|p| p.metadata.name).collect();
    assert!(left.is_empty(), "{left:?}");
    let claims: Vec<String> =
        pvcs.list(&ListParams::default()).await.unwrap().items.into_iter().filter_map(|p| p.metadata.name).collect();
    assert_eq!(claims, ["www-web-data"]);
    assert!(maps.get_opt("mine").await.unwrap().is_some());
    assert!(maps.get_opt("lesson-config").await.unwrap().is_none());
    let svc: Api<Service> = Api::default_namespaced(cluster.client.clone());
    assert!(svc.get_opt("nginx").await.unwrap().is_none());

    // Nothing left to delete: an empty answer, and the lesson can start again.
    assert!(reset_lesson_objects(&cluster).await.unwrap().is_empty());
    let again = apply_manifests(&cluster, EXERCISE, ApplyOptions::default()).await.unwrap();
    assert_eq!(again[1].action, "created");
}
