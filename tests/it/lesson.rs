//! The StatefulSet lesson on the sandbox: the whole lesson solved with the reference solutions
//! and the learner's own actions (delete pods, scale, patch), every step passing in order; and
//! the common mistakes, each failing with its own message, field and blank.

use std::sync::Arc;
use std::time::Duration;

use kube_sandbox::SandboxConfig;
use kubetutor::cluster::apply::{apply_manifests, ApplyOptions};
use kubetutor::cluster::{self, Cluster, EmbeddedSandbox};
use kubetutor::grade::runner::Grader;
use kubetutor::grade::watched::{wait_for_step, wait_until, Watched};
use kubetutor::grade::{Outcome, StepReport, StepStatus};
use kubetutor::lesson::load;
use kubetutor::lesson::Lesson;

pub(crate) struct Tutor {
    pub cluster: Cluster,
    pub grader: Grader,
    pub watched: Watched,
    pub lesson: Arc<Lesson>,
    _sandbox: EmbeddedSandbox,
    _dir: tempfile::TempDir,
}

pub(crate) async fn tutor() -> Tutor {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig { speed: f64::INFINITY, ..Default::default() };
    let (cluster, sandbox) = cluster::start_sandbox(config, dir.path().join("kubeconfig"), "default").await.unwrap();
    let lesson = Arc::new(load::find_in("statefulset", None).unwrap());
    let grader = Grader::new(cluster.clone(), lesson.clone());
    let watched = Watched::start(&cluster).await.unwrap();
    Tutor { cluster, grader, watched, lesson, _sandbox: sandbox, _dir: dir }
}

const WAIT: Duration = Duration::from_secs(60);

impl Tutor {
    pub(crate) async fn apply(&self, yaml: &str) {
        apply_manifests(&self.cluster, yaml, ApplyOptions::default()).await.unwrap();
    }

    pub(crate) fn solution(&self, step: usize) -> String {
        load::solution_for(&self.lesson, step)
    }

    pub(crate) async fn passes(&mut self, step: usize) -> StepReport {
        wait_for_step(&mut self.grader, &mut self.watched, step, WAIT).await.unwrap()
    }

    /// Grade `step` until check `name` is NotYet with a reason containing `part`.
    pub(crate) async fn fails_with(&mut self, step: usize, name: &str, part: &str) -> Outcome {
        let report = wait_until(&mut self.grader, &mut self.watched, step, WAIT, |r| {
            r.checks.iter().any(|c| {
                c.name == name && matches!(&c.outcome, Outcome::NotYet { reason, .. } if reason.contains(part))
            })
        })
        .await
        .unwrap_or_else(|e| panic!("{name} never said {part:?}: {e}"));
        assert_eq!(report.status(), StepStatus::NotYet);
        report.checks.into_iter().find(|c| c.name == name).unwrap().outcome
    }
}

/// (reason, field, blank) of a NotYet.
fn concern(o: &Outcome) -> (String, Option<String>, Option<usize>) {
    match o {
        Outcome::NotYet { reason, concern, .. } => (reason.clone(), concern.field.clone(), concern.blank),
        other => panic!("expected NotYet, got {other:?}"),
    }
}

const SPEC: &str = "StatefulSet web agrees with the Service";
const RUNNING: &str = "web-0 and web-1 are running";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_a_cluster_ip_is_not_headless() {
    let mut t = tutor().await;
    t.apply(&t.solution(0).replace("  clusterIP: None\n", "")).await;
    let o = t.fails_with(0, "a headless Service", "spec.clusterIP is \"").await;
    let (reason, field, blank) = concern(&o);
    assert!(reason.ends_with("\": the Service has a virtual IP of its own, so it is not headless"), "{reason}");
    assert_eq!((field.as_deref(), blank), (Some("spec.clusterIP"), Some(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_service_name() {
    let mut t = tutor().await;
    t.apply(&t.solution(0)).await;
    t.passes(0).await;
    t.apply(&t.solution(1).replace("serviceName: \"nginx\"", "serviceName: \"ngnix\"")).await;
    let o = t.fails_with(1, SPEC, "spec.serviceName").await;
    let (reason, field, blank) = concern(&o);
    assert_eq!(
        reason,
        "spec.serviceName is \"ngnix\" but there is no Service \"ngnix\": the headless Service here is called \"nginx\""
    );
    assert_eq!((field.as_deref(), blank), (Some("spec.serviceName"), Some(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_mount_that_names_no_claim() {
    let mut t = tutor().await;
    t.apply(&t.solution(0)).await;
    t.passes(0).await;
    let web = t.solution(1).replacen(
        "- name: www\n          mountPath: /usr/share",
        "- name: data\n          mountPath: /usr/share",
        1,
    );
    assert_ne!(web, t.solution(1));
    // Accepted, as upstream accepts it; the controller cannot create web-0 and says so in a
    // FailedCreate event, which the check quotes.
    t.apply(&web).await;
    let o = t.fails_with(1, SPEC, "the StatefulSet reports: create Pod web-0 in StatefulSet web failed error").await;
    let (reason, field, blank) = concern(&o);
    assert!(
        reason.starts_with(
            "spec.template.spec.containers[0].volumeMounts[0].name is \"data\" but the claim template is called \"www\": a volumeMount must name a volume of the pod"
        ),
        "{reason}"
    );
    assert!(reason.contains("spec.containers[0].volumeMounts[0].name: Not found: \"data\""), "{reason}");
    assert_eq!((field.as_deref(), blank), (Some("spec.template.spec.containers[0].volumeMounts[0].name"), Some(7)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_name_the_service_does_not_use() {
    let mut t = tutor().await;
    t.apply(&t.solution(0)).await;
    t.passes(0).await;
    t.apply(&t.solution(1).replace("          name: web\n", "          name: http\n")).await;
    let o = t.fails_with(1, SPEC, "ports[0].name").await;
    let (reason, field, blank) = concern(&o);
    assert_eq!(
        reason,
        "spec.template.spec.containers[0].ports[0].name is \"http\" but the Service \"nginx\" sends traffic to the port named \"web\" (its targetPort)"
    );
    assert_eq!((field.as_deref(), blank), (Some("spec.template.spec.containers[0].ports[0].name"), Some(6)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_the_service_does_not_select() {
    let mut t = tutor().await;
    t.apply(&t.solution(0)).await;
    t.passes(0).await;
    t.apply(&t.solution(1).replace("app: nginx", "app: web")).await;
    let o = t.fails_with(1, SPEC, "selects").await;
    let (reason, field, blank) = concern(&o);
    assert_eq!(
        reason,
        "the Service \"nginx\" selects app=nginx but the pods are labelled app=web: the Service would find none of them"
    );
    assert_eq!((field.as_deref(), blank), (Some("spec.selector.matchLabels"), Some(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selector_that_does_not_match_the_template_is_refused() {
    let t = tutor().await;
    t.apply(&t.solution(0)).await;
    let web = t.solution(1).replacen("app: nginx", "app: web", 1);
    let e = apply_manifests(&t.cluster, &web, ApplyOptions::default()).await.unwrap_err();
    assert!(e.to_string().contains("`selector` does not match template `labels`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typo_in_the_image() {
    let mut t = tutor().await;
    t.apply(&t.solution(0)).await;
    t.passes(0).await;
    t.apply(&t.solution(1).replace("image: nginx:mainline", "image: nginx:mainlnie")).await;
    let o = t.fails_with(1, RUNNING, "cannot pull image").await;
    let (reason, field, blank) = concern(&o);
    assert!(reason.starts_with("web-0 cannot pull image \"nginx:mainlnie\" ("), "{reason}");
    assert_eq!((field.as_deref(), blank), (Some("spec.template.spec.containers[0].image"), None));
    // The spec itself is fine.
    let report = t.grader.grade_step(1, &t.watched.snapshot.clone(), &t.watched.history).await;
    assert!(report.checks.iter().any(|c| c.name == SPEC && c.outcome.is_pass()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_started_in_parallel_are_not_in_order() {
    let mut t = tutor().await;
    t.apply(&t.solution(0)).await;
    t.passes(0).await;
    t.apply(&t.solution(1).replace("  replicas: 2\n", "  replicas: 2\n  podManagementPolicy: Parallel\n")).await;
    t.passes(1).await;
    let o = t.fails_with(2, "web-1 was created only after web-0 was Ready", "was created before").await;
    let (reason, field, _) = concern(&o);
    assert_eq!(reason, "web-1 was created before web-0 was Ready: spec.podManagementPolicy is Parallel");
    assert_eq!(field.as_deref(), Some("spec.podManagementPolicy"));
}

mod whole {
    //! The whole lesson, step by step, the way a learner does it.

    use k8s_openapi::api::apps::v1::StatefulSet;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
    use serde_json::json;

    use super::*;

    fn sts(t: &Tutor) -> Api<StatefulSet> {
        Api::namespaced(t.cluster.client.clone(), "default")
    }

    /// Every check of `step` fails or waits now (the step is not done before its own actions).
    async fn not_yet_passing(t: &mut Tutor, step: usize) {
        let snapshot = t.watched.snapshot.clone();
        let report = t.grader.grade_step(step, &snapshot, &t.watched.history).await;
        assert_ne!(report.status(), StepStatus::Pass, "step {step} passed before its actions");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_step_passes_in_order() {
        let mut t = tutor().await;
        not_yet_passing(&mut t, 0).await;
        t.apply(&t.solution(0)).await;
        t.passes(0).await;

        not_yet_passing(&mut t, 1).await;
        t.apply(&t.solution(1)).await;
        t.passes(1).await;

        // Step 2 only looks: the order, the claims, DNS and HTTP through a probe pod.
        let report = t.passes(2).await;
        assert!(report.checks.iter().all(|c| c.outcome.is_pass()));
        let runs = t.grader.probe_runs();
        assert_eq!(runs, 1, "one probe pod for DNS and HTTP together");
        // Grading again with the same pods re-uses the probe's answers.
        t.passes(2).await;
        assert_eq!(t.grader.probe_runs(), runs);
        let created: Vec<String> = t
            .watched
            .history
            .entries
            .iter()
            .filter(|e| e.name.starts_with("web-"))
            .map(cluster::Entry::describe)
            .filter(|d| !d.contains("not Ready"))
            .collect();
        let pos = |s: &str| created.iter().position(|d| d == s).unwrap_or_else(|| panic!("{s} in {created:?}"));
        assert!(pos("web-0 Ready") < pos("created web-1 (nginx:mainline)"));

        // Step 3: the baseline is taken when the step begins; then the learner deletes the pods.
        let baseline = t.grader.begin_step(3, &t.watched.snapshot.clone()).unwrap();
        assert_eq!(baseline.pods.len(), 2);
        assert_eq!(baseline.claims.len(), 2);
        let o = t.fails_with(3, "web-0 and web-1 came back under the same names", "still the pod from before").await;
        assert!(matches!(o, Outcome::NotYet { .. }));
        let pods: Api<Pod> = Api::namespaced(t.cluster.client.clone(), "default");
        pods.delete_collection(&DeleteParams::default(), &ListParams::default().labels("app=nginx")).await.unwrap();
        let report = t.passes(3).await;
        assert_eq!(report.checks.len(), 3);
        assert!(t.grader.probe_runs() > runs, "new pods, new probe");
        // Step 2's checks still hold on the re-created pods.
        let snapshot = t.watched.snapshot.clone();
        let step2 = t.grader.grade_step(2, &snapshot, &t.watched.history).await;
        assert_eq!(step2.status(), StepStatus::Pass, "{step2:?}");

        // Step 4: scale, partition, new image on web-2 only, then partition 0.
        not_yet_passing(&mut t, 4).await;
        let pp = PatchParams::default();
        sts(&t).patch("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 3}}))).await.unwrap();
        wait_until(&mut t.grader, &mut t.watched, 4, WAIT, |r| r.checks[0].outcome.is_pass()).await.unwrap();
        let partition =
            json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}});
        sts(&t).patch("web", &pp, &Patch::Strategic(partition)).await.unwrap();
        let image: json_patch::Patch = serde_json::from_value(json!([
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.13.12"}
        ]))
        .unwrap();
        sts(&t).patch("web", &pp, &Patch::<()>::Json(image)).await.unwrap();
        let report =
            wait_until(&mut t.grader, &mut t.watched, 4, WAIT, |r| r.checks[1].outcome.is_pass()).await.unwrap();
        // The canary holds: web-0 and web-1 still run the old image.
        let snap = t.watched.snapshot.clone();
        let image_of =
            |n: u32| snap.pods[&format!("web-{n}")].spec.as_ref().unwrap().containers[0].image.clone().unwrap();
        assert_eq!(
            (image_of(0), image_of(1), image_of(2)),
            ("nginx:mainline".into(), "nginx:mainline".into(), "nginx:1.13.12".into())
        );
        let (reason, field, _) = concern(&report.checks[2].outcome);
        assert!(reason.starts_with("spec.updateStrategy.rollingUpdate.partition is 2"), "{reason}");
        assert_eq!(field.as_deref(), Some("spec.updateStrategy.rollingUpdate.partition"));

        let zero = json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}});
        sts(&t).patch("web", &pp, &Patch::Strategic(zero)).await.unwrap();
        let report = t.passes(4).await;
        assert!(report.checks.iter().all(|c| c.outcome.is_pass()));
        // The history shows the update going from web-2 down to web-0.
        let order: Vec<String> = t
            .watched
            .history
            .entries
            .iter()
            .filter(|e| e.describe().starts_with("created web-") && e.describe().contains("1.13.12"))
            .map(|e| e.name.clone())
            .collect();
        assert_eq!(order, ["web-2", "web-1", "web-0"]);

        // Every step still passes at the end (what `kubetutor check` grades).
        for step in 0..5 {
            let snapshot = t.watched.snapshot.clone();
            let r = t.grader.grade_step(step, &snapshot, &t.watched.history).await;
            assert_eq!(r.status(), StepStatus::Pass, "step {step}: {r:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_a_step_and_skip_ahead() {
    use kubetutor::grade::solve::{reset_step, solve_steps, STEP_TIMEOUT};
    let mut t = tutor().await;
    // Skip ahead to step 4: steps 0 to 3 solved by their references, the pods deleted once.
    solve_steps(&mut t.grader, &mut t.watched, 4, STEP_TIMEOUT).await.unwrap();
    assert!(t.grader.baseline(3).is_some());
    let uids: Vec<String> =
        t.watched.snapshot.pods_of("web").iter().map(|(_, p)| p.metadata.uid.clone().unwrap()).collect();
    assert_eq!(uids.len(), 2);
    // Reset step 1: everything the lesson made is deleted, then step 0 is solved again.
    let deleted = reset_step(&mut t.grader, &mut t.watched, 1).await.unwrap();
    for what in ["StatefulSet/web", "Service/nginx", "PersistentVolumeClaim/www-web-0"] {
        assert!(deleted.iter().any(|d| d.eq_ignore_ascii_case(what)), "{what} in {deleted:?}");
    }
    assert!(t.grader.baseline(3).is_none());
    t.passes(0).await;
    let snapshot = t.watched.snapshot.clone();
    assert!(snapshot.statefulsets.is_empty() && snapshot.pvcs.is_empty(), "{snapshot:?}");
    let report = t.grader.grade_step(1, &snapshot, &t.watched.history).await;
    assert_eq!(concern(&report.checks[0].outcome).0, "there is no StatefulSet \"web\" yet");
}
