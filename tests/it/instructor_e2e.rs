//! The real binary in tmux, as a workshop runs: `kubetutor sandbox --attendees 2`, each
//! attendee's tutor on their own kubeconfig (attendee-01 passes step 0), and the instructor's
//! `kubetutor progress`: the table, Enter on attendee-01 opens the live review of their
//! namespace (their steps, the Service they applied), `]` goes to attendee-02, Esc back to the
//! table, q quits. Needs `tmux` on PATH.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::tui_e2e::Tmux;

/// `kubetutor sandbox`, stopped when dropped.
struct SandboxProcess(Child);

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sandbox(dir: &Path) -> SandboxProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubetutor"))
        .args(["sandbox", "--attendees", "2", "--speed", "20", "--kubeconfig"])
        .arg(dir.join("admin.kubeconfig"))
        .env("KUBETUTOR_STATE_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let sandbox = SandboxProcess(child);
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("Press Ctrl-C to stop.") {
            break;
        }
    }
    // Keep reading (and dropping) what it prints, so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(dir.join("attendee-02.kubeconfig").exists());
    sandbox
}

#[test]
fn progress_enter_reviews_one_attendee_live() {
    let ws = tempfile::tempdir().unwrap();
    let _sandbox = start_sandbox(ws.path());
    let kubeconfig = |name: &str| ws.path().join(format!("{name}.kubeconfig")).display().to_string();
    let (one_state, two_state, instructor_state) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // attendee-01 passes step 0 and goes on to step 1; attendee-02 just opens the tutor.
    let one =
        Tmux::start_args(one_state.path(), "ws-one", 120, 40, &format!("--kubeconfig {}", kubeconfig("attendee-01")));
    let two =
        Tmux::start_args(two_state.path(), "ws-two", 120, 40, &format!("--kubeconfig {}", kubeconfig("attendee-02")));
    one.wait(20, "attendee-01's tutor", |s| s.contains("Editor: nginx-service.yaml") && s.contains("connected"));
    two.wait(20, "attendee-02's tutor", |s| s.contains("Editor: nginx-service.yaml") && s.contains("connected"));
    one.fill(&["nginx", "None", "app", "nginx", "web", "web"]);
    one.wait(5, "no blanks", |s| s.contains("no blanks left"));
    one.keys(&["C-s"]);
    one.wait(30, "step 0 to pass", |s| s.contains("Step passed"));
    one.keys(&["C-n"]);
    one.wait(10, "step 1", |s| s.contains("Editor: web.yaml"));

    let progress = Tmux::start_args(
        instructor_state.path(),
        "ws-progress",
        120,
        40,
        &format!("progress --kubeconfig {}", kubeconfig("admin")),
    );
    let s = progress.wait(20, "both attendees in the table", |s| {
        s.contains("attendee-01   1 The StatefulSet web") && s.contains("attendee-02   0 A headless Service")
    });
    assert!(s.contains("kubetutor progress · context kubetutor-sandbox · 2 learners"), "{s}");
    assert!(s.contains("▸ attendee-01") && s.contains("Enter review"), "{s}");
    progress.keys(&["Down", "Up", "Enter"]);
    let s = progress.wait(20, "the live review of attendee-01", |s| {
        s.contains("live review of attendee-01 (1/2) · read-only") && s.contains("✓ 0  A headless Service")
    });
    assert!(s.contains("Editor: web.yaml") && s.contains("]/n next"), "{s}");
    // Step 0 in their step list: the Service as they applied it.
    progress.keys(&["Tab", "Up", "Enter"]);
    let s = progress.wait(10, "attendee-01's Service", |s| s.contains("# attendee-01 (live; read-only)"));
    assert!(s.contains("clusterIP: None"), "{s}");
    // The next attendee, then the table again.
    progress.keys(&["]"]);
    let s = progress.wait(20, "the live review of attendee-02", |s| s.contains("live review of attendee-02 (2/2)"));
    assert!(s.contains("▶ 0  A headless Service"), "{s}");
    progress.keys(&["Escape"]);
    progress.wait(10, "the table again", |s| s.contains("▸ attendee-02") && s.contains("Enter review"));
    progress.keys(&["q"]);
    progress.wait(10, "progress to quit", |s| s.contains("kubetutor-exited-0"));

    // The attendee's own tutor still stands where it was (nothing of the review reached it).
    let s = one.capture();
    assert!(s.contains("Editor: web.yaml") && s.contains("ns attendee-01"), "{s}");
}
