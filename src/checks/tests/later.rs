//! The checks of steps 2 to 4 that need more than one snapshot: probe answers, the baseline of
//! step 3, and the history of an update.

use serde_json::json;

use super::super::fixtures::*;
use super::super::params::*;
use super::super::*;
use super::{not_yet, set, waiting};

fn probe_params(at_least: Option<usize>) -> ProbeParams {
    ProbeParams { statefulset: "web".into(), replicas: 2, hostname_at_least: at_least }
}

fn host_log(pod: &str, ip: &str, body: &str, code: i32) -> String {
    format!(
        "@@kubetutor dns {pod} {pod}.nginx.default.svc.cluster.local\nServer:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n\
         Name:\t{pod}.nginx.default.svc.cluster.local\nAddress: {ip}\n\n\n@@kubetutor http {pod}\n{body}@@kubetutor end {pod} {code}\n"
    )
}

fn answers(body0: &str, body1: &str) -> ProbeAnswers {
    ProbeAnswers::parse(&(host_log("web-0", "10.244.0.5", body0, 0) + &host_log("web-1", "10.244.0.6", body1, 0)))
}

#[test]
fn the_probe_script_and_its_log() {
    let hosts = [("web-0".to_string(), probe::fqdn("web-0", "nginx", "default"))];
    let script = probe::script(&hosts);
    assert_eq!(
        script,
        "echo '@@kubetutor dns web-0 web-0.nginx.default.svc.cluster.local'; nslookup web-0.nginx.default.svc.cluster.local; \
         echo '@@kubetutor http web-0'; wget -q -T 5 -O - http://web-0.nginx.default.svc.cluster.local/; echo \"@@kubetutor end web-0 $?\"; true"
    );
    let a = answers("web-0\n", "web-1\n");
    let h = &a.hosts["web-0"];
    assert_eq!(h.addresses, ["10.244.0.5"]);
    assert_eq!(h.http, "web-0\n");
    assert_eq!(h.http_status, Some(0));
    // Older busybox prints `Address 1: ip name`.
    let old = ProbeAnswers::parse(
        "@@kubetutor dns web-0 x\nServer:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns\n\nName:      x\nAddress 1: 10.244.0.9 web-0.nginx\n@@kubetutor http web-0\n@@kubetutor end web-0 1\n",
    );
    assert_eq!(old.hosts["web-0"].addresses, ["10.244.0.9"]);
    assert_eq!(old.hosts["web-0"].http_status, Some(1));
}

#[test]
fn dns_per_pod() {
    let s = world();
    assert_eq!(probe::dns(&probe_params(None), &s, &answers("web-0\n", "web-1\n")), Outcome::Pass);
    let nx = ProbeAnswers::parse(
        &(host_log("web-0", "10.244.0.5", "web-0\n", 0)
            + "@@kubetutor dns web-1 web-1.nginx.default.svc.cluster.local\nServer:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n\
               ** server can't find web-1.nginx.default.svc.cluster.local: NXDOMAIN\n\n@@kubetutor http web-1\nwget: bad address 'web-1.nginx.default.svc.cluster.local'\n@@kubetutor end web-1 1\n"),
    );
    let (reason, _) = not_yet(probe::dns(&probe_params(None), &s, &nx));
    assert_eq!(
        reason,
        "web-1.nginx.default.svc.cluster.local does not resolve: the Service does not list the pod (compare its selector with the pod's labels)"
    );
    let mut s2 = world();
    edit(s2.pods.get_mut("web-1").unwrap(), |v| v["spec"]["subdomain"] = json!("ngnix"));
    let (reason, field) = not_yet(probe::dns(&probe_params(None), &s2, &nx));
    assert_eq!(reason, "web-1.nginx.default.svc.cluster.local does not resolve: web-1's subdomain is \"ngnix\", not the Service \"nginx\"");
    assert_eq!(field.as_deref(), Some("spec.serviceName"));
    // After a restart the name may still answer the old IP for a moment.
    let stale = ProbeAnswers::parse(
        &(host_log("web-0", "10.244.0.99", "web-0\n", 0) + &host_log("web-1", "10.244.0.6", "web-1\n", 0)),
    );
    assert_eq!(
        waiting(probe::dns(&probe_params(None), &s, &stale)),
        "waiting for DNS: web-0.nginx.default.svc.cluster.local answers 10.244.0.99 but web-0's IP is 10.244.0.5"
    );
    let failed = ProbeAnswers {
        failure: Some("the probe pod kubetutor-probe-x did not finish within 60 s (phase Pending)".into()),
        ..Default::default()
    };
    assert!(not_yet(probe::dns(&probe_params(None), &s, &failed)).0.starts_with("the probe pod could not run: "));
    assert_eq!(
        waiting(probe::dns(&probe_params(None), &s, &ProbeAnswers::default())),
        "waiting for the probe pod to look up web-0"
    );
}

#[test]
fn http_index_per_pod() {
    let s = world();
    assert_eq!(probe::http_index(&probe_params(Some(1)), &s, &answers("web-0\n", "web-1\n")), Outcome::Pass);
    let (reason, _) = not_yet(probe::http_index(&probe_params(Some(2)), &s, &answers("web-0\n", "web-1\n")));
    assert_eq!(
        reason,
        "web-0's index.html holds its hostname once; after a restart on the same volume it holds it 2 times"
    );
    assert_eq!(
        probe::http_index(&probe_params(Some(2)), &s, &answers("web-0\nweb-0\n", "web-1\nweb-1\n")),
        Outcome::Pass
    );
    let (reason, field) =
        not_yet(probe::http_index(&probe_params(None), &s, &answers("<html>403 Forbidden</html>\n", "web-1\n")));
    assert_eq!(reason, "web-0 serves \"<html>403 Forbidden</html>\" instead of its hostname: index.html is not the one the init container wrote");
    assert_eq!(field.as_deref(), Some("spec.template.spec.containers[0].volumeMounts[0].mountPath"));
    let refused = ProbeAnswers::parse(
        &(host_log("web-0", "10.244.0.5", "wget: can't connect to remote host (10.244.0.5): Connection refused\n", 1)
            + &host_log("web-1", "10.244.0.6", "web-1\n", 0)),
    );
    let (reason, _) = not_yet(probe::http_index(&probe_params(None), &s, &refused));
    assert_eq!(
        reason,
        "wget http://web-0.nginx.default.svc.cluster.local/ failed (\"wget: can't connect to remote host (10.244.0.5): Connection refused\")"
    );
}

/// world() after both pods were deleted and came back (new UIDs, same claims).
fn restarted() -> Snapshot {
    let mut s = world();
    s.pods.insert("web-0".into(), from(pod(0, "u0b", 100, Some(105), "nginx:mainline", "web-aaa")));
    s.pods.insert("web-1".into(), from(pod(1, "u1b", 106, Some(111), "nginx:mainline", "web-aaa")));
    s
}

#[test]
fn stable_identity_against_the_baseline() {
    let before = world();
    let baseline = Baseline::capture(&before, "web");
    assert_eq!(baseline.pods["web-0"], "u0");
    assert_eq!(baseline.claims["www-web-1"], "c1");
    let none = History::new(jiff::Timestamp::now());
    let (reason, _) = not_yet(pods::stable_identity(&set(2), &before, &none, Some(&baseline)));
    assert_eq!(reason, "web-0 is still the pod from before (same UID u0)");

    let mut half = world();
    edit(half.pods.get_mut("web-0").unwrap(), |v| v["metadata"]["deletionTimestamp"] = json!(ts(90)));
    half.pods.remove("web-1");
    assert_eq!(
        waiting(pods::stable_identity(&set(2), &half, &none, Some(&baseline))),
        "waiting for web-0 to finish terminating and come back"
    );

    let after = restarted();
    assert_eq!(pods::stable_identity(&set(2), &after, &none, Some(&baseline)), Outcome::Pass);

    let mut lost = restarted();
    lost.pvcs.insert("www-web-1".into(), from(pvc("www-web-1", "c1-new", 106, "Bound")));
    let (reason, _) = not_yet(pods::stable_identity(&set(2), &lost, &none, Some(&baseline)));
    assert_eq!(reason, "the PVC www-web-1 is not the one from before (it was deleted): web-1 lost its data");
}

#[test]
fn stable_identity_without_a_baseline() {
    // From the history: the old pods were seen deleted.
    let h = history_of(&[
        pod(0, "u0", 0, Some(5), "nginx:mainline", "web-aaa"),
        pod(1, "u1", 6, Some(11), "nginx:mainline", "web-aaa"),
        pod(0, "u0b", 100, Some(105), "nginx:mainline", "web-aaa"),
        pod(1, "u1b", 106, Some(111), "nginx:mainline", "web-aaa"),
    ]);
    assert_eq!(pods::stable_identity(&set(2), &restarted(), &h, None), Outcome::Pass);
    // From timestamps: a pod younger than its claim is not the claim's first pod.
    let none = History::new(jiff::Timestamp::now());
    assert_eq!(pods::stable_identity(&set(2), &restarted(), &none, None), Outcome::Pass);
    let (reason, _) = not_yet(pods::stable_identity(&set(2), &world(), &none, None));
    assert_eq!(reason, "web-0 has not been deleted and re-created yet");
}

fn canary_params() -> CanaryParams {
    CanaryParams { statefulset: "web".into(), partition: 2, image: "nginx:1.13.12".into() }
}

fn rollout_params() -> RolloutParams {
    RolloutParams { statefulset: "web".into(), replicas: 3, image: "nginx:1.13.12".into() }
}

/// Three pods; the template at `image` with `partition`; web-2 (and below) at the new revision
/// as `new_from` says.
fn update_world(image: &str, partition: i32, new_from: u32, current: &str) -> Snapshot {
    let mut s = world();
    let mut sts = statefulset(3, image);
    sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(partition);
    sts["status"]["currentRevision"] = json!(current);
    sts["status"]["updateRevision"] = json!(if image == "nginx:mainline" { "web-aaa" } else { "web-bbb" });
    s.statefulsets.insert("web".into(), from(sts));
    for n in 0..3u32 {
        let (img, rev) = if n >= new_from { ("nginx:1.13.12", "web-bbb") } else { ("nginx:mainline", "web-aaa") };
        let created = 200 - 10 * n as i64;
        s.pods.insert(format!("web-{n}"), from(pod(n, &format!("u{n}-{rev}"), created, Some(created + 5), img, rev)));
    }
    s.pvcs.insert("www-web-2".into(), from(pvc("www-web-2", "c2", 20, "Bound")));
    s
}

#[test]
fn canary_in_the_objects() {
    let none = History::new(jiff::Timestamp::now());
    let p = canary_params();
    assert_eq!(update::canary(&p, &update_world("nginx:1.13.12", 2, 2, "web-aaa"), &none), Outcome::Pass);

    let (reason, field) = not_yet(update::canary(&p, &update_world("nginx:mainline", 0, 3, "web-aaa"), &none));
    assert_eq!(reason, "spec.updateStrategy.rollingUpdate.partition is 0; set it to 2 first, so that only the pods from web-2 up get the new image");
    assert_eq!(field.as_deref(), Some("spec.updateStrategy.rollingUpdate.partition"));
    let (reason, field) = not_yet(update::canary(&p, &update_world("nginx:mainline", 2, 3, "web-aaa"), &none));
    assert_eq!(reason, "the template's image is \"nginx:mainline\"; change it to \"nginx:1.13.12\"");
    assert_eq!(field.as_deref(), Some("spec.template.spec.containers[0].image"));
    assert_eq!(
        waiting(update::canary(&p, &update_world("nginx:1.13.12", 2, 3, "web-aaa"), &none)),
        "waiting for web-2 to be re-created with nginx:1.13.12"
    );
    // Image changed with no partition, seen by the tutor: every pod got it.
    let h = history_of(&[
        pod(2, "u2-web-bbb", 180, Some(185), "nginx:1.13.12", "web-bbb"),
        pod(1, "u1-web-bbb", 190, Some(195), "nginx:1.13.12", "web-bbb"),
    ]);
    let (reason, _) = not_yet(update::canary(&p, &update_world("nginx:1.13.12", 0, 1, "web-aaa"), &h));
    assert_eq!(
        reason,
        "web-1 already run \"nginx:1.13.12\": the update was not held at partition 2 (was the image changed before the partition was set?)"
    );
    // Done before the tutor watched: no proof left.
    let (reason, _) = not_yet(update::canary(&p, &update_world("nginx:1.13.12", 0, 0, "web-bbb"), &none));
    assert!(reason.starts_with("the update has already reached web-0, web-1; kubetutor was not watching"), "{reason}");
}

#[test]
fn canary_in_the_history_stays_proven() {
    let p = canary_params();
    let mut h = History::new(jiff::Timestamp::from_second(T0).unwrap());
    let now = jiff::Timestamp::from_second(T0 + 300).unwrap();
    let sts = |part: i32, image: &str| -> k8s_openapi::api::apps::v1::StatefulSet {
        let mut v = statefulset(3, image);
        v["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(part);
        from(v)
    };
    h.observe_set(Some(&sts(0, "nginx:mainline")), Some(&sts(2, "nginx:mainline")), now);
    h.observe_set(Some(&sts(2, "nginx:mainline")), Some(&sts(2, "nginx:1.13.12")), now);
    let p2: k8s_openapi::api::core::v1::Pod = from(pod(2, "u2-web-bbb", 180, Some(185), "nginx:1.13.12", "web-bbb"));
    h.observe_pod(None, Some(&p2), now);
    h.observe_set(Some(&sts(2, "nginx:1.13.12")), Some(&sts(0, "nginx:1.13.12")), now);
    assert!(update::canary_seen(&p, &h));
    let done = update_world("nginx:1.13.12", 0, 0, "web-bbb");
    assert_eq!(update::canary(&p, &done, &h), Outcome::Pass);
    // The same pod created while the partition was 0 proves nothing.
    let mut early = History::new(jiff::Timestamp::from_second(T0).unwrap());
    early.observe_pod(None, Some(&p2), now);
    assert!(!update::canary_seen(&p, &early));
}

#[test]
fn rollout_complete_in_order() {
    let none = History::new(jiff::Timestamp::now());
    let p = rollout_params();
    let done = update_world("nginx:1.13.12", 0, 0, "web-bbb");
    assert_eq!(update::rollout_complete(&p, &done, &none), Outcome::Pass);

    let (reason, field) = not_yet(update::rollout_complete(&p, &update_world("nginx:1.13.12", 2, 2, "web-aaa"), &none));
    assert_eq!(reason, "spec.updateStrategy.rollingUpdate.partition is 2: the pods below web-2 keep the old version; move it to 0 to update them");
    assert_eq!(field.as_deref(), Some("spec.updateStrategy.rollingUpdate.partition"));
    assert_eq!(
        waiting(update::rollout_complete(&p, &update_world("nginx:1.13.12", 0, 1, "web-aaa"), &none)),
        "waiting for the update to reach web-0"
    );
    assert_eq!(
        waiting(update::rollout_complete(&p, &update_world("nginx:1.13.12", 0, 0, "web-aaa"), &none)),
        "waiting for the StatefulSet to mark the update complete (status.currentRevision)"
    );
    // The history saw web-0 re-created before web-1.
    let h = history_of(&[
        pod(2, "u2-web-bbb", 180, Some(185), "nginx:1.13.12", "web-bbb"),
        pod(0, "u0-web-bbb", 200, Some(205), "nginx:1.13.12", "web-bbb"),
        pod(1, "u1-web-bbb", 190, Some(195), "nginx:1.13.12", "web-bbb"),
    ]);
    let (reason, _) = not_yet(update::rollout_complete(&p, &done, &h));
    assert_eq!(reason, "web-0 got the new version before web-1: a rolling update goes from the highest ordinal down");
    // The same from timestamps.
    let mut swapped = done.clone();
    swapped.pods.insert("web-0".into(), from(pod(0, "u0-web-bbb", 150, Some(155), "nginx:1.13.12", "web-bbb")));
    assert_eq!(
        not_yet(update::rollout_complete(&p, &swapped, &none)).0,
        "web-0 got the new version before web-1: a rolling update goes from the highest ordinal down"
    );
}
