//! The image's commands other than networking: busybox applets on alpine/busybox images,
//! coreutils on Debian ones, each with its own error wording. Called by `dispatch`.

use std::time::Duration;

use jiff::tz::TimeZone;

use super::super::fs::WriteMode;
use super::super::image::Userland;
use super::super::Host;
use super::exec::Interp;
use super::format::echo;

const COMMON: &[&str] = &[
    "cat", "ls", "sleep", "hostname", "mkdir", "rmdir", "rm", "touch", "env", "printenv", "grep", "wc", "head", "tail",
    "date", "whoami", "id", "uname", "cp", "mv", "tee", "seq", "basename", "dirname", "sh", "tar",
];
const BUSYBOX_ONLY: &[&str] = &["ash", "nslookup", "wget"];
const DEBIAN_ONLY: &[&str] = &["bash", "dash", "curl"];

/// Whether the image has a command called `name` in its PATH.
pub(super) fn applet_available(name: &str, userland: Userland, nginx: bool) -> bool {
    let busybox = userland.is_busybox();
    COMMON.contains(&name)
        || (busybox && BUSYBOX_ONLY.contains(&name))
        || (!busybox && DEBIAN_ONLY.contains(&name))
        || (name == "nginx" && nginx)
        || ["echo", "printf", "true", "false", "test", "[", "pwd"].contains(&name)
}

/// getopt-style options anywhere among the operands: `spec` lists the letters, `:` after
/// those taking a value (`-O-`, `-O -`, `-qO-`); long names map to letters (`--quiet`).
pub(super) fn getopt(args: &[String], spec: &str, longs: &[(&str, char)]) -> (Vec<(char, String)>, Vec<String>) {
    let takes = |c: char| spec.find(c).is_some_and(|i| spec[i + c.len_utf8()..].starts_with(':'));
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            operands.extend(it.by_ref().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            if let Some(&(_, c)) = longs.iter().find(|(n, _)| *n == name) {
                let value =
                    if takes(c) { inline.or_else(|| it.next().cloned()).unwrap_or_default() } else { String::new() };
                opts.push((c, value));
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            for (i, &c) in chars.iter().enumerate() {
                if takes(c) {
                    let rest: String = chars[i + 1..].iter().collect();
                    let value = if rest.is_empty() { it.next().cloned().unwrap_or_default() } else { rest };
                    opts.push((c, value));
                    break;
                }
                opts.push((c, String::new()));
            }
            continue;
        }
        operands.push(a.clone());
    }
    (opts, operands)
}

impl<'a, H: Host> Interp<'a, H> {
    pub(super) fn has_applet(&self, name: &str) -> bool {
        applet_available(name, self.sh.userland, self.host.fs().image().is_nginx())
    }

    pub(super) fn busybox(&self) -> bool {
        self.sh.userland.is_busybox()
    }

    pub(super) async fn applet(&mut self, name: &str, argv: &[String]) -> i32 {
        let args = &argv[1..];
        match name {
            "cat" => self.cat(args),
            "ls" => self.ls(args),
            "sleep" => self.sleep(args).await,
            "hostname" => self.hostname(args),
            "mkdir" => self.mkdir(args),
            "rmdir" | "rm" => self.rm(name, args),
            "touch" => self.each_file(args, |i, f| {
                let path = i.abs(f);
                i.host.fs().touch(&path).map_err(|e| (e, f.to_string()))
            }),
            "env" => self.env(args).await,
            "printenv" => {
                if args.is_empty() {
                    return self.env(&[]).await;
                }
                let mut status = 0;
                for a in args {
                    match self.sh.environ().into_iter().find(|(k, _)| k == a) {
                        Some((_, v)) => self.out(&format!("{v}\n")),
                        None => status = 1,
                    }
                }
                status
            }
            "grep" => self.grep(args),
            "tar" => self.tar(args).await,
            "wc" => self.wc(args),
            "head" | "tail" => self.head_tail(name == "head", args),
            "date" => self.date(args),
            "whoami" => {
                self.out("root\n");
                0
            }
            "id" => {
                let groups = match self.sh.userland {
                    Userland::BusyboxMusl128 | Userland::Busybox => {
                        ",1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),26(tape),27(video)"
                    }
                    Userland::BusyboxLibc128 => ",10(wheel)",
                    Userland::Debian => "",
                };
                self.out(&format!("uid=0(root) gid=0(root) groups=0(root){groups}\n"));
                0
            }
            "uname" => {
                let host = self.host.hostname();
                let os = if self.busybox() { "Linux" } else { "GNU/Linux" };
                let text = match args.first().map(String::as_str) {
                    Some("-a") => format!(
                        "Linux {host} 6.8.0-sandbox #1 SMP PREEMPT_DYNAMIC Tue Nov 24 00:00:00 UTC 2026 x86_64 {os}"
                    ),
                    Some("-n") => host,
                    Some("-r") => "6.8.0-sandbox".into(),
                    Some("-m") => "x86_64".into(),
                    _ => "Linux".into(),
                };
                self.out(&format!("{text}\n"));
                0
            }
            "cp" | "mv" => self.copy_move(name == "mv", args),
            "tee" => {
                let append = args.iter().any(|a| a == "-a");
                let input = self.stdin();
                let mut status = 0;
                for f in args.iter().filter(|a| !a.starts_with('-')) {
                    let mode = if append { WriteMode::Append } else { WriteMode::Truncate };
                    if let Err(e) = self.host.fs().write(&self.abs(f), &input, mode) {
                        self.file_error("tee", "open", f, e);
                        status = 1;
                    }
                }
                self.out(&input);
                status
            }
            "seq" => {
                let nums: Vec<i64> = args.iter().filter_map(|a| a.parse().ok()).collect();
                let (first, step, last) = match nums[..] {
                    [last] => (1, 1, last),
                    [first, last] => (first, 1, last),
                    [first, step, last] if step != 0 => (first, step, last),
                    _ => return 1,
                };
                let mut text = String::new();
                let mut n = first;
                // Bounded so a typo cannot fill the sandbox's memory.
                let mut budget = 1_000_000;
                while budget > 0 && ((step > 0 && n <= last) || (step < 0 && n >= last)) {
                    budget -= 1;
                    text.push_str(&format!("{n}\n"));
                    n += step;
                }
                self.out(&text);
                0
            }
            "basename" | "dirname" => {
                let Some(path) = args.first() else {
                    return 1;
                };
                let trimmed = path.trim_end_matches('/');
                let text = match (name, trimmed.rsplit_once('/')) {
                    ("basename", Some((_, base))) => base.to_string(),
                    ("basename", None) => trimmed.to_string(),
                    (_, Some(("", _))) => "/".to_string(),
                    (_, Some((dir, _))) => dir.to_string(),
                    (_, None) => ".".to_string(),
                };
                let text = match args.get(1) {
                    Some(suffix) if name == "basename" => {
                        text.strip_suffix(suffix.as_str()).unwrap_or(&text).to_string()
                    }
                    _ => text,
                };
                self.out(&format!("{text}\n"));
                0
            }
            "echo" => {
                let text = echo(args, self.sh.userland);
                self.out(&text);
                0
            }
            "nslookup" => self.nslookup(args).await,
            "wget" => self.wget(args).await,
            "curl" => self.curl(args).await,
            "nginx" => self.nginx(args),
            "sh" | "ash" | "bash" | "dash" => self.nested_shell(argv).await,
            // printf, test, [, true, false, pwd: the same as the builtins.
            _ => self.dispatch(argv).await,
        }
    }

    async fn sleep(&mut self, args: &[String]) -> i32 {
        if args.is_empty() {
            let text = if self.busybox() {
                "Usage: sleep [N]...\n"
            } else {
                "sleep: missing operand\nTry 'sleep --help' for more information.\n"
            };
            self.err(text);
            return 1;
        }
        let mut total = 0f64;
        for a in args {
            let (num, unit) = match a.char_indices().last() {
                Some((i, c @ ('s' | 'm' | 'h' | 'd'))) if !a.starts_with("inf") => (&a[..i], c),
                _ => (a.as_str(), 's'),
            };
            let value = match num.parse::<f64>() {
                Ok(v) if v >= 0.0 && !v.is_nan() => v,
                _ => {
                    let text = if self.busybox() {
                        format!("sleep: invalid number '{a}'\n")
                    } else {
                        format!("sleep: invalid time interval '{a}'\nTry 'sleep --help' for more information.\n")
                    };
                    self.err(&text);
                    return 1;
                }
            };
            let scale = match unit {
                'm' => 60.0,
                'h' => 3600.0,
                'd' => 86400.0,
                _ => 1.0,
            };
            total += value * scale;
        }
        match Duration::try_from_secs_f64(total) {
            Ok(d) => self.host.sleep(d).await,
            // `infinity`, or longer than anyone will wait.
            Err(_) => loop {
                self.host.sleep(Duration::from_secs(365 * 86400)).await;
            },
        }
        0
    }

    fn hostname(&mut self, args: &[String]) -> i32 {
        let name = self.host.hostname();
        let hosts = self.host.fs().read("/etc/hosts").unwrap_or_default();
        let entry = hosts
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.len() > 1 && f[1..].contains(&name.as_str()));
        let text = match args.first().map(String::as_str) {
            None => name,
            Some("-f") => entry.as_ref().map_or(name.clone(), |f| f[1].to_string()),
            Some("-i") => entry.as_ref().map_or(String::new(), |f| f[0].to_string()),
            Some("-s") => name.split('.').next().unwrap_or_default().to_string(),
            Some(_) => {
                self.err("hostname: sethostname: Operation not permitted\n");
                return 1;
            }
        };
        self.out(&format!("{text}\n"));
        0
    }

    async fn env(&mut self, args: &[String]) -> i32 {
        let mut rest = args.iter().skip_while(|a| a.as_str() == "-");
        let mut extra = Vec::new();
        let mut command = Vec::new();
        for a in rest.by_ref() {
            match a.split_once('=') {
                Some((k, v)) if command.is_empty() => extra.push((k.to_string(), v.to_string())),
                _ => {
                    command.push(a.clone());
                    break;
                }
            }
        }
        command.extend(rest.cloned());
        let saved = self.sh.vars.clone();
        for (k, v) in &extra {
            self.sh.set(k, v);
            self.sh.export(k);
        }
        let status = if command.is_empty() {
            let text: String = self.sh.environ().into_iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            self.out(&text);
            0
        } else {
            self.dispatch(&command).await
        };
        self.sh.vars = saved;
        status
    }

    fn date(&mut self, args: &[String]) -> i32 {
        let now = self.host.now().to_zoned(TimeZone::UTC);
        let format = match args.iter().find(|a| a.starts_with('+')) {
            Some(f) => f[1..].to_string(),
            None if args.iter().any(|a| a == "-R") => "%a, %d %b %Y %H:%M:%S +0000".into(),
            None if args.iter().any(|a| a == "-I") => "%Y-%m-%d".into(),
            None => "%a %b %e %H:%M:%S %Z %Y".into(),
        };
        let text = match jiff::fmt::strtime::format(format.as_str(), &now) {
            Ok(t) => t,
            Err(_) => format,
        };
        self.out(&format!("{text}\n"));
        0
    }

    fn nginx(&mut self, args: &[String]) -> i32 {
        let version = self.host.fs().image().nginx_version.clone().unwrap_or_default();
        match args.first().map(String::as_str) {
            Some("-v") => {
                self.err(&format!("nginx version: nginx/{version}\n"));
                0
            }
            Some("-t") => {
                self.err(
                    "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
                     nginx: configuration file /etc/nginx/nginx.conf test is successful\n",
                );
                0
            }
            _ => {
                // The container's own nginx already holds port 80.
                self.err(
                    "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\n\
                     nginx: [emerg] still could not bind()\n",
                );
                1
            }
        }
    }

    /// `sh [-e] -c SCRIPT [ARG0 ARGS...]`, `sh FILE [ARGS...]`, or `sh` reading stdin.
    pub(super) async fn nested_shell(&mut self, argv: &[String]) -> i32 {
        let mut child = self.child_shell(argv.first().map_or("sh", String::as_str));
        let mut script = None;
        let mut rest = argv[1..].iter();
        let mut command_mode = false;
        for a in rest.by_ref() {
            if a.len() > 1 && a.starts_with('-') && a != "--" {
                command_mode |= a.contains('c');
                child.errexit |= a.contains('e');
            } else if a != "--" || command_mode {
                script = Some(a.clone());
                break;
            }
        }
        let rest: Vec<String> = rest.cloned().collect();
        let text = match (command_mode, script) {
            (true, Some(s)) => {
                if let Some((arg0, args)) = rest.split_first() {
                    child.arg0 = arg0.clone();
                    child.args = args.to_vec();
                }
                s
            }
            (true, None) => {
                self.err(&format!("{}: -c requires an argument\n", child.arg0));
                return 2;
            }
            (false, Some(file)) => match self.host.fs().read(&self.abs(&file)) {
                Ok(t) => {
                    child.arg0 = file;
                    child.args = rest;
                    child.script_file = true;
                    t
                }
                Err(_) => {
                    let msg = if self.busybox() {
                        format!("{}: can't open '{file}': No such file or directory\n", child.arg0)
                    } else {
                        format!("{}: 0: cannot open {file}: No such file\n", child.arg0)
                    };
                    self.err(&msg);
                    return 2;
                }
            },
            // No tty and nothing to read: a shell on empty stdin exits at once.
            (false, None) => self.stdin(),
        };
        self.run_child(child, &text).await
    }
}
