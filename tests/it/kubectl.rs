//! The real kubectl against `kubetutor sandbox`: apply (client- and server-side), get in its
//! output formats, get -w, the three patch types, scale, delete and explain.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `kubetutor sandbox` process and the kubeconfig it wrote; killed on drop.
pub(crate) struct SandboxProcess {
    child: Child,
    pub kubeconfig: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SandboxProcess {
    pub(crate) fn start(extra: &[&str]) -> SandboxProcess {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubetutor"))
            .args(["sandbox", "--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "sandbox exited before it was ready");
            if line.contains("export KUBECONFIG=") {
                break;
            }
        }
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        SandboxProcess { child, kubeconfig, dir }
    }

    /// kubectl for this sandbox, ended after two minutes (coreutils' `timeout`, exit 124): a
    /// command that waits for something that never comes (a delete waiting for its pods)
    /// fails the test instead of hanging the suite.
    pub(crate) fn kubectl(&self) -> Command {
        let mut c = Command::new("timeout");
        c.args(["--kill-after=5", "120", "kubectl"]);
        c.env("KUBECONFIG", &self.kubeconfig).arg("--cache-dir").arg(self.dir.path().join("cache"));
        c
    }

    /// kubectl for a process the test runs until it kills it (`port-forward`): without
    /// `timeout` in between, so that the kill reaches kubectl itself.
    pub(crate) fn kubectl_until_killed(&self) -> Command {
        let mut c = Command::new("kubectl");
        c.env("KUBECONFIG", &self.kubeconfig).arg("--cache-dir").arg(self.dir.path().join("cache"));
        c
    }

    /// Run kubectl with these args; returns stdout, failing the test with stderr on error.
    pub(crate) fn run(&self, args: &[&str]) -> String {
        let out = self.kubectl().args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "kubectl {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }

    /// Run kubectl expecting failure; returns stderr.
    pub(crate) fn fail(&self, args: &[&str]) -> String {
        let out = self.kubectl().args(args).output().unwrap();
        assert!(!out.status.success(), "kubectl {args:?} should have failed");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
}

pub(crate) fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

const SERVICE: &str = "apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  clusterIP: None
  selector:
    app: nginx
  ports:
  - port: 80
    name: web
    targetPort: web
";

const CONFIGMAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
";

#[test]
fn kubectl_auth_can_i_for_the_admin_and_an_attendee() {
    // kubectl sends this review as protobuf only.
    let sb = SandboxProcess::start(&["--attendees", "2"]);
    assert_eq!(sb.run(&["auth", "can-i", "create", "statefulsets"]).trim(), "yes");
    let attendee = sb.dir.path().join("attendee-01.kubeconfig");
    let can_i = |ns: &str| {
        let out =
            sb.kubectl().env("KUBECONFIG", &attendee).args(["auth", "can-i", "delete", "pods", "-n", ns]).output();
        let out = out.unwrap();
        (String::from_utf8_lossy(&out.stdout).trim().to_string(), out.status.code())
    };
    assert_eq!(can_i("attendee-01"), ("yes".to_string(), Some(0)));
    assert_eq!(can_i("attendee-02"), ("no".to_string(), Some(1)));
}

#[test]
fn kubectl_create_sends_protobuf_and_it_is_read() {
    // kubectl 1.32's typed clients send these objects as protobuf only.
    let sb = SandboxProcess::start(&[]);
    assert_eq!(
        sb.run(&["create", "configmap", "settings", "--from-literal=color=blue"]).trim(),
        "configmap/settings created"
    );
    assert_eq!(sb.run(&["get", "configmap", "settings", "-o", "jsonpath={.data.color}"]), "blue");
    assert_eq!(sb.run(&["create", "namespace", "team"]).trim(), "namespace/team created");
    assert!(sb.run(&["get", "namespaces"]).contains("team "));
    assert_eq!(sb.run(&["create", "service", "clusterip", "s1", "--tcp=80:8080"]).trim(), "service/s1 created");
    assert_eq!(
        sb.run(&["get", "service", "s1", "-o", "jsonpath={.spec.ports[0]}"]),
        r#"{"name":"80-8080","port":80,"protocol":"TCP","targetPort":8080}"#
    );
    assert_eq!(sb.run(&["get", "service", "s1", "-o", "jsonpath={.spec.selector}"]), r#"{"app":"s1"}"#);
    assert_eq!(sb.run(&["create", "serviceaccount", "robot", "-n", "team"]).trim(), "serviceaccount/robot created");
    assert!(sb.run(&["get", "serviceaccounts", "-n", "team"]).contains("robot"));
}

#[test]
fn kubectl_cp_both_ways_and_exec_with_stdin() {
    use std::io::Write as _;
    let sb = SandboxProcess::start(&["--speed", "25"]);
    sb.run(&["run", "box", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600"]);
    sb.run(&["wait", "--for=condition=Ready", "pod/box", "--timeout=60s"]);
    // Into the pod: one file, then a folder (kubectl runs `tar -xmf - -C DIR` with the archive on stdin).
    let dir = sb.dir.path().join("notes");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(dir.join("sub/b.txt"), "beta\n").unwrap();
    sb.run(&["cp", path_str(&dir.join("a.txt")), "box:/tmp/a.txt"]);
    assert_eq!(sb.run(&["exec", "box", "--", "cat", "/tmp/a.txt"]), "alpha\n");
    sb.run(&["cp", path_str(&dir), "box:/tmp/notes"]);
    assert_eq!(sb.run(&["exec", "box", "--", "cat", "/tmp/notes/sub/b.txt"]), "beta\n");
    // Out of the pod (`tar cf - PATH` on stdout).
    sb.run(&["exec", "box", "--", "sh", "-c", "echo gamma > /tmp/c.txt"]);
    let back = sb.dir.path().join("c.txt");
    sb.run(&["cp", "box:/tmp/c.txt", path_str(&back)]);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "gamma\n");
    let tree = sb.dir.path().join("tree");
    sb.run(&["cp", "box:/tmp/notes", path_str(&tree)]);
    assert_eq!(std::fs::read_to_string(tree.join("sub/b.txt")).unwrap(), "beta\n");
    // `&` runs a job in the background; `wait` waits for it.
    assert_eq!(
        sb.run(&["exec", "box", "--", "sh", "-c", "(sleep 1; echo job) & echo started; wait"]),
        "started\njob\n"
    );
    // A pipe into `kubectl exec -i` reaches the command; a stdin left empty does not hold it.
    let mut child = sb
        .kubectl()
        .args(["exec", "-i", "box", "--", "wc", "-l"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"1\n2\n3\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
    let started = Instant::now();
    let out = sb.kubectl().args(["exec", "-i", "box", "--", "ls", "/tmp"]).stdin(Stdio::null()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("a.txt"));
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// `kubectl port-forward pod/web-0 PORTS` running, and the local port it listens on.
fn port_forward(sb: &SandboxProcess, ports: &str) -> (Child, u16) {
    let mut child = sb
        .kubectl_until_killed()
        .args(["port-forward", "pod/web-0", ports])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // kubectl goes on printing a line per connection: keep reading, or it stops on a closed pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    let port = line
        .strip_prefix("Forwarding from 127.0.0.1:")
        .and_then(|l| l.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    (child, port)
}

#[test]
fn kubectl_port_forward_reaches_the_pods_server() {
    use std::io::{Read as _, Write as _};
    let sb = SandboxProcess::start(&["--speed", "25"]);
    let svc = sb.write("svc.yaml", SERVICE);
    let sts = sb.write("web.yaml", EXERCISE);
    sb.run(&["apply", "-f", path_str(&svc), "-f", path_str(&sts)]);
    sb.run(&["rollout", "status", "statefulset/web", "--timeout=60s"]);
    // kubectl 1.31+ tunnels SPDY through a WebSocket; `:80` picks a free local port.
    let (mut child, port) = port_forward(&sb, ":80");
    let get = |path: &str| {
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(tcp, "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test/1\r\n\r\n").unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        answer
    };
    let page = get("/");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.ends_with("\r\n\r\nweb-0\n"), "{page}");
    assert!(get("/missing").starts_with("HTTP/1.1 404 Not Found\r\n"));
    // nginx logged both, from 127.0.0.1 as a real port-forward is seen.
    let logs = sb.run(&["logs", "web-0", "-c", "nginx"]);
    assert!(
        logs.contains("127.0.0.1 - - [")
            && logs.contains("\"GET /missing HTTP/1.1\" 404")
            && logs.contains("\"test/1\""),
        "{logs}"
    );
    let _ = child.kill();
    let _ = child.wait();

    // Nothing listens on 81: the connection is closed and kubectl says why.
    let (mut child, port) = port_forward(&sb, ":81");
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(tcp, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    assert_eq!(answer, "");
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!status.success());
    assert!(
        err.contains("error forwarding port 81 to pod web-0") && err.contains("connect: connection refused"),
        "{err}"
    );
}

#[test]
fn kubectl_apply_get_patch_delete() {
    let sb = SandboxProcess::start(&[]);
    let svc = sb.write("svc.yaml", SERVICE);
    let out = sb.run(&["apply", "-f", path_str(&svc)]);
    assert_eq!(out.trim(), "service/nginx created");
    let out = sb.run(&["apply", "-f", path_str(&svc)]);
    assert_eq!(out.trim(), "service/nginx unchanged");

    // get as a table, as yaml, jsonpath and go-template
    let out = sb.run(&["get", "svc", "nginx"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..5], ["nginx", "ClusterIP", "None", "<none>", "80/TCP"]);
    let out = sb.run(&["get", "svc", "nginx", "-o", "yaml"]);
    assert!(out.contains("clusterIP: None"), "{out}");
    assert!(out.contains("kubectl.kubernetes.io/last-applied-configuration"), "{out}");
    let out = sb.run(&["get", "svc", "nginx", "-o", "jsonpath={.spec.ports[0].targetPort}"]);
    assert_eq!(out, "web");
    let out = sb.run(&["get", "svc", "nginx", "--template", "{{range .spec.ports}}{{.name}}{{end}}"]);
    assert_eq!(out, "web");

    // client-side apply of a change goes through a strategic merge patch
    let cm = sb.write("cm.yaml", CONFIGMAP);
    sb.run(&["apply", "-f", path_str(&cm)]);
    let changed = sb.write("cm2.yaml", &CONFIGMAP.replace("blue", "green"));
    assert_eq!(sb.run(&["apply", "-f", path_str(&changed)]).trim(), "configmap/settings configured");
    assert_eq!(sb.run(&["get", "cm", "settings", "-o", "jsonpath={.data.color}"]), "green");

    // server-side apply
    let ssa = sb.write("cm3.yaml", &CONFIGMAP.replace("settings", "ssa"));
    assert_eq!(sb.run(&["apply", "--server-side", "-f", path_str(&ssa)]).trim(), "configmap/ssa serverside-applied");
    let out = sb.run(&["get", "cm", "ssa", "-o", "yaml", "--show-managed-fields"]);
    assert!(out.contains("manager: kubectl"), "{out}");

    // the three patch types
    sb.run(&["patch", "cm", "settings", "-p", r#"{"data":{"size":"L"}}"#]);
    sb.run(&["patch", "cm", "settings", "--type=merge", "-p", r#"{"data":{"shape":"round"}}"#]);
    sb.run(&[
        "patch",
        "cm",
        "settings",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/data/color","value":"red"}]"#,
    ]);
    let out = sb.run(&["get", "cm", "settings", "-o", "jsonpath={.data}"]);
    let data: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(data, serde_json::json!({"color": "red", "size": "L", "shape": "round"}));

    // an unknown field is caught by strict validation
    let typo = sb.write("typo.yaml", &CONFIGMAP.replace("\ndata:", "\ndta:"));
    let err = sb.fail(&["apply", "-f", path_str(&typo)]);
    assert!(err.contains("unknown field \"dta\""), "{err}");

    // delete
    assert_eq!(sb.run(&["delete", "cm", "settings"]).trim(), "configmap \"settings\" deleted");
    let err = sb.fail(&["get", "cm", "settings"]);
    assert!(err.contains("configmaps \"settings\" not found"), "{err}");
}

const STATEFULSET: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:mainline
        ports:
        - containerPort: 80
          name: web
";

#[test]
fn kubectl_scale_explain_and_watch() {
    let sb = SandboxProcess::start(&[]);
    let sts = sb.write("sts.yaml", STATEFULSET);
    sb.run(&["apply", "-f", path_str(&sts)]);
    assert_eq!(sb.run(&["scale", "statefulset", "web", "--replicas=3"]).trim(), "statefulset.apps/web scaled");
    assert_eq!(sb.run(&["get", "sts", "web", "-o", "jsonpath={.spec.replicas}"]), "3");
    sb.run(&[
        "patch",
        "statefulset",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}"#,
    ]);
    assert_eq!(sb.run(&["get", "sts", "web", "-o", "jsonpath={.spec.updateStrategy.rollingUpdate.partition}"]), "2");

    let out = sb.run(&["explain", "statefulset.spec.serviceName"]);
    assert!(out.contains("serviceName"), "{out}");
    assert!(out.to_lowercase().contains("service"), "{out}");

    // get -w prints changes as they happen
    let mut watch = sb
        .kubectl_until_killed()
        .args(["get", "configmaps", "-w", "--output-watch-events"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let cm = sb.write("cm.yaml", CONFIGMAP);
    sb.run(&["apply", "-f", path_str(&cm)]);
    sb.run(&["delete", "-f", path_str(&cm)]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.starts_with("DELETED")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("kubectl get -w printed only {lines:?}"),
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(lines.iter().any(|l| l.starts_with("ADDED") && l.contains("settings")), "{lines:?}");
}

/// The seed exercise's manifests with the blanks filled in.
const EXERCISE: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      initContainers:
      - name: setup
        image: alpine:3.8
        command:
        - /bin/sh
        - -c
        - echo $(hostname) >> /work-dir/index.html
        volumeMounts:
        - name: www
          mountPath: /work-dir
      containers:
      - name: nginx
        image: nginx:mainline
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ \"ReadWriteOnce\" ]
      resources:
        requests:
          storage: 1Gi
";

/// Lines a background `kubectl get pods -w` printed so far.
struct PodWatch {
    child: Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl PodWatch {
    fn start(sb: &SandboxProcess) -> PodWatch {
        let mut child = sb.kubectl_until_killed().args(["get", "pods", "-w"]).stdout(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        PodWatch { child, lines }
    }
    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `kubectl get pods` until `n` pods of the set are Running and 1/1 Ready.
fn wait_running(sb: &SandboxProcess, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = sb.run(&["get", "pods", "-l", "app=nginx", "--no-headers"]);
        let running = out.lines().filter(|l| l.contains(" 1/1 ") && l.contains(" Running ")).count();
        if running == n && out.lines().count() == n {
            return out;
        }
        assert!(Instant::now() < deadline, "pods never reached {n} Running:\n{out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn image_of(sb: &SandboxProcess, pod: &str) -> String {
    sb.run(&["get", "po", pod, "--template", "{{range $i, $c := .spec.containers}}{{$c.image}}{{end}}"])
}

/// Run a one-off alpine pod, the way the lesson's probe works, and return its log.
fn probe(sb: &SandboxProcess, name: &str, script: &str) -> String {
    sb.run(&["run", name, "--image=alpine:3.8", "--restart=Never", "--", "sh", "-c", script]);
    sb.run(&["wait", "--for=jsonpath={.status.phase}=Succeeded", &format!("pod/{name}"), "--timeout=60s"]);
    let log = sb.run(&["logs", name]);
    sb.run(&["delete", "pod", name, "--wait=false"]);
    log
}

#[test]
fn the_seed_exercise_with_kubectl() {
    // Fast, yet slow enough that a deleted pod stays Terminating for a few real milliseconds
    // (kubectl delete's wait looks the pod up, then watches; see the kubelet's NGINX_STOP).
    let sb = SandboxProcess::start(&["--speed", "25"]);
    let watch = PodWatch::start(&sb);
    let svc = sb.write("svc.yaml", SERVICE);
    let sts = sb.write("web.yaml", EXERCISE);
    sb.run(&["apply", "-f", path_str(&svc)]);
    assert_eq!(sb.run(&["apply", "-f", path_str(&sts)]).trim(), "statefulset.apps/web created");

    // Ordered creation: web-1 shows up only after web-0 is Running and Ready.
    let out = sb.run(&["rollout", "status", "statefulset/web", "--timeout=60s"]);
    assert!(out.contains("partitioned roll out complete: 2 new pods have been updated"), "{out}");
    wait_running(&sb, 2);
    let lines = watch.lines();
    let web0_ready =
        lines.iter().position(|l| l.starts_with("web-0 ") && l.contains(" 1/1 ")).expect("web-0 ready line");
    let web1_first = lines.iter().position(|l| l.starts_with("web-1 ")).expect("web-1 line");
    assert!(web0_ready < web1_first, "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("web-0 ") && l.contains("Init:0/1")), "{lines:#?}");
    let pvcs = sb.run(&["get", "pvc", "--no-headers"]);
    assert!(pvcs.contains("www-web-0") && pvcs.contains("www-web-1") && pvcs.contains("Bound"), "{pvcs}");

    // DNS per pod and each pod's page.
    let ip0 = sb.run(&["get", "pod", "web-0", "-o", "jsonpath={.status.podIP}"]);
    let log = probe(&sb, "dns-test", "nslookup web-0.nginx; wget -q -O - web-0.nginx; wget -q -O - web-1.nginx");
    assert!(log.contains(&format!("Address 1: {ip0} web-0.nginx.default.svc.cluster.local")), "{log}");
    assert!(log.ends_with("web-0\nweb-1\n"), "{log}");

    // The lesson's interactive probe, with its input piped instead of typed.
    let mut run = sb
        .kubectl()
        .args(["run", "dns-test", "-i", "--rm", "--restart=Never", "--image=alpine:3.8", "--", "sh"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = run.stdin.take().unwrap();
        stdin
            .write_all(
                b"hostname
wget -q -O - web-1.nginx
exit
",
            )
            .unwrap();
    }
    let done = run.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&done.stdout);
    assert!(done.status.success(), "{out}\n{}", String::from_utf8_lossy(&done.stderr));
    assert!(out.contains("dns-test\nweb-1\n"), "{out}");
    assert!(out.contains("pod \"dns-test\" deleted"), "{out}");
    assert_eq!(sb.run(&["exec", "web-0", "-c", "nginx", "--", "cat", "/usr/share/nginx/html/index.html"]), "web-0\n");
    let err = sb.fail(&["exec", "web-0", "-c", "nginx", "--", "sh", "-c", "exit 3"]);
    assert!(err.contains("command terminated with exit code 3"), "{err}");

    // Delete the pods: they return with the same names, and the init container appended again.
    // kubectl waits for the deletion; bounded, so a missed event fails instead of hanging.
    sb.run(&["delete", "pod", "-l", "app=nginx", "--timeout=60s"]);
    wait_running(&sb, 2);
    let new_ip0 = sb.run(&["get", "pod", "web-0", "-o", "jsonpath={.status.podIP}"]);
    assert_ne!(ip0, new_ip0, "a re-created pod gets a new IP");
    let log = probe(&sb, "dns-test-2", "wget -q -O - web-0.nginx");
    assert_eq!(log, "web-0\nweb-0\n");

    // Scale to 3, then the canary with both patch commands of the exercise.
    sb.run(&["scale", "sts", "web", "--replicas=3"]);
    wait_running(&sb, 3);
    sb.run(&[
        "patch",
        "statefulset",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}"#,
    ]);
    sb.run(&[
        "patch",
        "statefulset",
        "web",
        "--type=json",
        "-p",
        r#"[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"nginx:1.13.12"}]"#,
    ]);
    let out = sb.run(&["rollout", "status", "statefulset/web", "--timeout=60s"]);
    assert!(out.contains("partitioned roll out complete: 1 new pods have been updated"), "{out}");
    wait_running(&sb, 3);
    assert_eq!(image_of(&sb, "web-2"), "nginx:1.13.12");
    assert_eq!(image_of(&sb, "web-1"), "nginx:mainline");
    assert_eq!(image_of(&sb, "web-0"), "nginx:mainline");

    // Partition 0 rolls the rest, from web-1 down to web-0.
    sb.run(&["patch", "statefulset", "web", "-p", r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#]);
    let out = sb.run(&["rollout", "status", "statefulset/web", "--timeout=60s"]);
    assert!(out.contains("partitioned roll out complete: 3 new pods have been updated"), "{out}");
    for pod in ["web-0", "web-1", "web-2"] {
        assert_eq!(image_of(&sb, pod), "nginx:1.13.12", "{pod}");
    }
    let status = sb.run(&[
        "get",
        "sts",
        "web",
        "-o",
        "jsonpath={.status.currentRevision} {.status.updateRevision} {.status.updatedReplicas}",
    ]);
    let parts: Vec<&str> = status.split(' ').collect();
    assert_eq!(parts[0], parts[1], "{status}");
    assert_eq!(parts[2], "3");
}
