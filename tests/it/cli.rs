//! The real binary's cluster commands against a served sandbox, as an instructor or learner
//! types them: `reset` (asks first, removes only labelled objects), `doctor --json`, and
//! `progress --once`.

use std::io::Write;
use std::process::{Command, Stdio};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube_sandbox::SandboxConfig;
use serde_json::json;

use super::support::serve_with;

fn kubetutor(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubetutor"))
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_doctor_and_progress_from_the_command_line() {
    let served = serve_with(SandboxConfig { speed: f64::INFINITY, ..Default::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("admin.kubeconfig");
    std::fs::write(&kc, &served.kubeconfig).unwrap();
    let kc = kc.to_str().unwrap().to_string();
    let cms: Api<ConfigMap> = Api::namespaced(served.client().await, "default");
    for (name, labelled) in [("lesson-made", true), ("learners-own", false)] {
        let mut cm = json!({"metadata": {"name": name}, "data": {"a": "b"}});
        if labelled {
            cm["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "kubetutor"});
        }
        cms.create(&PostParams::default(), &serde_json::from_value(cm).unwrap()).await.unwrap();
    }

    let (code, out, _) = kubetutor(&["reset", "--kubeconfig", &kc], "n\n");
    assert_eq!(code, 0);
    assert!(out.contains("[y/N]") && out.ends_with("Nothing deleted.\n"), "{out}");
    assert!(cms.get_opt("lesson-made").await.unwrap().is_some());

    let (code, out, err) = kubetutor(&["reset", "--kubeconfig", &kc, "--yes"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Deleted 1 objects: ConfigMap/lesson-made\n");
    assert!(cms.get_opt("lesson-made").await.unwrap().is_none());
    assert!(cms.get_opt("learners-own").await.unwrap().is_some(), "an unlabelled object was touched");

    let (code, out, err) = kubetutor(&["doctor", "--kubeconfig", &kc, "--json"], "");
    assert_eq!(code, 0, "{out}{err}");
    let findings: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let checks: Vec<&str> = findings.iter().map(|f| f["check"].as_str().unwrap()).collect();
    assert_eq!(checks, ["API server", "namespace", "RBAC", "StorageClass", "cluster DNS", "image", "image", "image"]);
    assert!(findings.iter().all(|f| f["level"] == "ok"), "{out}");

    let (code, out, _) = kubetutor(&["progress", "--once", "--kubeconfig", &kc], "");
    assert_eq!(code, 0);
    assert!(out.starts_with("No learner has published progress yet"), "{out}");

    let (code, _, err) = kubetutor(&["doctor", "--kubeconfig", "/nonexistent/kubeconfig"], "");
    assert_eq!(code, 2);
    assert!(err.starts_with("kubetutor: cannot read the kubeconfig"), "{err}");
}

/// A sandbox that has stopped, and no kubeconfig at all: `check` and `doctor` say what is
/// going on and what to do, once, in words.
#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_sandbox_or_no_kubeconfig_is_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("sandbox.kubeconfig");
    {
        let served = serve_with(SandboxConfig { speed: f64::INFINITY, ..Default::default() }).await;
        std::fs::write(&kc, &served.kubeconfig).unwrap();
    }
    // The sandbox is gone with `served`; wait until its port refuses.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let kc = kc.to_str().unwrap().to_string();
    let (code, _, err) = kubetutor(&["check", "--kubeconfig", &kc], "");
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("ServiceError"), "{err}");
    assert!(err.contains("connection refused"), "{err}");
    assert!(err.contains("lives only while `kubetutor` or `kubetutor sandbox` runs"), "{err}");
    let (code, out, _) = kubetutor(&["doctor", "--kubeconfig", &kc], "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("lives only while") && !out.contains("minikube"), "{out}");
    // The tutor itself, on that kubeconfig: nothing answers (not "the namespace is missing").
    let (code, _, err) = kubetutor(&["--kubeconfig", &kc], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot reach the cluster of context kubetutor-sandbox"), "{err}");
    assert!(err.contains("lives only while") && !err.contains("does not exist"), "{err}");

    let missing = dir.path().join("none.kubeconfig");
    let (code, _, err) = kubetutor(&["doctor", "--kubeconfig", missing.to_str().unwrap()], "");
    assert_ne!(code, 0);
    assert_eq!(err.matches("No such file").count(), 1, "the reason once: {err}");
    assert!(err.contains("run `kubetutor` alone"), "{err}");
}

/// The binary with `args`, its state in `state`: (exit status, stdout, stderr).
fn kubetutor_in(state: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubetutor"))
        .args(args)
        .env("KUBETUTOR_STATE_DIR", state)
        .env_remove("KUBECONFIG")
        .env_remove("KUBETUTOR_LESSONS_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A subcommand that fails says why in one line on stderr, beginning with the command, each
/// cause once, prints nothing on stdout and exits 2.
#[test]
fn a_failing_subcommand_says_why_on_stderr_and_exits_2() {
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let cases: [(&[&str], &str); 6] = [
        (&["check", "--kubeconfig", "/nonexistent/kubeconfig"], "kubetutor check: cannot read the kubeconfig: "),
        (&["doctor", "--kubeconfig", "/nonexistent/kubeconfig"], "kubetutor: cannot read the kubeconfig: "),
        (&["review", "/nonexistent/session.jsonl"], "kubetutor: cannot read /nonexistent/session.jsonl: "),
        (
            &["sandbox", "--listen", "192.0.2.1:0"],
            "kubetutor: refusing to listen on 192.0.2.1:0: it is not a loopback address",
        ),
        (
            &["lessons", "validate", "--lesson", "nope"],
            "kubetutor lessons validate: there is no lesson called \"nope\"",
        ),
        (&["record", "export", out.to_str().unwrap()], "kubetutor: no session record of lesson statefulset under "),
    ];
    for (args, starts) in cases {
        let (code, stdout, stderr) = kubetutor_in(state.path(), args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.starts_with(starts), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
    let (_, _, stderr) = kubetutor_in(state.path(), &["review", "/nonexistent/session.jsonl"]);
    assert_eq!(stderr.matches("No such file").count(), 1, "the cause once: {stderr}");
    assert!(!out.exists());
}

/// What clap refuses, it words, with exit status 2; help and the version are status 0 on stdout.
#[test]
fn usage_errors_are_claps_and_exit_2() {
    let state = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--bogus"], "error: unexpected argument '--bogus' found"),
        (
            &["--speed", "2", "--kubeconfig", "k.yaml"],
            "error: the argument '--speed <X>' cannot be used with '--kubeconfig <FILE>'",
        ),
        (&["sandbox", "--speed", "0"], "error: invalid value '0' for '--speed <X>': it must be a positive number"),
        (&["check", "--step", "one"], "error: invalid value 'one' for '--step <N>'"),
        (&["review", "--theme", "pink"], "error: invalid value 'pink' for '--theme <THEME>'"),
    ];
    for (args, starts) in cases {
        let (code, stdout, stderr) = kubetutor_in(state.path(), args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.starts_with(starts), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
    let (code, stdout, _) = kubetutor_in(state.path(), &["sandbox", "--help"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("Run the embedded sandbox cluster on its own"), "{stdout}");
    let (code, stdout, _) = kubetutor_in(state.path(), &["--version"]);
    assert_eq!((code, stdout.as_str()), (0, concat!("kubetutor ", env!("CARGO_PKG_VERSION"), "\n")));
    // Nothing ran: no state was written.
    assert_eq!(std::fs::read_dir(state.path()).unwrap().count(), 0);
}
