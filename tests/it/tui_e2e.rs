//! The real `kubetutor` binary in tmux, driven as a person would: fill the blanks of step 0,
//! apply, see the check pass; fill step 1, apply, and watch the pods appear in order.
//! Needs `tmux` on PATH.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub(crate) struct Tmux {
    session: String,
}

impl Tmux {
    pub(crate) fn start(state_dir: &Path, name: &str) -> Tmux {
        Tmux::start_sized(state_dir, name, 120, 40)
    }

    fn start_sized(state_dir: &Path, name: &str, width: u16, height: u16) -> Tmux {
        Tmux::start_args(state_dir, name, width, height, "--speed 20")
    }

    /// `kubetutor ARGS` in a new tmux session of `width`x`height`.
    pub(crate) fn start_args(state_dir: &Path, name: &str, width: u16, height: u16, args: &str) -> Tmux {
        let session = format!("kubetutor-e2e-{name}-{}", std::process::id());
        // After the tutor exits, the shell prints its exit code on the (restored) normal screen.
        let cmd = format!(
            "env KUBETUTOR_STATE_DIR={} NO_COLOR= {} {args}; echo kubetutor-exited-$?; sleep 30",
            state_dir.display(),
            env!("CARGO_BIN_EXE_kubetutor")
        );
        // A tmux server that is just exiting (its last session was closed by another test)
        // refuses new sessions for a moment: try again.
        let mut tries = 0;
        loop {
            let status = Command::new("tmux")
                .args(["new-session", "-d", "-s", &session, "-x", &width.to_string(), "-y", &height.to_string(), &cmd])
                .status()
                .expect("tmux must be installed for the end-to-end test");
            if status.success() {
                break;
            }
            tries += 1;
            assert!(tries < 10, "tmux new-session failed");
            std::thread::sleep(Duration::from_millis(200));
        }
        Tmux { session }
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux").args(["send-keys", "-t", &self.session]).args(keys).status().unwrap();
        assert!(status.success());
    }

    pub(crate) fn text(&self, text: &str) {
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

    pub(crate) fn capture(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.session]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Poll the screen until `f` holds, failing with the last screen after `secs`.
    pub(crate) fn wait(&self, secs: u64, what: &str, f: impl Fn(&str) -> bool) -> String {
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

    pub(crate) fn fill(&self, values: &[&str]) {
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
    tmux.wait(5, "six blanks", |s| s.contains("6 blanks left"));
    tmux.fill(&["nginx", "None", "app", "nginx", "web", "web"]);
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
    tmux.wait(20, "the first frame", |s| s.contains("6 blanks left"));
    tmux.fill(&["nginx", "None", "app"]);
    tmux.wait(5, "three blanks filled", |s| s.contains("3 blanks left"));
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

/// The text inside the box titled `title` (its rows between the borders, joined with spaces).
/// Columns are counted in characters: the panes' borders are multi-byte.
fn boxed(screen: &str, title: &str) -> String {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let title: Vec<char> = title.chars().collect();
    let Some((top, col)) = lines
        .iter()
        .enumerate()
        .find_map(|(i, l)| l.windows(title.len()).position(|w| w == title.as_slice()).map(|c| (i, c)))
    else {
        return String::new();
    };
    // The box's left border is the last corner before the title on its top row.
    let left = lines[top][..col].iter().rposition(|c| matches!(c, '╭' | '┏')).unwrap_or(0);
    let mut out = Vec::new();
    for l in &lines[top + 1..] {
        let Some(rest) = l.get(left..) else { break };
        if matches!(rest.first(), Some('╰' | '┗')) {
            break;
        }
        let inner: String = rest.iter().skip(1).take_while(|c| !matches!(c, '│' | '┃')).collect();
        out.push(inner.trim().to_string());
    }
    out.join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_long_apply_error_is_readable_in_full_at_80x24() {
    let state = tempfile::tempdir().unwrap();
    let tmux = Tmux::start_sized(state.path(), "longerr", 80, 24);
    tmux.wait(20, "the first frame", |s| s.contains("6 blanks left"));
    tmux.fill(&["nginx", "None", "app", "nginx", "Web_Port", "Web_Port"]);
    tmux.wait(5, "no blanks", |s| s.contains("no blanks left"));
    tmux.keys(&["C-s"]);
    let screen = tmux.wait(30, "the apply error", |s| s.contains("Output: apply failed"));
    let text = boxed(&screen, "Output: apply failed");
    // The API server's whole message, to its last character, not one cut-off line.
    for part in [
        "Service \"nginx\" is invalid: spec.ports[0].name: Invalid value: \"Web_Port\"",
        "must start and end with an alphanumeric character",
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ] {
        assert!(text.contains(part), "{part:?} not in {text:?}\n{screen}");
    }
    // The Checks pane (lesson tab) says the apply failed, and why.
    tmux.keys(&["BTab"]);
    let screen = tmux.wait(5, "the lesson tab", |s| s.contains("Checks"));
    assert!(screen.contains("✗ last apply failed: document 1 (Service nginx)"), "{screen}");
}

#[test]
fn delete_keeps_the_watch_in_view_a_copied_block_runs_and_get_l_works() {
    let state = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(state.path(), "probe");
    tmux.wait(20, "the first frame", |s| s.contains("6 blanks left") && s.contains("connected"));
    // Skip ahead to step 3 from the step list (it asks first).
    tmux.keys(&["BTab"]);
    tmux.keys(&["j", "j", "j", "R"]);
    tmux.wait(5, "the question", |s| s.contains("Skip ahead to step 3?"));
    tmux.keys(&["y"]);
    tmux.wait(60, "step 3 with its pods", |s| {
        s.contains("▶ 3")
            && pod_row(s, "web-0").is_some_and(|r| r.contains("1/1"))
            && pod_row(s, "web-1").is_some_and(|r| r.contains("1/1"))
    });
    // c copies the step's first code block: its command lands on the command line.
    tmux.keys(&["c"]);
    tmux.wait(5, "the copied command", |s| s.contains(":delete pod -l app=nginx"));
    tmux.keys(&["Enter"]);
    // The output and, beside it, the watch pane showing the pods go.
    let screen = tmux
        .wait(20, "the delete output", |s| s.contains("Output: $ kubectl delete pods") && s.contains("deleting web-0"));
    let out = boxed(&screen, "Output: $ kubectl delete pods");
    assert!(out.contains("pod \"web-0\" deleted") && out.contains("pod \"web-1\" deleted"), "{out}\n{screen}");
    // The watch pane is whole while the output shows: its title and timeline.
    assert!(screen.contains("Watch (simulated pods)") && screen.contains("Timeline"), "{screen}");
    let below_output =
        screen.lines().skip_while(|l| !l.contains("Output:")).any(|l| l.contains("Watch (simulated pods)"));
    assert!(below_output, "the watch pane is below the output, not under it:\n{screen}");
    // -L adds a column per label key, as in the lesson's own text (once the pods are back: the
    // step passes when they are).
    tmux.wait(60, "the pods back", |s| s.contains("Step 3 passed"));
    tmux.keys(&[":"]);
    tmux.text("get pods -L controller-revision-hash");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait(20, "the -L output", |s| s.contains("CONTROLLER-REVISION-HASH"));
    let out = boxed(&screen, "Output: $ kubectl get pods");
    assert!(out.contains("web-0") && out.contains("web-") && !out.contains("unknown"), "{out}\n{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait(5, "the output closed", |s| !s.contains("Output: $ kubectl get pods"));
}

/// The editor footer's `row:col`.
fn cursor_of(screen: &str) -> Option<String> {
    screen.lines().find_map(|l| {
        l.split(['┃', '│'])
            .map(str::trim)
            .find(|c| {
                c.split_once(':').is_some_and(|(r, c)| {
                    !r.is_empty()
                        && !c.is_empty()
                        && r.chars().all(|x| x.is_ascii_digit())
                        && c.chars().all(|x| x.is_ascii_digit())
                })
            })
            .map(str::to_string)
    })
}

#[test]
fn a_restart_brings_the_draft_and_the_cursor_back() {
    let state = tempfile::tempdir().unwrap();
    let before = {
        let tmux = Tmux::start(state.path(), "cursor1");
        tmux.wait(20, "the first frame", |s| s.contains("6 blanks left"));
        tmux.fill(&["nginx", "None"]);
        tmux.keys(&["Up", "Up"]);
        let screen = tmux.wait(5, "the cursor on line 5", |s| cursor_of(s).is_some_and(|c| c.starts_with("5:")));
        let at = cursor_of(&screen).unwrap();
        assert_ne!(at, "1:1");
        tmux.keys(&["C-q"]);
        tmux.wait(5, "a clean exit", |s| s.contains("kubetutor-exited-0"));
        at
    };
    let tmux = Tmux::start(state.path(), "cursor2");
    let screen = tmux.wait(20, "the second start", |s| s.contains("4 blanks left"));
    assert_eq!(cursor_of(&screen).as_deref(), Some(before.as_str()), "{screen}");
}
