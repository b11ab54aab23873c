//! The simulated containers' shell and commands: a POSIX-sh subset worded like busybox ash (or
//! dash on Debian images) over the container filesystem and the cluster's DNS/HTTP model.
//! The kubelet calls `check_entrypoint` and `run_argv` for container commands and drives a
//! `Session` for `kubectl run -it ... -- sh` and `kubectl exec -it`.

mod applets;
mod ast;
mod builtins;
mod exec;
mod expand;
mod files;
mod format;
mod lex;
mod ls;
mod net;
mod parse;
mod state;
mod tar;
#[cfg(test)]
mod tests;
mod text;

use super::fs::ContainerFs;
use super::image::Userland;
use super::{Host, Output, Stream};
use exec::{Flow, Interp, Shell};

const SHELLS: [&str; 4] = ["sh", "ash", "bash", "dash"];
const BIN_DIRS: [&str; 5] = ["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"];

/// Why the container runtime cannot start a command (the kubelet reports `StartError`, exit
/// code 128).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EntrypointError {
    #[error("no command specified")]
    NoCommand,
    #[error("exec: \"{0}\": executable file not found in $PATH")]
    NotInPath(String),
    #[error("exec: \"{0}\": stat {0}: no such file or directory")]
    NoSuchFile(String),
}

impl EntrypointError {
    #[cfg(test)]
    /// The container status message containerd and runc produce.
    pub(crate) fn runtime_message(&self) -> String {
        format!(
            "failed to create containerd task: failed to create shim task: OCI runtime create \
             failed: runc create failed: unable to start container process: error during \
             container init: {self}: unknown"
        )
    }
}

/// Whether the runtime could exec `argv` in this filesystem (checked before starting).
pub(crate) fn check_entrypoint(argv: &[String], fs: &ContainerFs) -> Result<(), EntrypointError> {
    let Some(first) = argv.first() else {
        return Err(EntrypointError::NoCommand);
    };
    let image = fs.image();
    let known = |name: &str| applets::applet_available(name, image.userland, image.is_nginx());
    if first.contains('/') {
        let path = super::fs::join(&super::fs::components(first));
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let in_bin = BIN_DIRS.contains(&if dir.is_empty() { "/" } else { dir });
        if (in_bin && known(base)) || fs.is_file(&path) {
            return Ok(());
        }
        return Err(EntrypointError::NoSuchFile(first.clone()));
    }
    if known(first) {
        Ok(())
    } else {
        Err(EntrypointError::NotInPath(first.clone()))
    }
}

fn new_shell(host: &impl Host, arg0: &str) -> Shell {
    let userland = host.fs().image().userland;
    let mut sh = Shell::new(host.env(), &host.hostname(), arg0, userland);
    sh.chdir(&host.working_dir());
    sh
}

/// Run a container's command (`sh -c SCRIPT`, `/bin/sh -c`, a script file, or one command such
/// as `sleep 3600`) to completion; returns its exit status. Dropping the future kills it.
/// Images' own servers (`nginx -g 'daemon off;'`) are the kubelet's, not this function's.
pub(crate) async fn run_argv(argv: &[String], host: &impl Host, out: &mut Output) -> i32 {
    run_argv_with_input(argv, host, out, None).await
}

/// [`run_argv`] with what the client sent on standard input (`kubectl exec -i`, `kubectl cp`).
pub(crate) async fn run_argv_with_input(
    argv: &[String],
    host: &impl Host,
    out: &mut Output,
    input: Option<String>,
) -> i32 {
    if let Err(e) = check_entrypoint(argv, host.fs()) {
        out.write(Stream::Stderr, &format!("{e}\n"));
        return 128;
    }
    let first = argv.first().map_or("sh", String::as_str);
    let base = first.rsplit('/').next().unwrap_or(first);
    let mut sh = new_shell(host, first);
    // The process the runtime starts is not itself a child of a shell.
    sh.unset("SHLVL");
    let mut interp = Interp::new(host, out, &mut sh);
    interp.frames[0].input = input;
    if SHELLS.contains(&base) {
        interp.nested_shell(argv).await
    } else {
        let status = interp.dispatch(argv).await;
        match interp.flow {
            Flow::Exit(code) => code,
            _ => status,
        }
    }
}

/// An interactive shell on a terminal, fed one line at a time.
#[derive(Debug)]
pub(crate) struct Session {
    shell: Shell,
    pending: String,
    exited: Option<i32>,
    lines: usize,
}

impl Session {
    /// `argv0` is the command as typed after `--` (`sh`, `/bin/sh`).
    pub(crate) fn new(argv0: &str, host: &impl Host) -> Self {
        let mut shell = new_shell(host, argv0);
        shell.interactive = true;
        shell.tty = true;
        shell.set("SHLVL", "1");
        shell.export("SHLVL");
        Session { shell, pending: String::new(), exited: None, lines: 0 }
    }

    /// Terminal width, from the attach resize events (`ls` uses it for columns).
    pub(crate) fn set_width(&mut self, cols: usize) {
        self.shell.width = cols.max(1);
    }

    /// `/ # ` (ash shows the directory, `~` for HOME), `# ` for dash, `> ` mid-command.
    pub(crate) fn prompt(&self) -> String {
        if !self.pending.is_empty() {
            return "> ".into();
        }
        if self.shell.userland == Userland::Debian {
            return "# ".into();
        }
        let home = self.shell.home();
        let cwd = &self.shell.cwd;
        let shown = if *cwd == home {
            "~".to_string()
        } else if let Some(rest) = cwd.strip_prefix(&format!("{home}/")) {
            format!("~/{rest}")
        } else {
            cwd.clone()
        };
        format!("{shown} # ")
    }

    /// The exit status once the shell has exited.
    pub(crate) fn exit_code(&self) -> Option<i32> {
        self.exited
    }

    /// Run one line the user typed (without its newline; the terminal echoes it, not this).
    /// Returns the exit status when the line ended the shell.
    pub(crate) async fn feed(&mut self, line: &str, host: &impl Host, out: &mut Output) -> Option<i32> {
        if self.exited.is_some() {
            return self.exited;
        }
        self.lines += 1;
        self.pending.push_str(line);
        self.pending.push('\n');
        let script = match parse::parse(&self.pending) {
            Ok(script) => script,
            Err(e) if e.wants_more() => return None,
            Err(e) => {
                self.pending.clear();
                self.shell.line = self.lines;
                let mut interp = Interp::new(host, out, &mut self.shell);
                interp.syntax_error(&e);
                interp.sh.status = 2;
                return None;
            }
        };
        let text_lines = self.pending.matches('\n').count();
        self.pending.clear();
        self.shell.line_base = self.lines.saturating_sub(text_lines);
        let mut interp = Interp::new(host, out, &mut self.shell);
        let status = interp.run_list(&script).await;
        let flow = interp.flow;
        self.shell.status = status;
        if let Flow::Exit(code) = flow {
            self.exited = Some(code);
        }
        self.exited
    }

    /// Ctrl-C at the prompt or during a command (the caller drops the running `feed`).
    pub(crate) fn interrupt(&mut self) {
        self.pending.clear();
        self.shell.status = 130;
    }

    /// Ctrl-D: the shell exits with the last status.
    pub(crate) fn eof(&mut self) -> i32 {
        let code = *self.exited.get_or_insert(self.shell.status);
        code
    }
}
