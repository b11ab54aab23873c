//! The real `kubetutor` binary in tmux, driven as a person would: fill the blanks of step 0,
//! apply, see the check pass; fill step 1, apply, and watch the pods appear in order.
//! Needs `tmux` on PATH.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(state_dir: &Path, name: &str) -> Tmux {
        let session = format!("kubetutor-e2e-{name}-{}", std::process::id());
        // After the tutor exits, the shell prints its exit code on the (restored) normal screen.
        let cmd = format!(
            "env KUBETUTOR_STATE_DIR={} NO_COLOR= {} --speed 20; echo kubetutor-exited-$?; sleep 30",
            state_dir.display(),
            env!("CARGO_BIN_EXE_kubetutor")
        );
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", "120", "-y", "40", &cmd])
            .status()
            .expect("tmux must be installed for the end-to-end test");
        assert!(status.success(), "tmux new-session failed");
        Tmux { session }
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux").args(["send-keys", "-t", &self.session]).args(keys).status().unwrap();
        assert!(status.success());
    }

    fn text(&self, text: &str) {
        let status = Command::new("tmux").args(["send-keys", "-t", &self.session, "-l", text]).status().unwrap();
        assert!(status.success());
    }

    /// The pid of kubetutor: the child of the pane's shell (`env` execs it).
    fn pid(&self) -> String {
        let out = Command::new("tmux").args(["list-panes", "-t", &self.session, "-F", "#{pane_pid}"]).output().unwrap();
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().next().expect("kubetutor runs in the pane").to_string()
    }

    fn capture(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.session]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Poll the screen until `f` holds, failing with the last screen after `secs`.
    fn wait(&self, secs: u64, what: &str, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.capture();
            if f(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn fill(&self, values: &[&str]) {
        for v in values {
            self.keys(&["C-n"]);
            self.text(v);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.session]).status();
    }
}

/// The row of the pod table for `pod`, if the screen shows one.
fn pod_row<'a>(screen: &'a str, pod: &str) -> Option<&'a str> {
    screen.lines().find_map(|l| {
        let cell = l.split('│').find(|c| c.trim_start().starts_with(&format!("{pod} ")))?;
        cell.contains('/').then_some(cell)
    })
}

#[test]
fn fill_apply_pass_and_watch_pods_start_in_order() {
    let state = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(state.path(), "lesson");
    tmux.wait(20, "the first frame", |s| s.contains("Editor: nginx-service.yaml") && s.contains("connected"));
    tmux.wait(5, "five blanks", |s| s.contains("5 blanks left"));
    tmux.fill(&["None", "app", "nginx", "web", "web"]);
    tmux.wait(5, "no blanks", |s| s.contains("no blanks left"));
    tmux.keys(&["C-s"]);
    let screen = tmux.wait(30, "step 0 to pass", |s| s.contains("Step passed"));
    assert!(screen.contains("✓ 0  A headless Service"), "{screen}");
    // The passed step waits for the learner: still step 0 a while later, then Ctrl-N goes on.
    std::thread::sleep(Duration::from_millis(1500));
    let screen = tmux.capture();
    assert!(screen.contains("Editor: nginx-service.yaml") && screen.contains("Ctrl-N next step"), "{screen}");
    tmux.keys(&["C-n"]);
    tmux.wait(5, "step 1", |s| s.contains("Editor: web.yaml"));
    tmux.fill(&["nginx", "app", "nginx", "app", "nginx", "www", "web", "www", "www"]);
    tmux.wait(5, "no blanks in web.yaml", |s| s.contains("no blanks left"));
    tmux.keys(&["C-s"]);
    // web-0 must be on screen before web-1 ever is, and web-1 only once web-0 is Ready.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen_web0 = false;
    let screen = loop {
        let screen = tmux.capture();
        let (w0, w1) = (pod_row(&screen, "web-0"), pod_row(&screen, "web-1"));
        if w1.is_some() {
            assert!(seen_web0 || w0.is_some(), "web-1 appeared before web-0:\n{screen}");
        }
        seen_web0 |= w0.is_some();
        if w0.is_some_and(|r| r.contains("Running")) && w1.is_some_and(|r| r.contains("1/1")) {
            break screen;
        }
        assert!(Instant::now() < deadline, "pods did not come up:\n{screen}");
        std::thread::sleep(Duration::from_millis(30));
    };
    assert!(seen_web0);
    let order = ["created web-0", "web-0 Ready", "created web-1", "web-1 Ready"];
    let at: Vec<usize> = order.iter().map(|e| screen.find(e).unwrap_or_else(|| panic!("no {e}:\n{screen}"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "timeline out of order:\n{screen}");
    tmux.keys(&["C-q"]);
    tmux.wait(5, "a clean exit", |s| s.contains("kubetutor-exited-0") && !s.contains("Editor:"));
    let draft = state.path().join("drafts/statefulset/statefulset.yaml");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !draft.exists() {
        assert!(Instant::now() < deadline, "no draft saved at {}", draft.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(std::fs::read_to_string(&draft).unwrap().contains("serviceName: \"nginx\""));
}

#[test]
fn sigterm_saves_the_draft_and_gives_the_terminal_back() {
    let state = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(state.path(), "term");
    tmux.wait(20, "the first frame", |s| s.contains("5 blanks left"));
    tmux.fill(&["None", "app"]);
    tmux.wait(5, "two blanks filled", |s| s.contains("3 blanks left"));
    let status = Command::new("kill").args(["-TERM", &tmux.pid()]).status().unwrap();
    assert!(status.success());
    let draft = state.path().join("drafts/statefulset/headless-service.yaml");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(&draft).unwrap_or_default();
        if text.contains("clusterIP: None") && text.contains("app: ???") {
            break;
        }
        assert!(Instant::now() < deadline, "draft not saved on SIGTERM: {text:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A clean exit, and the normal screen is back (the shell's line is visible, the tutor's gone).
    tmux.wait(5, "a clean exit", |s| s.contains("kubetutor-exited-0") && !s.contains("Editor:"));
}
