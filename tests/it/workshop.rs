//! Workshop mode on one sandbox: attendee tokens work only in their own namespace (403
//! elsewhere, worded like RBAC), and SelfSubjectAccessReviews answer for the caller.

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, ListParams, PostParams};
use kube_sandbox::SandboxConfig;
use serde_json::json;

use super::support::{client_from, serve_with, server_of};

async fn can_i(client: &kube::Client, verb: &str, resource: &str, namespace: &str) -> bool {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                resource: Some(resource.into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    api.create(&PostParams::default(), &review).await.unwrap().status.unwrap().allowed
}

#[tokio::test]
async fn attendees_are_confined_to_their_namespaces() {
    let served = serve_with(SandboxConfig { speed: f64::INFINITY, attendees: 2, ..Default::default() }).await;
    let sb = &served.sandbox;
    let names: Vec<&str> = sb.attendees().iter().map(|a| a.namespace.as_str()).collect();
    assert_eq!(names, ["attendee-01", "attendee-02"]);
    assert_ne!(sb.attendees()[0].token, sb.attendees()[1].token);
    let server = server_of(&served.kubeconfig);
    let one = client_from(&sb.attendee_kubeconfig(&server, &sb.attendees()[0])).await;
    assert_eq!(one.default_namespace(), "attendee-01");

    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "mine"}, "data": {"a": "b"}})).unwrap();
    Api::<ConfigMap>::namespaced(one.clone(), "attendee-01").create(&PostParams::default(), &cm).await.unwrap();
    Api::<Namespace>::all(one.clone()).get("attendee-01").await.unwrap();

    let err = Api::<Pod>::namespaced(one.clone(), "attendee-02").list(&ListParams::default()).await.unwrap_err();
    let kube::Error::Api(status) = err else { panic!("{err:?}") };
    assert_eq!(status.code, 403);
    assert_eq!(status.reason, "Forbidden");
    assert_eq!(
        status.message,
        "pods is forbidden: User \"system:serviceaccount:attendee-01:kubetutor\" cannot list resource \"pods\" in API group \"\" in the namespace \"attendee-02\""
    );
    let err =
        Api::<ConfigMap>::namespaced(one.clone(), "default").create(&PostParams::default(), &cm).await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 403), "{err:?}");
    let err = Api::<Namespace>::all(one.clone()).list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403 && s.message.contains("at the cluster scope")),
        "{err:?}"
    );
    let err = Api::<Pod>::all(one.clone()).list(&ListParams::default()).await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 403), "{err:?}");

    assert!(can_i(&one, "create", "pods", "attendee-01").await);
    assert!(!can_i(&one, "create", "pods", "attendee-02").await);
    // The admin sees everything, including what the attendee made.
    let admin = served.client().await;
    assert!(can_i(&admin, "delete", "pods", "attendee-02").await);
    Api::<ConfigMap>::namespaced(admin, "attendee-01").get("mine").await.unwrap();
}

#[tokio::test]
async fn the_instructor_sees_every_attendee_by_step() {
    use kubetutor::cluster::progress::{self, Published};
    use kubetutor::cluster::{Backend, Cluster};

    let served = serve_with(SandboxConfig { speed: f64::INFINITY, attendees: 3, ..Default::default() }).await;
    let sb = &served.sandbox;
    let server = server_of(&served.kubeconfig);
    let now = jiff::Timestamp::now();
    let admin = served.client().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let follower = {
        let admin = admin.clone();
        tokio::spawn(async move { progress::follow(&admin, |rows| drop(tx.send(rows.to_vec()))).await })
    };
    assert_eq!(rx.recv().await.unwrap(), vec![], "the first list is empty");

    let states =
        [(5, "pass", None), (1, "not_yet", Some("StatefulSet web agrees with the Service")), (2, "waiting", None)];
    for (a, (step, status, check)) in sb.attendees().iter().zip(states) {
        let client = client_from(&sb.attendee_kubeconfig(&server, a)).await;
        let cluster = Cluster {
            client,
            namespace: a.namespace.clone(),
            backend: Backend::Kubeconfig { context: "kubetutor-sandbox".into(), server: server.clone() },
        };
        let p = Published {
            lesson: "statefulset".into(),
            step,
            steps: 5,
            step_title: format!("step {step}"),
            status: status.into(),
            check: check.map(str::to_string),
            message: check.map(|_| "spec.serviceName is \"ngnix\" but the headless Service is called \"nginx\"".into()),
            since: now,
            updated: now,
        };
        progress::publish(&cluster, &p).await.unwrap();
        // Publishing again is idempotent.
        progress::publish(&cluster, &p).await.unwrap();
        // An attendee cannot see the others.
        assert!(progress::collect(&cluster.client).await.is_err());
    }
    let rows = progress::collect(&admin).await.unwrap();
    let summary: Vec<(&str, usize, &str)> =
        rows.iter().map(|r| (r.namespace.as_str(), r.progress.step, r.progress.status.as_str())).collect();
    assert_eq!(summary, [("attendee-01", 5, "pass"), ("attendee-02", 1, "not_yet"), ("attendee-03", 2, "waiting")]);
    let table = progress::render(&rows, now);
    assert!(table.contains("attendee-02   1 step 1     stuck      0s"), "{table}");
    assert!(table.contains("ngnix"), "{table}");

    // The live view got there too.
    let live = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let rows = rx.recv().await.unwrap();
            if rows.len() == 3 {
                return rows;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(live, rows);
    follower.abort();
}

#[tokio::test]
async fn an_attendee_filling_their_namespace_is_stopped_and_the_others_are_not() {
    use kube_sandbox::limits::ATTENDEE_OBJECT_BYTES;
    let served = serve_with(SandboxConfig { speed: f64::INFINITY, attendees: 2, ..Default::default() }).await;
    let sb = &served.sandbox;
    let server = server_of(&served.kubeconfig);
    let greedy = client_from(&sb.attendee_kubeconfig(&server, &sb.attendees()[0])).await;
    let honest = client_from(&sb.attendee_kubeconfig(&server, &sb.attendees()[1])).await;
    // ConfigMaps of 900 KiB until the namespace's bytes are used up: refused as a quota refuses.
    let cms = Api::<ConfigMap>::namespaced(greedy.clone(), "attendee-01");
    let big = "x".repeat(900 << 10);
    let mut made = 0;
    let refusal = loop {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("big-{made}")}, "data": {"a": big}})).unwrap();
        match cms.create(&PostParams::default(), &cm).await {
            Ok(_) => made += 1,
            Err(kube::Error::Api(s)) => break s,
            Err(e) => panic!("{e:?}"),
        }
        assert!(made * (900 << 10) <= ATTENDEE_OBJECT_BYTES, "{made} made, none refused");
    };
    assert_eq!((refusal.code, refusal.reason.as_str()), (403, "Forbidden"));
    assert!(refusal.message.contains("exceeded quota: kubetutor-attendee"), "{}", refusal.message);
    assert!(made >= 15, "only {made} fit");
    // (The count of objects is the other limit: `store::tests` runs into it.)
    // The other attendee works as before.
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "mine"}, "data": {"a": "b"}})).unwrap();
    Api::<ConfigMap>::namespaced(honest.clone(), "attendee-02").create(&PostParams::default(), &cm).await.unwrap();
    // Deleting frees the place again.
    cms.delete("big-0", &Default::default()).await.unwrap();
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "after"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
}
