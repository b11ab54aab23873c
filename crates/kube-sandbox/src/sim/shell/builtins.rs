//! The shell's own commands (cd, exit, export, echo, printf, test, eval, ...), arithmetic, and
//! how a command name is found: builtin, an applet of the image's userland, a script file in
//! the container, or `not found`.

use super::super::image::Userland;
use super::super::Host;
use super::exec::{Boxed, Flow, Interp, Shell};
use super::format::{echo, printf_once};
use super::parse::parse;

const BUILTINS: &[&str] = &[
    ":", "true", "false", "cd", "pwd", "exit", "export", "unset", "set", "shift", "break", "continue", "eval", "read",
    "echo", "printf", "test", "[", "type", "wait", "trap", "umask", ".", "source", "exec",
];

/// Nested shells, `eval`s and `.` scripts allowed inside one another.
const MAX_DEPTH: usize = 12;

/// Directories where a path to an applet is taken as the applet (`/bin/sh`, `/usr/bin/wget`).
const BIN_DIRS: &[&str] = &["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"];

impl<'a, H: Host> Interp<'a, H> {
    /// Run one command: builtin, applet, script file or `not found` (127).
    pub(super) fn dispatch<'s>(&'s mut self, argv: &'s [String]) -> Boxed<'s, i32> {
        Box::pin(async move {
            let Some(name) = argv.first() else {
                return 0;
            };
            let args = &argv[1..];
            if BUILTINS.contains(&name.as_str()) {
                return self.builtin(name, args).await;
            }
            let applet = if name.contains('/') {
                let path = self.abs(name);
                let (dir, base) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
                let dir = if dir.is_empty() { "/" } else { dir };
                if BIN_DIRS.contains(&dir) && self.has_applet(base) {
                    Some(base.to_string())
                } else if self.host.fs().is_file(&path) {
                    return self.run_script_file(&path, name, args).await;
                } else {
                    None
                }
            } else {
                self.has_applet(name).then(|| name.clone())
            };
            match applet {
                Some(applet) => self.applet(&applet, argv).await,
                None => {
                    self.shell_error(None, &format!("{name}: not found"));
                    127
                }
            }
        })
    }

    async fn builtin(&mut self, name: &str, args: &[String]) -> i32 {
        match name {
            "wait" => {
                self.wait_jobs().await;
                0
            }
            ":" | "true" | "trap" => 0,
            "false" => 1,
            "umask" => {
                self.out("0022\n");
                0
            }
            "pwd" => {
                let cwd = format!("{}\n", self.sh.cwd);
                self.out(&cwd);
                0
            }
            "cd" => self.cd(args),
            "exit" => {
                let code = match args.first() {
                    None => self.sh.status,
                    Some(a) => match a.parse::<i64>() {
                        Ok(n) => (n & 0xff) as i32,
                        Err(_) => {
                            self.illegal_number("exit", a);
                            2
                        }
                    },
                };
                self.flow = Flow::Exit(code);
                code
            }
            "export" => {
                if args.is_empty() || args.iter().all(|a| a == "-p") {
                    let mut text = String::new();
                    for (k, v) in self.sh.environ() {
                        text.push_str(&format!("export {k}='{v}'\n"));
                    }
                    self.out(&text);
                }
                for a in args.iter().filter(|a| *a != "-p") {
                    match a.split_once('=') {
                        Some((k, v)) => {
                            self.sh.set(k, v);
                            self.sh.export(k);
                        }
                        None => {
                            if self.sh.get(a).is_none() {
                                self.sh.set(a, "");
                            }
                            self.sh.export(a);
                        }
                    }
                }
                0
            }
            "unset" => {
                for a in args.iter().filter(|a| !a.starts_with('-')) {
                    self.sh.unset(a);
                }
                0
            }
            "set" => self.set(args),
            "shift" => {
                let n = args.first().and_then(|a| a.parse().ok()).unwrap_or(1usize);
                if n > self.sh.args.len() {
                    return 1;
                }
                self.sh.args.drain(..n);
                0
            }
            "break" | "continue" if self.loops == 0 => 0,
            "break" | "continue" => {
                let n = args.first().and_then(|a| a.parse().ok()).unwrap_or(1u32).clamp(1, self.loops as u32);
                self.flow = if name == "break" { Flow::Break(n) } else { Flow::Continue(n) };
                0
            }
            "eval" => self.eval(&args.join(" ")).await,
            "." | "source" => {
                let Some(file) = args.first() else {
                    return 0;
                };
                match self.host.fs().read(&self.abs(file)) {
                    Ok(text) => self.eval(&text).await,
                    Err(_) => {
                        self.shell_error(Some(name), &format!("can't open '{file}'"));
                        2
                    }
                }
            }
            "exec" => {
                let status = self.dispatch(args).await;
                self.flow = Flow::Exit(status);
                status
            }
            "read" => {
                let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
                let input = self.stdin();
                let Some(line) = input.lines().next() else {
                    return 1;
                };
                let mut fields = line.split_whitespace();
                for (i, var) in names.iter().enumerate() {
                    let value = if i + 1 == names.len() {
                        fields.by_ref().collect::<Vec<_>>().join(" ")
                    } else {
                        fields.next().unwrap_or("").to_string()
                    };
                    self.sh.set(var, &value);
                }
                0
            }
            "echo" => {
                let text = echo(args, self.sh.userland);
                self.out(&text);
                0
            }
            "printf" => self.printf(args),
            "type" => {
                let mut status = 0;
                for a in args {
                    let line = if BUILTINS.contains(&a.as_str()) {
                        format!("{a} is a shell builtin\n")
                    } else if self.has_applet(a) {
                        format!("{a} is /bin/{a}\n")
                    } else {
                        status = 1;
                        format!("{a}: not found\n")
                    };
                    self.out(&line);
                }
                status
            }
            _ => self.test(name, args),
        }
    }

    fn illegal_number(&mut self, builtin: &str, arg: &str) {
        self.shell_error(Some(builtin), &format!("Illegal number: {arg}"));
    }

    fn cd(&mut self, args: &[String]) -> i32 {
        let home = self.sh.home();
        let dest = match args.first().map(String::as_str) {
            None => home,
            Some("-") => self.sh.get("OLDPWD").unwrap_or("/").to_string(),
            Some(d) => d.to_string(),
        };
        let path = self.abs(&dest);
        match self.host.fs().stat(&path) {
            Ok(meta) if meta.kind == super::super::fs::FileKind::Dir => {
                let old = std::mem::replace(&mut self.sh.cwd, path.clone());
                self.sh.set("OLDPWD", &old);
                self.sh.set("PWD", &path);
                if args.first().map(String::as_str) == Some("-") {
                    self.out(&format!("{path}\n"));
                }
                0
            }
            result => {
                let reason = match result {
                    Ok(_) => "Not a directory".to_string(),
                    Err(e) => e.to_string(),
                };
                let msg = if self.sh.userland == Userland::Debian {
                    format!("can't cd to {dest}")
                } else {
                    format!("can't cd to {dest}: {reason}")
                };
                self.shell_error(Some("cd"), &msg);
                2
            }
        }
    }

    fn set(&mut self, args: &[String]) -> i32 {
        if args.is_empty() {
            let mut text = String::new();
            let mut vars: Vec<_> = self.sh.vars.iter().map(|v| (v.name.clone(), v.value.clone())).collect();
            vars.sort();
            for (k, v) in vars {
                text.push_str(&format!("{k}='{v}'\n"));
            }
            self.out(&text);
            return 0;
        }
        let mut rest = args.iter();
        while let Some(a) = rest.next() {
            match a.as_str() {
                "--" => {
                    self.sh.args = rest.cloned().collect();
                    return 0;
                }
                flag if flag.starts_with('-') || flag.starts_with('+') => {
                    if flag[1..].contains('e') {
                        self.sh.errexit = flag.starts_with('-');
                    }
                }
                _ => {
                    self.sh.args = std::iter::once(a).chain(rest).cloned().collect();
                    return 0;
                }
            }
        }
        0
    }

    /// Parse and run `text` in this shell (`eval`, `.`).
    pub(super) async fn eval(&mut self, text: &str) -> i32 {
        if self.depth >= MAX_DEPTH {
            self.shell_error(None, "can't fork: Resource temporarily unavailable");
            return 2;
        }
        match parse(text) {
            Ok(script) => {
                self.depth += 1;
                let status = self.run_list(&script).await;
                self.depth -= 1;
                status
            }
            Err(e) => {
                self.syntax_error(&e);
                2
            }
        }
    }

    pub(super) fn syntax_error(&mut self, e: &super::parse::ParseError) {
        let msg = if self.sh.userland == Userland::Debian {
            format!("Syntax error: {}", e.dash())
        } else {
            format!("syntax error: {}", e.ash())
        };
        self.shell_error(None, &msg);
    }

    /// Run a script file from the container in a child shell.
    async fn run_script_file(&mut self, path: &str, name: &str, args: &[String]) -> i32 {
        let text = match self.host.fs().read(path) {
            Ok(t) => t,
            Err(e) => {
                self.shell_error(None, &format!("{name}: {e}"));
                return 126;
            }
        };
        let mut child = self.child_shell(name);
        child.script_file = true;
        child.args = args.to_vec();
        self.run_child(child, &text).await
    }

    /// A child process's shell: exported variables only, same directory.
    pub(super) fn child_shell(&self, arg0: &str) -> Shell {
        let mut child = self.sh.clone();
        child.vars.retain(|v| v.exported);
        child.arg0 = arg0.to_string();
        child.args.clear();
        child.interactive = false;
        child.script_file = false;
        child.errexit = false;
        let level = child.get("SHLVL").and_then(|l| l.parse::<u32>().ok()).unwrap_or(0);
        child.set("SHLVL", &(level + 1).to_string());
        child.export("SHLVL");
        child.line_base = 0;
        child
    }

    /// Run `text` as a separate shell process with `child`'s state.
    pub(super) async fn run_child(&mut self, child: Shell, text: &str) -> i32 {
        // A script that runs itself would otherwise nest until the stack gives out.
        if self.depth >= MAX_DEPTH {
            self.shell_error(None, "can't fork: Resource temporarily unavailable");
            return 2;
        }
        self.depth += 1;
        let saved = std::mem::replace(self.sh, child);
        let status = match parse(text) {
            Ok(script) => {
                let s = self.run_list(&script).await;
                match self.flow {
                    Flow::Exit(code) => code,
                    _ => s,
                }
            }
            Err(e) => {
                self.syntax_error(&e);
                2
            }
        };
        *self.sh = saved;
        self.flow = Flow::Normal;
        self.depth -= 1;
        status
    }

    fn printf(&mut self, args: &[String]) -> i32 {
        let Some(format) = args.first() else {
            self.err("printf: usage: printf FORMAT [ARGUMENT...]\n");
            return 1;
        };
        let mut rest = args[1..].iter();
        let mut out = String::new();
        loop {
            let used = printf_once(format, &mut rest, &mut out);
            if !used || rest.len() == 0 {
                break;
            }
        }
        self.out(&out);
        0
    }

    fn test(&mut self, name: &str, args: &[String]) -> i32 {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        if name == "[" {
            if args.last() != Some(&"]") {
                self.err("sh: missing ]\n");
                return 2;
            }
            args.pop();
        }
        let fs = self.host.fs();
        let cwd = self.sh.cwd.clone();
        let abs = |p: &str| {
            if p.starts_with('/') {
                p.to_string()
            } else {
                format!("{cwd}/{p}")
            }
        };
        match eval_test(&args, &|op, arg| match op {
            "-e" | "-r" | "-w" => fs.exists(&abs(arg)),
            "-f" => fs.is_file(&abs(arg)),
            "-d" | "-x" => fs.is_dir(&abs(arg)),
            "-s" => fs.stat(&abs(arg)).is_ok_and(|m| m.size > 0),
            _ => false,
        }) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(msg) => {
                self.err(&format!("sh: {msg}\n"));
                2
            }
        }
    }
}

type FileTest<'f> = dyn Fn(&str, &str) -> bool + 'f;

fn eval_test(args: &[&str], file: &FileTest<'_>) -> Result<bool, String> {
    if let Some(i) = args.iter().position(|a| *a == "-o") {
        return Ok(eval_test(&args[..i], file)? || eval_test(&args[i + 1..], file)?);
    }
    if let Some(i) = args.iter().position(|a| *a == "-a") {
        if i > 0 {
            return Ok(eval_test(&args[..i], file)? && eval_test(&args[i + 1..], file)?);
        }
    }
    let num = |s: &str| s.trim().parse::<i64>().map_err(|_| format!("{s}: bad number"));
    match args {
        [] => Ok(false),
        [a] => Ok(!a.is_empty()),
        ["!", rest @ ..] => Ok(!eval_test(rest, file)?),
        ["(", inner @ .., ")"] => eval_test(inner, file),
        ["-z", a] => Ok(a.is_empty()),
        ["-n", a] => Ok(!a.is_empty()),
        [op, a] if op.starts_with('-') && op.len() == 2 => Ok(file(op, a)),
        [a, "=" | "==", b] => Ok(a == b),
        [a, "!=", b] => Ok(a != b),
        [a, op @ ("-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge"), b] => {
            let (x, y) = (num(a)?, num(b)?);
            Ok(match *op {
                "-eq" => x == y,
                "-ne" => x != y,
                "-lt" => x < y,
                "-le" => x <= y,
                "-gt" => x > y,
                _ => x >= y,
            })
        }
        [_, op, _] => Err(format!("{op}: unknown operand")),
        _ => Err("syntax error".into()),
    }
}
