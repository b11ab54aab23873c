//! The headless commands through the real binary: `kubetutor lessons`, `kubetutor lessons
//! validate` (the catalogue check CI runs), and `kubetutor check --json` against a sandbox
//! served on loopback, as against any cluster.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use kubetutor::cluster::apply::{apply_manifests, ApplyOptions};
use kubetutor::cluster::{connect_kubeconfig, KubeconfigOptions};
use kubetutor::grade::runner::Grader;
use kubetutor::grade::solve::{solve_steps, STEP_TIMEOUT};
use kubetutor::grade::watched::Watched;
use kubetutor::lesson::load;
use kubetutor::lesson::progress::Progress;
use serde_json::Value;

use crate::support::serve;

fn kubetutor(args: &[&str], state: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kubetutor"))
        .args(args)
        .env("KUBETUTOR_STATE_DIR", state)
        .env_remove("KUBETUTOR_LESSONS_DIR")
        .output()
        .unwrap()
}

#[test]
fn lessons_lists_and_validates_the_catalogue() {
    let state = tempfile::tempdir().unwrap();
    let out = kubetutor(&["lessons"], state.path());
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("statefulset  StatefulSets: stable names, their own storage, ordered updates (5 steps)\n"),
        "{text}"
    );

    let out = kubetutor(&["lessons", "validate"], state.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for step in [
        "step 0 (headless-service)",
        "step 1 (statefulset)",
        "step 2 (ordered-creation)",
        "step 3 (stable-identity)",
        "step 4 (canary)",
    ] {
        assert!(text.contains(&format!("ok   {step}: the reference solution passes")), "{step} in {text}");
    }
    assert!(text.contains("ok   step 1 (statefulset): the starter is refused as it is ("), "{text}");
    assert!(text.ends_with("all lessons valid\n"), "{text}");
}

#[test]
fn validate_reports_a_broken_lesson() {
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lesson = dir.path().join("broken");
    std::fs::create_dir_all(&lesson).unwrap();
    std::fs::write(lesson.join("text.md"), "# Hi\n").unwrap();
    std::fs::write(
        lesson.join("svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: nginx\nspec:\n  ports: [{port: 80}]\n",
    )
    .unwrap();
    std::fs::write(
        lesson.join("lesson.yaml"),
        "format_version: 1\ntitle: Broken\nsummary: Its solution is not headless.\nsteps:\n  - id: svc\n    title: Service\n    text: text.md\n    \
         checks: [{name: headless, kind: headless_service, params: {}}]\n    solution: [svc.yaml]\nrecap: text.md\n",
    )
    .unwrap();
    let out = kubetutor(
        &["lessons", "validate", "--lesson", "broken", "--timeout", "2", "--lessons-dir", dir.path().to_str().unwrap()],
        state.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL broken: step 0 (svc): the reference solution does not pass: step 0 did not pass within"),
        "{text}"
    );
    assert!(text.contains("spec.clusterIP is"), "{text}");
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_json_grades_a_cluster() {
    let served = serve().await;
    let state = tempfile::tempdir().unwrap();
    let kubeconfig = state.path().join("kubeconfig");
    std::fs::write(&kubeconfig, &served.kubeconfig).unwrap();
    let kc = kubeconfig.to_str().unwrap().to_string();
    let opts = KubeconfigOptions { kubeconfig: Some(kubeconfig.clone()), ..Default::default() };
    let cluster = connect_kubeconfig(&opts).await.unwrap();
    let lesson = Arc::new(load::find_in("statefulset", None).unwrap());
    let check = |args: &[&str]| {
        let mut all = vec!["check", "--json", "--kubeconfig", &kc];
        all.extend_from_slice(args);
        let all: Vec<String> = all.iter().map(ToString::to_string).collect();
        let state = state.path().to_path_buf();
        async move {
            tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = all.iter().map(String::as_str).collect();
                kubetutor(&refs, &state)
            })
            .await
            .unwrap()
        }
    };

    // Step 0 done, and a StatefulSet with a misspelt serviceName.
    apply_manifests(&cluster, &load::solution_for(&lesson, 0), ApplyOptions::default()).await.unwrap();
    let wrong = load::solution_for(&lesson, 1).replace("serviceName: \"nginx\"", "serviceName: \"ngnix\"");
    apply_manifests(&cluster, &wrong, ApplyOptions::default()).await.unwrap();
    let out = check(&["--step", "1"]).await;
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    assert_eq!(v["lesson"], "statefulset");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!((steps[0]["index"].as_u64(), steps[0]["id"].as_str()), (Some(1), Some("statefulset")));
    assert_eq!(steps[0]["title"], "The StatefulSet web");
    assert_eq!(steps[0]["status"], "not_yet");
    let spec = &steps[0]["checks"][0];
    assert_eq!(spec["name"], "StatefulSet web agrees with the Service");
    assert_eq!(spec["status"], "not_yet");
    assert_eq!(
        spec["message"],
        "spec.serviceName is \"ngnix\" but there is no Service \"ngnix\": the headless Service here is called \"nginx\""
    );
    assert_eq!(spec["object"], "StatefulSet/web");
    assert_eq!(spec["field"], "spec.serviceName");
    assert_eq!(spec["blank"], 0);
    // serviceName cannot change: both ways out.
    let hint = spec["hint"].as_str().unwrap();
    assert!(hint.starts_with("spec.serviceName cannot change on an existing StatefulSet. Either create the headless Service under the name \"ngnix\""), "{hint}");
    assert!(hint.contains("or delete the StatefulSet (:delete statefulset web; its claims stay"), "{hint}");

    // The whole lesson solved by the reference solutions (the StatefulSet re-made first).
    kubetutor::cluster::apply::reset_lesson_objects(&cluster).await.unwrap();
    let mut grader = Grader::new(cluster.clone(), lesson.clone());
    let mut watched = Watched::start(&cluster).await.unwrap();
    solve_steps(&mut grader, &mut watched, 5, STEP_TIMEOUT).await.unwrap();

    // Without the tutor's records the canary cannot be proven any more...
    let out = check(&[]).await;
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    let statuses: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    // (Step 3 is then judged from second-resolution timestamps, which the sandbox at infinite
    // speed may give the pods and their claims alike: not asserted here.)
    assert_eq!(statuses[..3], ["pass", "pass", "pass"], "{v:#}");
    assert_eq!(statuses[4], "not_yet", "{v:#}");
    let canary = &v["steps"][4]["checks"][1];
    assert!(canary["message"].as_str().unwrap().contains("kubetutor was not watching"), "{canary}");
    assert_eq!(v["steps"][4]["checks"][0]["message"], "ok");

    // ...with the progress the tutor saved (what it proved, the pods before step 3), all pass.
    let mut progress = Progress { lesson: "statefulset".into(), ..Default::default() };
    grader.save_into(&lesson, &mut progress);
    let path = state.path().join("progress/statefulset.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_string(&progress).unwrap()).unwrap();
    let out = check(&[]).await;
    assert_eq!(out.status.code(), Some(0), "{:#}", json_of(&out));
    // And as text.
    let text_out = {
        let (kc, state) = (kc.clone(), state.path().to_path_buf());
        tokio::task::spawn_blocking(move || kubetutor(&["check", "--kubeconfig", &kc, "--step", "0"], &state))
            .await
            .unwrap()
    };
    assert_eq!(text_out.status.code(), Some(0));
    let text = String::from_utf8(text_out.stdout).unwrap();
    assert!(text.contains("\nstep 0 A headless Service: pass\n  ok  a headless Service\n"), "{text}");

    // A step that does not exist is an error (exit 2).
    let out = check(&["--step", "9"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "kubetutor check: the lesson has steps 0 to 4; there is no step 9\n"
    );
}
