//! What a shell process remembers: variables (exported ones are the environment), working
//! directory, positional parameters, `$?` and the options that change its wording.

use super::super::fs::{components, join};
use super::super::image::Userland;

/// A shell variable; exported ones form the environment of commands.
#[derive(Debug, Clone)]
pub(super) struct Var {
    pub name: String,
    pub value: String,
    pub exported: bool,
}

/// Everything a shell process remembers between commands (a `Session` keeps it between lines).
#[derive(Debug, Clone)]
pub(super) struct Shell {
    pub vars: Vec<Var>,
    pub cwd: String,
    pub status: i32,
    /// `$0`, and the prefix of the shell's own messages.
    pub arg0: String,
    pub args: Vec<String>,
    pub interactive: bool,
    /// Running a script file: ash then numbers its messages.
    pub script_file: bool,
    pub userland: Userland,
    pub errexit: bool,
    /// Output is a terminal (`ls` prints columns), this many columns wide.
    pub tty: bool,
    pub width: usize,
    pub line: usize,
    /// Lines read before the current script (an interactive dash numbers its messages).
    pub line_base: usize,
    /// An assignment or expansion went past what a shell may hold; the interpreter stops
    /// the shell with `out of memory` after the command.
    pub out_of_memory: bool,
}

/// What the variables of one shell may hold in all, and how many there may be. A simulated
/// container's memory is the sandbox's: `a=$a$a` in a loop must stop, as it would at a
/// container's memory limit.
pub(super) const MAX_VAR_BYTES: usize = 4 << 20;
pub(super) const MAX_VARS: usize = 10_000;

impl Shell {
    pub(super) fn new(env: Vec<(String, String)>, hostname: &str, arg0: &str, userland: Userland) -> Self {
        let mut sh = Shell {
            vars: Vec::new(),
            cwd: "/".into(),
            status: 0,
            arg0: arg0.into(),
            args: Vec::new(),
            interactive: false,
            script_file: false,
            userland,
            errexit: false,
            tty: false,
            width: 80,
            line: 1,
            line_base: 0,
            out_of_memory: false,
        };
        for (k, v) in env {
            sh.set(&k, &v);
            sh.export(&k);
        }
        // What the runtime and the shell add when the pod spec does not.
        let defaults = [
            ("HOSTNAME", hostname),
            ("HOME", "/root"),
            ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ];
        for (k, v) in defaults {
            if sh.get(k).is_none() {
                sh.set(k, v);
                sh.export(k);
            }
        }
        sh.set("PWD", "/");
        sh.export("PWD");
        sh
    }

    /// Change directory without checks (the container's working directory at start).
    pub(super) fn chdir(&mut self, dir: &str) {
        self.cwd = join(&components(dir));
        let cwd = self.cwd.clone();
        self.set("PWD", &cwd);
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.vars.iter().find(|v| v.name == name).map(|v| v.value.as_str())
    }

    pub(super) fn set(&mut self, name: &str, value: &str) {
        let others: usize = self.vars.iter().filter(|v| v.name != name).map(|v| v.name.len() + v.value.len()).sum();
        let new = !self.vars.iter().any(|v| v.name == name);
        if others + name.len() + value.len() > MAX_VAR_BYTES || (new && self.vars.len() >= MAX_VARS) {
            self.out_of_memory = true;
            return;
        }
        match self.vars.iter_mut().find(|v| v.name == name) {
            Some(v) => v.value = value.to_string(),
            None => self.vars.push(Var { name: name.into(), value: value.into(), exported: false }),
        }
    }

    pub(super) fn export(&mut self, name: &str) {
        if let Some(v) = self.vars.iter_mut().find(|v| v.name == name) {
            v.exported = true;
        }
    }

    pub(super) fn unset(&mut self, name: &str) {
        self.vars.retain(|v| v.name != name);
    }

    pub(super) fn environ(&self) -> Vec<(String, String)> {
        self.vars.iter().filter(|v| v.exported).map(|v| (v.name.clone(), v.value.clone())).collect()
    }

    pub(super) fn home(&self) -> String {
        self.get("HOME").unwrap_or("/root").to_string()
    }
}
