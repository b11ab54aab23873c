//! The real binary in tmux: a tutor session (step 0 filled, applied, passed) is recorded,
//! `kubetutor record export` writes it to a file, and `kubetutor review FILE` steps through it
//! with the keys, at 120x40 and 80x24. Needs `tmux` on PATH.

use std::process::Command;

use crate::tui_e2e::Tmux;

#[test]
fn record_export_and_review_with_keys() {
    let state = tempfile::tempdir().unwrap();
    {
        let tmux = Tmux::start(state.path(), "review-rec");
        tmux.wait(20, "the first frame", |s| s.contains("Editor: nginx-service.yaml") && s.contains("connected"));
        tmux.fill(&["nginx", "None", "app", "nginx", "web", "web"]);
        tmux.wait(5, "no blanks", |s| s.contains("no blanks left"));
        tmux.keys(&["C-s"]);
        tmux.wait(30, "step 0 to pass", |s| s.contains("Step passed"));
        tmux.keys(&["C-q"]);
        tmux.wait(10, "the tutor to quit", |s| s.contains("kubetutor-exited-0"));
    }
    let file = state.path().join("shared.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_kubetutor"))
        .args(["record", "export"])
        .arg(&file)
        .env("KUBETUTOR_STATE_DIR", state.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("record format kubetutor-record version 1"), "{stdout}");
    let first = std::fs::read_to_string(&file).unwrap().lines().next().unwrap().to_string();
    assert!(first.contains("\"format\":\"kubetutor-record\"") && first.contains("\"version\":1"), "{first}");

    let tmux = Tmux::start_args(state.path(), "review", 120, 40, &format!("review {}", file.display()));
    let s = tmux.wait(10, "the review", |s| s.contains("· event 0/") && s.contains("recording began"));
    assert!(s.contains("▶ 0  A headless Service"), "{s}");
    // To the pass of step 0: the step list shows it done, the editor the YAML applied.
    tmux.keys(&["]"]);
    let s = tmux.wait(5, "step 0 passed", |s| s.contains("step 0 passed: A headless Service"));
    assert!(s.contains("✓ 0  A headless Service"), "{s}");
    assert!(s.contains("editor: applied") && s.contains("clusterIP: None"), "{s}");
    // One event back: not passed yet.
    tmux.keys(&["Left"]);
    let s = tmux.wait(5, "one event back", |s| !s.contains("step 0 passed: A headless"));
    assert!(!s.contains("✓ 0  A headless Service"), "{s}");
    // Search: the first event naming the Service (its apply, or it appearing, whichever the
    // tutor saw first), then the next one.
    let bar = |s: &str| s.lines().find(|l| l.contains("· event ")).unwrap_or_default().to_string();
    tmux.keys(&["Home", "/"]);
    tmux.text("service nginx");
    tmux.keys(&["Enter"]);
    let s = tmux.wait(5, "the Service found", |s| bar(s).contains("service") && !bar(s).contains("event 0/"));
    let found = bar(&s);
    assert!(found.contains("· service nginx") || found.contains("service/nginx created"), "{s}");
    tmux.keys(&["n"]);
    let s = tmux.wait(5, "the next match", |s| bar(s) != found);
    assert!(bar(&s).contains("service") && bar(&s).contains("nginx"), "{s}");
    tmux.keys(&["End"]);
    let s = tmux.wait(5, "the last event", |s| {
        s.lines().any(|l| {
            l.contains("· event ")
                && l.split("event ").nth(1).is_some_and(|r| {
                    let (a, b) = r.split_once(' ').map_or(r, |(x, _)| x).split_once('/').unwrap_or_default();
                    !a.is_empty() && a == b
                })
        })
    });
    assert!(s.contains("✓ 0  A headless Service"), "{s}");
    tmux.keys(&["q"]);
    tmux.wait(5, "review to quit", |s| s.contains("kubetutor-exited-0"));
    drop(tmux);

    // A narrow terminal: the tabbed panes and the review bar.
    let tmux = Tmux::start_args(state.path(), "review-narrow", 80, 24, &format!("review {}", file.display()));
    tmux.wait(10, "the narrow review", |s| s.contains("· event 0/") && s.contains("Tab switches"));
    tmux.keys(&["]"]);
    tmux.wait(5, "step 0 passed, narrow", |s| s.contains("step 0 passed"));
    tmux.keys(&["q"]);
    tmux.wait(5, "review to quit", |s| s.contains("kubetutor-exited-0"));

    // A file that is not a record: a clear error naming it, no screen taken.
    let bad = state.path().join("bad.jsonl");
    std::fs::write(&bad, "hello\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubetutor")).arg("review").arg(&bad).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&format!("{}:1: not a kubetutor session record", bad.display())), "{err}");
}
