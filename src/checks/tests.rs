//! Every check over fixtures: passing ones, and failing ones with their exact message and field.

use serde_json::json;

use super::fixtures::*;
use super::params::*;
use super::*;
use crate::grade::Concern;

mod later;
mod names;

pub(super) fn svc_params() -> ServiceParams {
    ServiceParams { statefulset: Some("web".into()) }
}

pub(super) fn spec_params() -> SpecParams {
    SpecParams { statefulset: "web".into(), replicas: 2 }
}

pub(super) fn set(replicas: i32) -> SetParams {
    SetParams { statefulset: "web".into(), replicas }
}

/// The reason and field of a NotYet; panics on anything else.
#[track_caller]
pub(super) fn not_yet(o: Outcome) -> (String, Option<String>) {
    match o {
        Outcome::NotYet { reason, concern: Concern { field, .. }, .. } => (reason, field),
        other => panic!("expected NotYet, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn waiting(o: Outcome) -> String {
    match o {
        Outcome::Waiting { what } => what,
        other => panic!("expected Waiting, got {other:?}"),
    }
}

fn headless(s: &Snapshot) -> Outcome {
    service::headless_service(&svc_params(), s)
}

#[test]
fn headless_service_passes_and_names_each_mistake() {
    let mut s = world();
    assert_eq!(headless(&s), Outcome::Pass);

    edit(s.services.get_mut("nginx").unwrap(), |v| v["spec"]["clusterIP"] = json!("10.96.0.12"));
    let (reason, field) = not_yet(headless(&s));
    assert_eq!(
        reason,
        "spec.clusterIP is \"10.96.0.12\": the Service has a virtual IP of its own, so it is not headless"
    );
    assert_eq!(field.as_deref(), Some("spec.clusterIP"));

    let mut s = world();
    edit(s.services.get_mut("nginx").unwrap(), |v| v["spec"]["type"] = json!("NodePort"));
    let (reason, field) = not_yet(headless(&s));
    assert!(reason.starts_with("spec.type is \"NodePort\": a headless Service must be type ClusterIP"), "{reason}");
    assert_eq!(field.as_deref(), Some("spec.type"));

    let mut s = world();
    edit(s.services.get_mut("nginx").unwrap(), |v| {
        v["spec"].as_object_mut().unwrap().remove("selector").map(|_| ()).unwrap();
    });
    assert_eq!(not_yet(headless(&s)).1.as_deref(), Some("spec.selector"));

    let mut s = world();
    edit(s.services.get_mut("nginx").unwrap(), |v| v["spec"]["ports"][0]["targetPort"] = json!(80));
    let (reason, field) = not_yet(headless(&s));
    assert_eq!(reason, "spec.ports[0].targetPort is 80, a number: refer to the container's port by its name instead");
    assert_eq!(field.as_deref(), Some("spec.ports[0].targetPort"));

    let mut s = world();
    edit(s.services.get_mut("nginx").unwrap(), |v| {
        v["spec"]["ports"][0].as_object_mut().unwrap().remove("name").map(|_| ()).unwrap();
    });
    assert_eq!(not_yet(headless(&s)).0, "spec.ports[0] has no name: give the port a name (e.g. web)");

    let mut s = world();
    s.services.clear();
    assert_eq!(not_yet(headless(&s)).0, "there is no headless Service yet");
}

fn spec(s: &Snapshot) -> Outcome {
    service::statefulset_spec(&spec_params(), s)
}

fn edit_sts(s: &mut Snapshot, f: impl FnOnce(&mut serde_json::Value)) {
    edit(s.statefulsets.get_mut("web").unwrap(), f);
}

#[test]
fn statefulset_spec_passes_and_names_each_mistake() {
    let mut s = world();
    assert_eq!(spec(&s), Outcome::Pass);

    edit_sts(&mut s, |v| v["spec"]["serviceName"] = json!("ngnix"));
    let (reason, field) = not_yet(spec(&s));
    assert_eq!(
        reason,
        "spec.serviceName is \"ngnix\" but there is no Service \"ngnix\": the headless Service here is called \"nginx\""
    );
    assert_eq!(field.as_deref(), Some("spec.serviceName"));

    let mut s = world();
    edit_sts(&mut s, |v| v["spec"]["replicas"] = json!(3));
    assert_eq!(spec(&s), Outcome::Pass, "scaled up later");
    edit_sts(&mut s, |v| v["spec"]["replicas"] = json!(1));
    assert_eq!(not_yet(spec(&s)), ("spec.replicas is 1 but this step wants 2".into(), Some("spec.replicas".into())));

    let mut s = world();
    edit_sts(&mut s, |v| v["spec"]["selector"]["matchLabels"] = json!({"app": "web"}));
    let (reason, field) = not_yet(spec(&s));
    assert_eq!(
        reason,
        "spec.selector.matchLabels is app=web but the template's labels are app=nginx: the selector must match them"
    );
    assert_eq!(field.as_deref(), Some("spec.selector.matchLabels"));

    let mut s = world();
    edit_sts(&mut s, |v| {
        v["spec"]["selector"]["matchLabels"] = json!({"app": "web"});
        v["spec"]["template"]["metadata"]["labels"] = json!({"app": "web"});
    });
    let (reason, _) = not_yet(spec(&s));
    assert_eq!(reason, "the Service \"nginx\" selects app=nginx but the pods are labelled app=web: the Service would find none of them");

    let mut s = world();
    edit_sts(&mut s, |v| v["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["name"] = json!("data"));
    s.events.push(from(event(
        "FailedCreate",
        "create Pod web-0 in StatefulSet web failed error: Pod \"web-0\" is invalid: spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
    )));
    let (reason, field) = not_yet(spec(&s));
    assert_eq!(
        reason,
        "spec.template.spec.containers[0].volumeMounts[0].name is \"data\" but the claim template is called \"www\": a volumeMount must name a volume of the pod \
         (the StatefulSet reports: create Pod web-0 in StatefulSet web failed error: Pod \"web-0\" is invalid: spec.containers[0].volumeMounts[0].name: Not found: \"data\")"
    );
    assert_eq!(field.as_deref(), Some("spec.template.spec.containers[0].volumeMounts[0].name"));

    let mut s = world();
    edit_sts(&mut s, |v| v["spec"]["template"]["spec"]["initContainers"][0]["volumeMounts"][0]["name"] = json!("wwww"));
    let (_, field) = not_yet(spec(&s));
    assert_eq!(field.as_deref(), Some("spec.template.spec.initContainers[0].volumeMounts[0].name"));

    let mut s = world();
    edit_sts(&mut s, |v| v["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"] = json!("http"));
    let (reason, field) = not_yet(spec(&s));
    assert_eq!(
        reason,
        "spec.template.spec.containers[0].ports[0].name is \"http\" but the Service \"nginx\" sends traffic to the port named \"web\" (its targetPort)"
    );
    assert_eq!(field.as_deref(), Some("spec.template.spec.containers[0].ports[0].name"));

    let mut s = world();
    s.services.clear();
    assert_eq!(
        not_yet(spec(&s)).0,
        "spec.serviceName is \"nginx\" but there is no Service \"nginx\": step 0 creates it"
    );
    let mut s = world();
    s.statefulsets.clear();
    assert_eq!(not_yet(spec(&s)).0, "there is no StatefulSet \"web\" yet");
}

#[test]
fn pods_ready_explains_what_holds_them() {
    let mut s = world();
    assert_eq!(pods::pods_ready(&set(2), &s), Outcome::Pass);

    edit(s.pods.get_mut("web-0").unwrap(), |v| {
        v["status"]["conditions"][0]["status"] = json!("False");
        v["status"]["containerStatuses"] = json!([{"name": "nginx", "image": "nginx:mainlnie", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ErrImagePull", "message": "rpc error: not found"}}}]);
    });
    let (reason, field) = not_yet(pods::pods_ready(&set(2), &s));
    assert_eq!(reason, "web-0 cannot pull image \"nginx:mainlnie\" (ErrImagePull)");
    assert_eq!(field.as_deref(), Some("spec.template.spec.containers[0].image"));

    let mut s = world();
    s.pods.remove("web-1");
    assert_eq!(waiting(pods::pods_ready(&set(2), &s)), "waiting for web-1 to be created");
    s.events.push(from(event("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful")));
    s.events.push(from(event("FailedCreate", "create Pod web-1 in StatefulSet web failed error: Pod \"web-1\" is invalid: spec.containers[0].volumeMounts[0].name: Not found: \"data\"")));
    let (reason, field) = not_yet(pods::pods_ready(&set(2), &s));
    assert!(reason.starts_with("web-1 cannot be created; the StatefulSet reports: create Pod web-1"), "{reason}");
    assert_eq!(field.as_deref(), Some("spec.template.spec.containers[0].volumeMounts[0].name"));

    let mut s = world();
    s.pods.insert("web-1".into(), from(pod(1, "u1", 6, None, "nginx:mainline", "web-aaa")));
    edit(s.pvcs.get_mut("www-web-1").unwrap(), |v| v["status"]["phase"] = json!("Pending"));
    assert_eq!(waiting(pods::pods_ready(&set(2), &s)), "waiting for web-1's claim www-web-1 to be Bound");
    edit(s.pvcs.get_mut("www-web-1").unwrap(), |v| v["status"]["phase"] = json!("Bound"));
    assert_eq!(waiting(pods::pods_ready(&set(2), &s)), "waiting for web-1 to be Ready");

    let mut s = world();
    edit_sts(&mut s, |v| v["spec"]["replicas"] = json!(1));
    s.pods.remove("web-1");
    let (reason, field) = not_yet(pods::pods_ready(&set(2), &s));
    assert_eq!(reason, "spec.replicas is 1 but web-1 is needed: this step wants 2 replicas");
    assert_eq!(field.as_deref(), Some("spec.replicas"));
}

#[test]
fn ordered_creation_from_timestamps() {
    let s = world();
    let none = History::new(jiff::Timestamp::now());
    assert_eq!(pods::ordered_creation(&set(2), &s, &none), Outcome::Pass);
    // web-1 created at 3, before web-0 was Ready at 5.
    let mut s = world();
    s.pods.insert("web-1".into(), from(pod(1, "u1", 3, Some(9), "nginx:mainline", "web-aaa")));
    assert_eq!(not_yet(pods::ordered_creation(&set(2), &s, &none)).0, "web-1 was created before web-0 was Ready");
    edit_sts(&mut s, |v| v["spec"]["podManagementPolicy"] = json!("Parallel"));
    let (reason, field) = not_yet(pods::ordered_creation(&set(2), &s, &none));
    assert_eq!(reason, "web-1 was created before web-0 was Ready: spec.podManagementPolicy is Parallel");
    assert_eq!(field.as_deref(), Some("spec.podManagementPolicy"));
    // web-0 re-created later (after a rolling update): the claims keep the order.
    let mut s = world();
    s.pods.insert("web-0".into(), from(pod(0, "u0b", 40, Some(45), "nginx:mainline", "web-aaa")));
    assert_eq!(pods::ordered_creation(&set(2), &s, &none), Outcome::Pass);
    s.pvcs.insert("www-web-1".into(), from(pvc("www-web-1", "c1", -5, "Bound")));
    assert_eq!(not_yet(pods::ordered_creation(&set(2), &s, &none)).0, "web-1 was created before web-0 was Ready");
}

#[test]
fn ordered_creation_from_history() {
    let s = world();
    let ordered = history_of(&[
        pod(0, "u0", 0, None, "nginx:mainline", "web-aaa"),
        pod(0, "u0", 0, Some(5), "nginx:mainline", "web-aaa"),
        pod(1, "u1", 6, None, "nginx:mainline", "web-aaa"),
        pod(1, "u1", 6, Some(11), "nginx:mainline", "web-aaa"),
    ]);
    assert_eq!(pods::ordered_creation(&set(2), &s, &ordered), Outcome::Pass);
    // The tutor saw web-1 appear while web-0 was not Ready: the timestamps do not matter then.
    let parallel = history_of(&[
        pod(0, "u0", 0, None, "nginx:mainline", "web-aaa"),
        pod(1, "u1", 6, None, "nginx:mainline", "web-aaa"),
        pod(0, "u0", 0, Some(5), "nginx:mainline", "web-aaa"),
        pod(1, "u1", 6, Some(11), "nginx:mainline", "web-aaa"),
    ]);
    assert_eq!(not_yet(pods::ordered_creation(&set(2), &s, &parallel)).0, "web-1 was created before web-0 was Ready");
}

#[test]
fn pvcs_bound_and_scaled() {
    let mut s = world();
    assert_eq!(pods::pvcs_bound(&set(2), &s), Outcome::Pass);
    edit(s.pvcs.get_mut("www-web-1").unwrap(), |v| v["status"]["phase"] = json!("Pending"));
    assert_eq!(
        waiting(pods::pvcs_bound(&set(2), &s)),
        "waiting for the PVC www-web-1 to be Bound (it is Pending; kubectl describe pvc www-web-1 says why)"
    );
    edit_sts(&mut s, |v| v["spec"]["volumeClaimTemplates"] = json!([]));
    let (reason, field) = not_yet(pods::pvcs_bound(&set(2), &s));
    assert_eq!(reason, "spec.volumeClaimTemplates is empty: the pods get no storage of their own");
    assert_eq!(field.as_deref(), Some("spec.volumeClaimTemplates"));

    let mut s = world();
    assert_eq!(
        not_yet(pods::scaled(&set(3), &s)),
        ("spec.replicas is 2; scale the StatefulSet to 3".into(), Some("spec.replicas".into()))
    );
    edit_sts(&mut s, |v| v["spec"]["replicas"] = json!(3));
    assert_eq!(waiting(pods::scaled(&set(3), &s)), "waiting for web-2 to be created");
    s.pods.insert("web-2".into(), from(pod(2, "u2", 20, Some(25), "nginx:mainline", "web-aaa")));
    assert_eq!(pods::scaled(&set(3), &s), Outcome::Pass);
}
