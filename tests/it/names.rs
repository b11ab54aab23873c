//! The lesson with the learner's own names on the sandbox: a headless Service called
//! `frontend` selecting `tier: edu` passes every step, and the solution actions and hints use
//! those names; a rollout stuck on a pod of a broken revision is explained until the pod is
//! deleted; a change of a StatefulSet field that cannot change gets both ways out.

use kubetutor::checks::Names;
use kubetutor::cluster::apply::{apply_manifests, ApplyOptions};
use kubetutor::grade::solve::{solve_step, STEP_TIMEOUT};
use kubetutor::grade::{Outcome, StepStatus};

use crate::lesson::{tutor, Tutor};

/// The reference solution of `step` with the learner's names: Service `frontend`, label
/// `tier: edu`.
fn renamed(t: &Tutor, step: usize) -> String {
    t.solution(step)
        .replace("metadata:\n  name: nginx\n", "metadata:\n  name: frontend\n")
        .replace("serviceName: \"nginx\"", "serviceName: \"frontend\"")
        .replace("app: nginx", "tier: edu")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lesson_passes_with_a_service_and_labels_of_the_learners_own() {
    let mut t = tutor().await;
    let service = renamed(&t, 0);
    assert!(service.contains("name: frontend") && service.contains("tier: edu"), "{service}");
    t.apply(&service).await;
    t.passes(0).await;
    let web = renamed(&t, 1);
    assert!(web.contains("serviceName: \"frontend\""), "{web}");
    t.apply(&web).await;
    t.passes(1).await;
    t.passes(2).await;

    // The step's hint and its solution action are in the learner's names.
    let names = Names::find(&t.watched.snapshot, &t.lesson.names);
    assert_eq!(names.service, "frontend");
    assert_eq!(names.fill(&t.lesson.steps[3].hints[0]), "Delete both pods at once: :delete pod -l tier=edu");
    assert_eq!(
        names.fill(&t.lesson.steps[2].hints[1]),
        "From the tutor: :nslookup web-0.frontend and :wget -q -O - web-0.frontend"
    );
    // Solved the way the learner would: `delete pod -l {{selector}}` deletes the pods labelled
    // tier=edu (with app=nginx it would delete nothing and the step would never pass).
    let report = solve_step(&mut t.grader, &mut t.watched, 3, STEP_TIMEOUT).await.unwrap();
    assert_eq!(report.status(), StepStatus::Pass, "{report:?}");
    let report = solve_step(&mut t.grader, &mut t.watched, 4, STEP_TIMEOUT).await.unwrap();
    assert_eq!(report.status(), StepStatus::Pass, "{report:?}");
    for step in 0..5 {
        let snapshot = t.watched.snapshot.clone();
        let r = t.grader.grade_step(step, &snapshot, &t.watched.history).await;
        assert_eq!(r.status(), StepStatus::Pass, "step {step}: {r:?}");
    }
}

const RUNNING: &str = "web-0 and web-1 are running";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_stuck_on_a_broken_pod_says_to_delete_it() {
    let mut t = tutor().await;
    t.apply(&t.solution(0)).await;
    t.passes(0).await;
    let broken = t.solution(1).replace("image: nginx:mainline", "image: nginx:mainlinee");
    t.apply(&broken).await;
    t.fails_with(1, RUNNING, "cannot pull image \"nginx:mainlinee\"").await;
    // The template is fixed, but web-0 of the broken revision is never replaced by the
    // StatefulSet (it never became Ready): the check says so and what to do.
    t.apply(&t.solution(1)).await;
    let o = t.fails_with(1, RUNNING, "a StatefulSet does not replace a pod that never became Ready").await;
    let Outcome::NotYet { reason, hint, .. } = o else { unreachable!() };
    assert!(reason.starts_with("web-0 cannot pull image \"nginx:mainlinee\""), "{reason}");
    assert!(reason.contains("web-0 is still the pod of the old revision web-"), "{reason}");
    assert_eq!(
        hint.as_deref(),
        Some(":delete pod web-0: the StatefulSet then re-creates it from the fixed template (upstream calls this a forced rollback)")
    );
    // And the watch pane's line about the controller says the same.
    let waits = kubetutor::app::watch::controller_waits(&t.watched.snapshot);
    assert!(waits.iter().any(|w| w.contains("web-0 is stuck on the old revision")), "{waits:?}");
    // Deleting the pod is the way out.
    let cmd = kubetutor::cluster::kubectl::parse("delete pod web-0").unwrap();
    kubetutor::cluster::kubectl::execute(&t.cluster, &cmd, None).await.unwrap();
    t.passes(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_a_field_that_cannot_change_gives_both_ways_out() {
    let mut t = tutor().await;
    t.apply(&t.solution(0)).await;
    t.apply(&t.solution(1)).await;
    t.passes(1).await;
    let moved = t.solution(1).replace("serviceName: \"nginx\"", "serviceName: \"frontend\"");
    let e = apply_manifests(&t.cluster, &moved, ApplyOptions::default()).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("updates to statefulset spec for fields other than"), "{text}");
    assert!(
        text.contains(
            "StatefulSet web already exists, and spec.serviceName cannot change. Either create the headless Service under the name \
             the StatefulSet already has, or delete the StatefulSet (:delete statefulset web; its PersistentVolumeClaims stay, \
             and so does their data) and apply again"
        ),
        "{text}"
    );
    let cause = e.causes.iter().find(|c| c.field == "spec.serviceName").expect("a cause on spec.serviceName");
    assert_eq!(cause.message, "cannot change on an existing StatefulSet; it is \"nginx\" there");
    // The selector: the other way is the Service's selector.
    let relabelled = t.solution(1).replace("app: nginx", "tier: edu");
    let e = apply_manifests(&t.cluster, &relabelled, ApplyOptions::default()).await.unwrap_err();
    assert!(e.causes.iter().any(|c| c.field == "spec.selector"), "{e}");
    assert!(e.message.contains("Either change the Service's selector to the labels the pods have now"), "{e}");
    // Nothing else about the object was refused: the template alone still applies.
    let template_only = t.solution(1).replace("image: nginx:mainline", "image: nginx:1.13.12");
    apply_manifests(&t.cluster, &template_only, ApplyOptions::default()).await.unwrap();
}
