//! Shell behaviour against a fake cluster: one headless Service `nginx` with pods web-0
//! (serving its volume through nginx) and web-1 (nothing listening).

mod net;

use std::net::IpAddr;
use std::time::Duration;

use jiff::Timestamp;

use super::super::fs::{ContainerFs, Volume};
use super::super::nginx;
use super::super::{DnsAddress, DnsAnswer, Host, HttpResult, Output, Resolution};
use super::*;

pub(super) fn t0() -> Timestamp {
    "2026-11-24T22:00:00Z".parse().unwrap()
}

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const DOMAINS: [&str; 3] = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"];

pub(super) struct FakeHost {
    pub fs: ContainerFs,
    pub hostname: String,
    /// fqdn -> A records
    pub records: Vec<(String, Vec<DnsAddress>)>,
    /// nginx pods: address, filesystem
    pub servers: Vec<(IpAddr, ContainerFs)>,
    pub dns_down: bool,
}

impl FakeHost {
    pub(super) fn new(image: &str, hostname: &str) -> Self {
        let web0 = Volume::at(t0());
        web0.put_file("index.html", "web-0\n", t0()).unwrap();
        let mut nginx_fs = ContainerFs::for_image("nginx:1.27.3").with_clock(t0);
        nginx_fs.mount(nginx::ROOT, web0, false).unwrap();
        let fqdn0 = "web-0.nginx.default.svc.cluster.local";
        let fqdn1 = "web-1.nginx.default.svc.cluster.local";
        let a0 = DnsAddress::new(ip("10.244.0.5"), Some(fqdn0));
        let a1 = DnsAddress::new(ip("10.244.0.6"), Some(fqdn1));
        FakeHost {
            fs: ContainerFs::for_image(image).with_clock(t0),
            hostname: hostname.into(),
            records: vec![
                (fqdn0.into(), vec![a0.clone()]),
                (fqdn1.into(), vec![a1.clone()]),
                ("nginx.default.svc.cluster.local".into(), vec![a0, a1]),
            ],
            servers: vec![(ip("10.244.0.5"), nginx_fs)],
            dns_down: false,
        }
    }

    pub(super) fn mount(mut self, path: &str, vol: &Volume) -> Self {
        self.fs.mount(path, vol.clone(), false).unwrap();
        self
    }

    fn exact(&self, name: &str) -> Option<(String, Vec<DnsAddress>)> {
        self.records.iter().find(|(f, _)| f == name).cloned()
    }
}

impl Host for FakeHost {
    fn hostname(&self) -> String {
        self.hostname.clone()
    }
    fn fs(&self) -> &ContainerFs {
        &self.fs
    }
    fn env(&self) -> Vec<(String, String)> {
        vec![("KUBERNETES_SERVICE_HOST".into(), "10.96.0.1".into()), ("HOSTNAME".into(), self.hostname.clone())]
    }
    fn now(&self) -> Timestamp {
        t0()
    }
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
    async fn resolve(&self, name: &str) -> Resolution {
        let server = DnsAddress::new(ip("10.96.0.10"), Some("kube-dns.kube-system.svc.cluster.local"));
        let answer = if self.dns_down {
            DnsAnswer::Timeout
        } else if let Some(abs) = name.strip_suffix('.') {
            match self.exact(abs) {
                Some((fqdn, addresses)) => DnsAnswer::Found { fqdn, addresses },
                None => DnsAnswer::NxDomain,
            }
        } else {
            DOMAINS
                .iter()
                .map(|d| format!("{name}.{d}"))
                .chain([name.to_string()])
                .find_map(|n| self.exact(&n))
                .map_or(DnsAnswer::NxDomain, |(fqdn, addresses)| DnsAnswer::Found { fqdn, addresses })
        };
        Resolution { server, answer }
    }
    async fn http_get(&self, url: &str) -> HttpResult {
        let rest = url.strip_prefix("http://").unwrap_or(url);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, p.parse().unwrap_or(80)),
            None => (authority, 80),
        };
        let addr = match self.resolve(host).await.answer {
            DnsAnswer::Found { addresses, .. } if !addresses.is_empty() => addresses[0].ip,
            _ => return HttpResult::BadAddress,
        };
        match self.servers.iter().find(|(a, _)| *a == addr) {
            Some((_, fs)) if port == 80 => {
                let req = nginx::Request::get(path, host, "10.244.0.9", Some("Wget"));
                let response = nginx::serve(fs, "1.27.3", &req, t0()).response;
                HttpResult::Response { ip: addr, port, response }
            }
            _ if addr == ip("10.244.0.6") => HttpResult::Refused { ip: addr, port },
            _ => HttpResult::Timeout { ip: addr, port },
        }
    }
}

pub(super) fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(ToString::to_string).collect()
}

pub(super) async fn sh(host: &FakeHost, script: &str) -> (i32, Output) {
    let mut out = Output::buffered();
    let code = run_argv(&argv(&["/bin/sh", "-c", script]), host, &mut out).await;
    (code, out)
}

pub(super) fn alpine() -> FakeHost {
    FakeHost::new("alpine:3.8", "dns-test")
}

#[tokio::test]
async fn init_container_appends_hostname_on_each_run() {
    let vol = Volume::at(t0());
    let host = FakeHost::new("alpine:3.8", "web-0").mount("/work-dir", &vol);
    for _ in 0..2 {
        let (code, out) = sh(&host, "echo $(hostname) >> /work-dir/index.html").await;
        assert_eq!((code, out.text()), (0, String::new()));
    }
    assert_eq!(vol.read_file("index.html").unwrap(), "web-0\nweb-0\n");
}

#[tokio::test]
async fn quoting_and_substitutions() {
    let host = alpine();
    let (code, out) = sh(
        &host,
        r#"echo "host: $(hostname)" 'single $HOME' a\ \ b "$(echo "two  spaces")" $(echo "split  me") `echo bq`"#,
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(out.stdout(), "host: dns-test single $HOME a  b two  spaces split me bq\n");
    let (_, out) = sh(&host, "X=abc; echo ${X:-d} ${Y:-d} ${#X} $((1 + 2 * 3)) ${Y:=set} $Y $0").await;
    assert_eq!(out.stdout(), "abc d 3 7 set set /bin/sh\n");
    let (_, out) = sh(&host, "echo -n a; echo -e 'b\\tc'; echo 'd\\n'").await;
    assert_eq!(out.stdout(), "ab\tc\nd\\n\n");
    let (_, out) = sh(&host, "printf '%s=%03d|%-4s|\\n' a 7 b c 9").await;
    assert_eq!(out.stdout(), "a=007|b   |\nc=009|    |\n");
}

#[tokio::test]
async fn exit_codes_of_lists() {
    let host = alpine();
    let (code, out) = sh(&host, "false && echo no || echo yes").await;
    assert_eq!((code, out.stdout().as_str()), (0, "yes\n"));
    assert_eq!(sh(&host, "true && false").await.0, 1);
    assert_eq!(sh(&host, "! true").await.0, 1);
    let (code, out) = sh(&host, "false || exit 3; echo never").await;
    assert_eq!((code, out.text().as_str()), (3, ""));
    assert_eq!(sh(&host, "exit 300").await.0, 44);
    assert_eq!(sh(&host, "false; echo $?; true").await.1.stdout(), "1\n");
    let (code, out) = sh(&host, "set -e; false; echo no").await;
    assert_eq!((code, out.text().as_str()), (1, ""));
    let (code, out) = sh(&host, "set -e; false || true; if false; then :; fi; echo ok").await;
    assert_eq!((code, out.stdout().as_str()), (0, "ok\n"));
    let (code, out) = sh(&host, "(exit 4); echo $?; x=$(exit 5); echo $?").await;
    assert_eq!((code, out.stdout().as_str()), (0, "4\n5\n"));
}

#[tokio::test]
async fn redirection_errors_in_each_shell() {
    let (code, out) = sh(&alpine(), "echo hi > /nope/x; echo after").await;
    assert_eq!(code, 0);
    assert_eq!(out.stderr(), "/bin/sh: can't create /nope/x: nonexistent directory\n");
    assert_eq!(out.stdout(), "after\n");
    let mut o = Output::buffered();
    let code = run_argv(&argv(&["sh", "-c", "cat < /nope"]), &alpine(), &mut o).await;
    assert_eq!((code, o.stderr().as_str()), (1, "sh: can't open /nope: no such file\n"));
    let debian = FakeHost::new("nginx:1.27.3", "web-0");
    let mut o = Output::buffered();
    let code = run_argv(&argv(&["sh", "-c", "\necho hi > /nope/x"]), &debian, &mut o).await;
    assert_eq!((code, o.stderr().as_str()), (2, "sh: 2: cannot create /nope/x: Directory nonexistent\n"));
}

#[tokio::test]
async fn redirections_and_pipes() {
    let host = alpine();
    let (code, out) = sh(
        &host,
        "echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f | grep -n o | wc -l; \
         cat /nope 2>/dev/null || echo gone; ls /nope 2>&1 | head -n 1",
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(out.stdout(), "2\ngone\nls: /nope: No such file or directory\n");
    assert_eq!(host.fs.read("/tmp/f").unwrap(), "one\ntwo\n");
    let (_, out) = sh(&host, "seq 5 | tail -n 2; echo a b c | wc -w; cat /etc/passwd | grep '^root:' | wc -l").await;
    assert_eq!(out.stdout(), "4\n5\n3\n1\n");
    let (_, out) = sh(&host, "echo err >&2; echo out 2>&1 1>/dev/null").await;
    assert_eq!((out.stdout().as_str(), out.stderr().as_str()), ("", "err\n"));
}

#[tokio::test]
async fn control_flow() {
    let host = alpine();
    let (_, out) = sh(&host, "i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo $i; done").await;
    assert_eq!(out.stdout(), "1\n2\n3\n");
    let (_, out) = sh(&host, "for i in a b c; do [ $i = b ] && continue; echo $i; done").await;
    assert_eq!(out.stdout(), "a\nc\n");
    let (_, out) = sh(&host, "for i in 1 2 3; do if [ $i -eq 2 ]; then echo two; break; else echo $i; fi; done").await;
    assert_eq!(out.stdout(), "1\ntwo\n");
    let (_, out) = sh(&host, "until true; do echo no; done; { echo g; } > /tmp/g; cat /tmp/g").await;
    assert_eq!(out.stdout(), "g\n");
    let (_, out) = sh(&host, "break; for i in 1 2; do for j in a b; do echo $i$j; break 5; done; done; echo end").await;
    assert_eq!(out.stdout(), "1a\nend\n");
}

#[tokio::test]
async fn files_and_globs() {
    let vol = Volume::at(t0());
    let host = FakeHost::new("alpine:3.8", "web-0").mount("/work-dir", &vol);
    let (code, out) = sh(
        &host,
        "cd /work-dir && touch b.txt a.txt && mkdir -p d/e && echo *.txt && echo *.none; \
         ls; ls -l /work-dir/a.txt; pwd",
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        out.stdout(),
        "a.txt b.txt\n*.none\na.txt\nb.txt\nd\n\
         -rw-r--r--    1 root     root             0 Nov 24 22:00 /work-dir/a.txt\n/work-dir\n"
    );
    let (_, out) = sh(&host, "ls -l /etc/alpine-release").await;
    assert_eq!(out.stdout(), "-rw-r--r--    1 root     root             6 Jan 23  2020 /etc/alpine-release\n");
    let (code, out) = sh(&host, "cat nope; rm /work-dir/d; mkdir /x/y; cd /nope").await;
    assert_eq!(code, 2);
    assert_eq!(
        out.stderr(),
        "cat: can't open 'nope': No such file or directory\nrm: '/work-dir/d' is a directory\n\
         mkdir: can't create directory '/x/y': No such file or directory\n\
         /bin/sh: cd: line 1: can't cd to /nope: No such file or directory\n"
    );
    let debian = FakeHost::new("nginx:1.27.3", "web-0");
    let (code, out) = sh(&debian, "cat nope; ls nope").await;
    assert_eq!(code, 2);
    assert_eq!(
        out.stderr(),
        "cat: nope: No such file or directory\nls: cannot access 'nope': No such file or directory\n"
    );
}

#[tokio::test(start_paused = true)]
async fn sleep_uses_the_host_clock() {
    let host = alpine();
    let start = tokio::time::Instant::now();
    let (code, out) = sh(&host, "sleep 1m 30; echo woke").await;
    assert_eq!((code, out.stdout().as_str()), (0, "woke\n"));
    assert_eq!(start.elapsed(), Duration::from_secs(90));
    let mut out = Output::buffered();
    let args = argv(&["sleep", "infinity"]);
    let forever = run_argv(&args, &host, &mut out);
    assert!(tokio::time::timeout(Duration::from_secs(10 * 365 * 86400), forever).await.is_err());
    let (code, out) = sh(&host, "echo 'sh /tmp/again' > /tmp/again; sh /tmp/again").await;
    assert_eq!(code, 2);
    assert!(out.stderr().ends_with("/tmp/again: line 1: can't fork: Resource temporarily unavailable\n"));
    let mut out = Output::buffered();
    let args = argv(&["sleep", "1e300"]);
    let huge = run_argv(&args, &host, &mut out);
    assert!(tokio::time::timeout(Duration::from_secs(86400), huge).await.is_err());
    let (code, out) = sh(&host, "sleep abc").await;
    assert_eq!((code, out.stderr().as_str()), (1, "sleep: invalid number 'abc'\n"));
}

#[tokio::test]
async fn single_commands_and_entrypoints() {
    let host = alpine();
    let mut out = Output::buffered();
    assert_eq!(run_argv(&argv(&["echo", "hi", "there"]), &host, &mut out).await, 0);
    assert_eq!(out.stdout(), "hi there\n");
    let mut out = Output::buffered();
    assert_eq!(run_argv(&argv(&["cat", "/etc/alpine-release"]), &host, &mut out).await, 0);
    assert_eq!(out.stdout(), "3.8.5\n");
    let mut out = Output::buffered();
    assert_eq!(run_argv(&argv(&["sh"]), &host, &mut out).await, 0);
    assert_eq!(check_entrypoint(&argv(&["/bin/sh", "-c", "x"]), &host.fs), Ok(()));
    assert_eq!(
        check_entrypoint(&argv(&["nginx", "-g", "daemon off;"]), &host.fs),
        Err(EntrypointError::NotInPath("nginx".into()))
    );
    let nginx = FakeHost::new("nginx:mainline", "web-0");
    assert_eq!(check_entrypoint(&argv(&["nginx", "-g", "daemon off;"]), &nginx.fs), Ok(()));
    let err = check_entrypoint(&argv(&["/opt/app"]), &host.fs).unwrap_err();
    assert_eq!(err.to_string(), "exec: \"/opt/app\": stat /opt/app: no such file or directory");
    let mut out = Output::buffered();
    assert_eq!(run_argv(&argv(&["foo"]), &host, &mut out).await, 128);
    assert!(EntrypointError::NotInPath("foo".into())
        .runtime_message()
        .contains("exec: \"foo\": executable file not found in $PATH: unknown"));
    let (code, out) = sh(&host, "foo bar; /usr/bin/wget --help >/dev/null 2>&1; echo $?").await;
    assert_eq!((code, out.text().as_str()), (0, "/bin/sh: foo: not found\n1\n"));
    let (code, out) = sh(&host, "echo (").await;
    assert_eq!((code, out.stderr().as_str()), (2, "/bin/sh: syntax error: unexpected \"(\"\n"));
}

#[tokio::test]
async fn environment_and_hostname() {
    let host = alpine();
    host.fs
        .write(
            "/etc/hosts",
            "10.244.0.9\tdns-test.x.default.svc.cluster.local\tdns-test\n",
            super::super::fs::WriteMode::Truncate,
        )
        .unwrap();
    let (_, out) = sh(
        &host,
        "env | grep -c HOSTNAME=dns-test; env FOO=bar printenv FOO; echo $HOME; hostname -f; hostname -i; whoami",
    )
    .await;
    assert_eq!(out.stdout(), "1\nbar\n/root\ndns-test.x.default.svc.cluster.local\n10.244.0.9\nroot\n");
    let (_, out) = sh(&host, "date; date +%Y-%m-%d").await;
    assert_eq!(out.stdout(), "Tue Nov 24 22:00:00 UTC 2026\n2026-11-24\n");
}

#[tokio::test]
async fn interactive_session() {
    let host = alpine();
    let mut s = Session::new("sh", &host);
    let mut out = Output::buffered();
    assert_eq!(s.prompt(), "/ # ");
    assert_eq!(s.feed("cd /tmp", &host, &mut out).await, None);
    assert_eq!(s.prompt(), "/tmp # ");
    s.feed("cd", &host, &mut out).await;
    assert_eq!(s.prompt(), "~ # ");
    assert_eq!(s.feed("for i in 1 2", &host, &mut out).await, None);
    assert_eq!(s.prompt(), "> ");
    s.feed("do echo $i; done", &host, &mut out).await;
    assert_eq!(s.prompt(), "~ # ");
    s.feed("nope", &host, &mut out).await;
    s.feed("echo $?", &host, &mut out).await;
    s.feed("cd /nope", &host, &mut out).await;
    s.feed("done", &host, &mut out).await;
    assert_eq!(
        out.text(),
        "1\n2\nsh: nope: not found\n127\nsh: cd: can't cd to /nope: No such file or directory\n\
         sh: syntax error: unexpected \"done\"\n"
    );
    let mut out = Output::buffered();
    s.feed("ls /", &host, &mut out).await;
    assert_eq!(
        out.stdout(),
        "bin    etc    lib    mnt    root   sbin   sys    usr\n\
         dev    home   media  proc   run    srv    tmp    var\n"
    );
    assert_eq!(s.feed("exit 3", &host, &mut out).await, Some(3));
    assert_eq!(s.exit_code(), Some(3));

    let debian = FakeHost::new("nginx:1.27.3", "web-0");
    let mut s = Session::new("sh", &debian);
    let mut out = Output::buffered();
    assert_eq!(s.prompt(), "# ");
    s.feed("true", &debian, &mut out).await;
    s.feed("nope", &debian, &mut out).await;
    assert_eq!(out.text(), "sh: 2: nope: not found\n");
    assert_eq!(s.eof(), 127);
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let host = alpine();
    let mut out = Output::buffered();
    let args = argv(&["sh"]);
    let fut = run_argv(&args, &host, &mut out);
    assert_send(&fut);
    let mut s = Session::new("sh", &host);
    let mut out2 = Output::buffered();
    let fut = s.feed("ls", &host, &mut out2);
    assert_send(&fut);
}

/// The nesting limit keeps a script that runs itself inside a tokio worker's 2 MiB stack.
#[test]
fn self_running_script_stops_before_the_stack_does() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let code = rt.block_on(async {
        tokio::spawn(async {
            let host = alpine();
            let (code, out) = sh(
                &host,
                "echo 'if true; then for i in 1; do x=$(sh /tmp/again); done; fi; exit 7' \
                 > /tmp/again; sh /tmp/again",
            )
            .await;
            assert!(out.stderr().contains("can't fork: Resource temporarily unavailable"));
            code
        })
        .await
    });
    assert_eq!(code.ok(), Some(7));
}

#[tokio::test]
async fn tar_creates_and_extracts_what_kubectl_cp_sends() {
    use super::super::fs::WriteMode;
    let host = FakeHost::new("busybox:1.36", "box");
    host.fs().mkdir("/data/sub", true).unwrap();
    host.fs().write("/data/a.txt", "alpha\n", WriteMode::Truncate).unwrap();
    host.fs().write("/data/sub/b.txt", "beta\n", WriteMode::Truncate).unwrap();
    let mut out = Output::buffered();
    let code = run_argv(&argv(&["tar", "cf", "-", "/data"]), &host, &mut out).await;
    assert_eq!(code, 0, "{}", out.stderr());
    assert_eq!(out.stderr(), "tar: Removing leading `/' from member names\n");
    let archive = out.stdout();
    let mut out = Output::buffered();
    let code =
        run_argv_with_input(&argv(&["tar", "-xmf", "-", "-C", "/restored"]), &host, &mut out, Some(archive.clone()))
            .await;
    assert_eq!(code, 0, "{}", out.stderr());
    assert_eq!(host.fs().read("/restored/data/sub/b.txt").unwrap(), "beta\n");
    assert_eq!(host.fs().read("/restored/data/a.txt").unwrap(), "alpha\n");
    let mut out = Output::buffered();
    run_argv_with_input(&argv(&["tar", "tf", "-"]), &host, &mut out, Some(archive)).await;
    assert_eq!(out.stdout(), "data/\ndata/a.txt\ndata/sub/\ndata/sub/b.txt\n");
    // Not an archive, and a path that climbs out.
    let mut out = Output::buffered();
    let code = run_argv_with_input(&argv(&["tar", "xf", "-"]), &host, &mut out, Some("hello".into())).await;
    assert_eq!(code, 2);
    assert!(out.stderr().starts_with("tar: This does not look like a tar archive"), "{}", out.stderr());
    let mut out = Output::buffered();
    assert_eq!(run_argv(&argv(&["tar", "cf", "-"]), &host, &mut out).await, 2);
    assert_eq!(out.stderr(), "tar: empty archive\n");
}

#[tokio::test]
async fn a_job_in_the_background_runs_while_the_script_goes_on() {
    let host = alpine();
    // `&` does not wait: the echo after it comes first; `wait` waits for the job.
    let (code, out) = sh(&host, "(sleep 1; echo job) & echo started; wait; echo done").await;
    assert_eq!((code, out.stdout().as_str()), (0, "started\njob\ndone\n"));
    // Two jobs side by side: the shorter one ends first.
    let (_, out) = sh(&host, "(sleep 2; echo slow) & (sleep 1; echo quick) & wait; echo both").await;
    assert_eq!(out.stdout(), "quick\nslow\nboth\n");
    // `$!` is the last job's process id; a job's variables stay in its subshell.
    let (_, out) = sh(&host, "x=1; x=2 & wait; echo $x; sleep 1 & echo $!").await;
    let stdout = out.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "1");
    assert!(lines[1].parse::<u32>().is_ok(), "{lines:?}");
    // A script that ends leaves no job behind: `sleep 3600 &` does not hold it.
    let (code, out) = sh(&host, "sleep 3600 & echo bye").await;
    assert_eq!((code, out.stdout().as_str()), (0, "bye\n"));
}

#[tokio::test]
async fn a_busy_background_job_neither_starves_the_script_nor_grows_without_bound() {
    let host = alpine();
    let line = "y".repeat(4000);
    let script = format!("while true; do echo {line}; done & sleep 1; echo end");
    let run = sh(&host, &script);
    let (_, out) = tokio::time::timeout(Duration::from_secs(20), run).await.expect("the script ends");
    let stdout = out.stdout();
    assert!(stdout.ends_with("end\n"), "{}", &stdout[stdout.len().saturating_sub(200)..]);
    assert!(stdout.len() <= 4 << 20, "{} bytes kept", stdout.len());
    assert!(
        out.stderr().contains("sh: background job output dropped: over 4 MiB waiting for the terminal"),
        "{}",
        out.stderr()
    );
}
