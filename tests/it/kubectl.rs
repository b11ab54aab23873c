//! The real kubectl against `kubetutor sandbox`: apply (client- and server-side), get in its
//! output formats, get -w, the three patch types, scale, delete and explain.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `kubetutor sandbox` process and the kubeconfig it wrote; killed on drop.
pub struct SandboxProcess {
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
    pub fn start(extra: &[&str]) -> SandboxProcess {
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

    pub fn kubectl(&self) -> Command {
        let mut c = Command::new("kubectl");
        c.env("KUBECONFIG", &self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"));
        c
    }

    /// Run kubectl with these args; returns stdout, failing the test with stderr on error.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.kubectl().args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "kubectl {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }

    /// Run kubectl expecting failure; returns stderr.
    pub fn fail(&self, args: &[&str]) -> String {
        let out = self.kubectl().args(args).output().unwrap();
        assert!(!out.status.success(), "kubectl {args:?} should have failed");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
}

pub fn path_str(p: &Path) -> &str {
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
    sb.run(&["patch", "cm", "settings", "--type=json", "-p", r#"[{"op":"replace","path":"/data/color","value":"red"}]"#]);
    let out = sb.run(&["get", "cm", "settings", "-o", "jsonpath={.data}"]);
    let data: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(data, serde_json::json!({"color": "red", "size": "L", "shape": "round"}));

    // an unknown field is caught by strict validation
    let typo = sb.write("typo.yaml", &CONFIGMAP.replace("data:", "dta:"));
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
    sb.run(&["patch", "statefulset", "web", "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}"#]);
    assert_eq!(sb.run(&["get", "sts", "web", "-o", "jsonpath={.spec.updateStrategy.rollingUpdate.partition}"]), "2");

    let out = sb.run(&["explain", "statefulset.spec.serviceName"]);
    assert!(out.contains("serviceName"), "{out}");
    assert!(out.to_lowercase().contains("service"), "{out}");

    // get -w prints changes as they happen
    let mut watch = sb
        .kubectl()
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
