//! The checks with the learner's own names: a headless Service called `frontend` selecting
//! `tier=edu`, found by its role; the messages and hints in those names; the cases where the
//! role is not clear (no headless Service, two of them, one with a cluster IP); a rollout
//! stuck on a pod of a broken revision.

use serde_json::json;

use super::super::fixtures::*;
use super::super::params::*;
use super::super::*;
use super::{not_yet, set, spec_params, svc_params, waiting};
use crate::checks::roles::Names;

/// The world of step 2 with the learner's names: Service `frontend`, label `tier: edu`.
fn renamed() -> Snapshot {
    let mut s = world();
    let mut svc = service();
    svc["metadata"]["name"] = json!("frontend");
    svc["spec"]["selector"] = json!({"tier": "edu"});
    s.services.clear();
    s.services.insert("frontend".into(), from(svc));
    edit(s.statefulsets.get_mut("web").unwrap(), |v| {
        v["spec"]["serviceName"] = json!("frontend");
        v["spec"]["selector"]["matchLabels"] = json!({"tier": "edu"});
        v["spec"]["template"]["metadata"]["labels"] = json!({"tier": "edu"});
    });
    for pod in s.pods.values_mut() {
        edit(pod, |v| {
            v["metadata"]["labels"]["tier"] = json!("edu");
            v["metadata"]["labels"].as_object_mut().unwrap().remove("app");
            v["spec"]["subdomain"] = json!("frontend");
        });
    }
    s
}

fn other_service(name: &str, cluster_ip: &str) -> k8s_openapi::api::core::v1::Service {
    let mut svc = service();
    svc["metadata"]["name"] = json!(name);
    svc["spec"]["clusterIP"] = json!(cluster_ip);
    from(svc)
}

fn reason_and_hint(o: Outcome) -> (String, String) {
    match o {
        Outcome::NotYet { reason, hint, .. } => (reason, hint.unwrap_or_default()),
        other => panic!("expected NotYet, got {other:?}"),
    }
}

#[test]
fn every_check_passes_with_the_learners_names() {
    let s = renamed();
    assert_eq!(service::headless_service(&svc_params(), &s), Outcome::Pass);
    assert_eq!(service::headless_service(&ServiceParams { statefulset: None }, &s), Outcome::Pass);
    assert_eq!(service::statefulset_spec(&spec_params(), &s), Outcome::Pass);
    assert_eq!(pods::pods_ready(&set(2), &s), Outcome::Pass);
    assert_eq!(pods::pvcs_bound(&set(2), &s), Outcome::Pass);
    let log = |pod: &str, ip: &str| {
        format!(
            "@@kubetutor dns {pod} {pod}.frontend.default.svc.cluster.local\nName:\t{pod}.frontend.default.svc.cluster.local\nAddress: {ip}\n\
             @@kubetutor http {pod}\n{pod}\n@@kubetutor end {pod} 0\n"
        )
    };
    let answers = ProbeAnswers::parse(&(log("web-0", "10.244.0.5") + &log("web-1", "10.244.0.6")));
    let p = ProbeParams { statefulset: "web".into(), replicas: 2, hostname_at_least: None };
    assert_eq!(probe::dns(&p, &s, &answers), Outcome::Pass);
    assert_eq!(probe::http_index(&p, &s, &answers), Outcome::Pass);
    assert_eq!(probe::service_of(&s, "web"), "frontend");
}

#[test]
fn names_and_hints_are_the_learners() {
    let s = renamed();
    let defaults = Names { statefulset: "web".into(), service: "nginx".into(), selector: "app=nginx".into() };
    let names = Names::find(&s, &defaults);
    assert_eq!(names, Names { statefulset: "web".into(), service: "frontend".into(), selector: "tier=edu".into() });
    assert_eq!(
        names.fill("nslookup web-0.{{service}}; :delete pod -l {{selector}}"),
        "nslookup web-0.frontend; :delete pod -l tier=edu"
    );
    // Before the StatefulSet exists, the Service's selector; before anything, the defaults.
    let mut only_svc = renamed();
    only_svc.statefulsets.clear();
    assert_eq!(Names::find(&only_svc, &defaults).selector, "tier=edu");
    assert_eq!(Names::find(&Snapshot::default(), &defaults), defaults);
    // A check's hint names the learner's label.
    let h = history_of(&[]);
    let baseline = Baseline::capture(&s, "web");
    let (_, hint) = reason_and_hint(pods::stable_identity(&set(2), &s, &h, Some(&baseline)));
    assert_eq!(hint, "Delete the pods (:delete pod -l tier=edu) and watch them come back.");
}

#[test]
fn the_headless_service_is_found_by_its_role() {
    // Only the API server's own Service: not the learner's.
    let mut s = Snapshot::default();
    s.services.insert("kubernetes".into(), other_service("kubernetes", "10.96.0.1"));
    assert_eq!(not_yet(service::headless_service(&svc_params(), &s)).0, "there is no headless Service yet");

    // The learner's Service got a cluster IP: said, with the learner's name.
    s.services.insert("frontend".into(), other_service("frontend", "10.96.0.12"));
    let (reason, hint) = reason_and_hint(service::headless_service(&svc_params(), &s));
    assert_eq!(
        reason,
        "spec.clusterIP is \"10.96.0.12\": the Service has a virtual IP of its own, so it is not headless"
    );
    assert_eq!(
        hint,
        "Set clusterIP: None. A Service's clusterIP cannot change once set: delete it (:delete service frontend) and apply again."
    );

    // Two Services, neither headless.
    s.services.insert("backend".into(), other_service("backend", "10.96.0.13"));
    let (reason, hint) = reason_and_hint(service::headless_service(&svc_params(), &s));
    assert_eq!(reason, "none of the Services \"backend\", \"frontend\" is headless: each has a cluster IP of its own");
    assert!(
        hint.starts_with("A Service's clusterIP cannot change once set: delete yours (e.g. :delete service frontend)"),
        "{hint}"
    );

    // Two headless Services and no StatefulSet to tell them apart.
    let mut s = renamed();
    s.statefulsets.clear();
    s.services.insert("other".into(), other_service("other", "None"));
    let (reason, hint) = reason_and_hint(service::headless_service(&svc_params(), &s));
    assert_eq!(
        reason,
        "there are 2 headless Services (\"frontend\", \"other\"): the lesson needs one, and it cannot tell which is yours"
    );
    assert!(hint.contains(":delete service other"), "{hint}");

    // With the StatefulSet, its serviceName decides.
    let mut s = renamed();
    s.services.insert("other".into(), other_service("other", "None"));
    assert_eq!(service::headless_service(&svc_params(), &s), Outcome::Pass);
    assert_eq!(service::statefulset_spec(&spec_params(), &s), Outcome::Pass);
}

#[test]
fn service_name_and_selector_mistakes_give_both_ways_out() {
    // serviceName names a Service that is not there (immutable: both ways out).
    let mut s = renamed();
    edit(s.statefulsets.get_mut("web").unwrap(), |v| v["spec"]["serviceName"] = json!("nginx"));
    let (reason, hint) = reason_and_hint(service::statefulset_spec(&spec_params(), &s));
    assert_eq!(reason, "spec.serviceName is \"nginx\" but there is no Service \"nginx\": the headless Service here is called \"frontend\"");
    assert_eq!(
        hint,
        "spec.serviceName cannot change on an existing StatefulSet. Either create the headless Service under the name \"nginx\" \
         (metadata.name in step 0's YAML, then :apply), or delete the StatefulSet (:delete statefulset web; its claims stay, \
         and so does the data) and apply it again."
    );

    // serviceName names a Service with a cluster IP.
    let mut s = renamed();
    s.services.insert("frontend".into(), other_service("frontend", "10.96.0.12"));
    let (reason, _) = reason_and_hint(service::statefulset_spec(&spec_params(), &s));
    assert_eq!(
        reason,
        "spec.serviceName names the Service \"frontend\", which has the cluster IP \"10.96.0.12\": it is not headless, so the pods get no DNS names of their own"
    );

    // The pods' labels are not the Service's selector: the StatefulSet's selector cannot change.
    let mut s = renamed();
    edit(s.statefulsets.get_mut("web").unwrap(), |v| {
        v["spec"]["selector"]["matchLabels"] = json!({"app": "nginx"});
        v["spec"]["template"]["metadata"]["labels"] = json!({"app": "nginx"});
    });
    let (reason, hint) = reason_and_hint(service::statefulset_spec(&spec_params(), &s));
    assert_eq!(
        reason,
        "the Service \"frontend\" selects tier=edu but the pods are labelled app=nginx: the Service would find none of them"
    );
    assert_eq!(
        hint,
        "spec.selector cannot change on an existing StatefulSet. Either change the Service's selector to app=nginx \
         (a Service's selector can change: edit step 0's YAML and :apply), or delete the StatefulSet (:delete statefulset web; \
         its claims stay, and so does the data) and apply it again."
    );
}

/// The world after the template's image was fixed: the update revision is `web-bbb`, and
/// web-0 is still the pod of the broken revision `web-aaa`.
fn stuck() -> Snapshot {
    let mut s = renamed();
    edit(s.statefulsets.get_mut("web").unwrap(), |v| {
        v["status"]["updateRevision"] = json!("web-bbb");
        v["status"]["readyReplicas"] = json!(0);
    });
    s.pods.remove("web-1");
    edit(s.pods.get_mut("web-0").unwrap(), |v| {
        v["spec"]["containers"][0]["image"] = json!("nginx:mainlinee");
        v["status"]["conditions"][0]["status"] = json!("False");
        v["status"]["containerStatuses"] = json!([{"name": "nginx", "image": "nginx:mainlinee", "imageID": "",
            "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]);
    });
    s
}

#[test]
fn a_rollout_stuck_on_a_broken_pod_is_explained() {
    let s = stuck();
    let sts = &s.statefulsets["web"];
    assert!(util::stuck_on_old_revision(sts, &s.pods["web-0"]));
    let (reason, hint) = reason_and_hint(pods::pods_ready(&set(2), &s));
    assert_eq!(
        reason,
        "web-0 cannot pull image \"nginx:mainlinee\" (ImagePullBackOff); web-0 is still the pod of the old revision web-aaa, \
         made before the template was fixed, and a StatefulSet does not replace a pod that never became Ready"
    );
    assert_eq!(
        hint,
        ":delete pod web-0: the StatefulSet then re-creates it from the fixed template (upstream calls this a forced rollback)"
    );
    // Not stuck when the pod is of the current template: then the template is what is wrong.
    let mut s = stuck();
    edit(s.statefulsets.get_mut("web").unwrap(), |v| v["status"]["updateRevision"] = json!("web-aaa"));
    assert_eq!(
        reason_and_hint(pods::pods_ready(&set(2), &s)).0,
        "web-0 cannot pull image \"nginx:mainlinee\" (ImagePullBackOff)"
    );
    // A Ready pod of the old revision is simply next in the rollout; and "running" waits for
    // the rollout to finish.
    let mut s = renamed();
    edit(s.statefulsets.get_mut("web").unwrap(), |v| v["status"]["updateRevision"] = json!("web-bbb"));
    assert_eq!(
        waiting(pods::pods_ready(&set(2), &s)),
        "waiting for the rolling update to replace web-0 (it runs the old revision web-aaa)"
    );
    for pod in s.pods.values_mut() {
        edit(pod, |v| v["metadata"]["labels"]["controller-revision-hash"] = json!("web-bbb"));
    }
    assert_eq!(
        waiting(pods::pods_ready(&set(2), &s)),
        "waiting for web to finish its rolling update (status.currentRevision is not the update revision yet)"
    );
    edit(s.statefulsets.get_mut("web").unwrap(), |v| v["status"]["currentRevision"] = json!("web-bbb"));
    assert_eq!(pods::pods_ready(&set(2), &s), Outcome::Pass);
    // Below a partition the old revision is on purpose.
    let mut s = renamed();
    edit(s.statefulsets.get_mut("web").unwrap(), |v| {
        v["status"]["updateRevision"] = json!("web-bbb");
        v["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(2);
    });
    assert_eq!(pods::pods_ready(&set(2), &s), Outcome::Pass);
}
