//! The kubernetes.io "StatefulSet Basics" tutorial, its commands in order, with the real kubectl
//! against `kubetutor sandbox`: ordered creation, stable network identity (DNS from a
//! short-lived pod), stable storage (hostnames written by `kubectl exec`, read back with
//! `curl http://localhost/` after the pods were deleted), scaling up and down, rolling updates
//! with and without a partition, non-cascading delete and re-adoption, cascading delete, and
//! the Parallel pod management policy.

use std::time::{Duration, Instant};

use super::kubectl::{path_str, SandboxProcess};

/// The tutorial's web.yaml: a headless Service and the StatefulSet, with the nginx-slim image.
fn web_yaml(policy: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector:
    app: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: \"nginx\"
  replicas: 2
{policy}  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.21
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
"
    )
}

/// Poll until `check(kubectl get ...)` holds.
fn until(sb: &SandboxProcess, args: &[&str], what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = sb.kubectl().args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && check(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "never {what}:\n{text}{}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The pods' names when exactly `n` of them are Running and Ready.
fn running(sb: &SandboxProcess, n: usize) -> Vec<String> {
    let out = until(sb, &["get", "pods", "-l", "app=nginx", "--no-headers"], &format!("{n} pods Running"), |o| {
        o.lines().count() == n && o.lines().all(|l| l.contains(" 1/1 ") && l.contains(" Running "))
    });
    out.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
}

fn image_of(sb: &SandboxProcess, pod: &str) -> String {
    sb.run(&["get", "pod", pod, "--template", "{{range $i, $c := .spec.containers}}{{$c.image}}{{end}}"])
}

fn uid_of(sb: &SandboxProcess, pod: &str) -> String {
    sb.run(&["get", "pod", pod, "-o", "jsonpath={.metadata.uid}"])
}

#[test]
fn statefulset_basics_runs_unmodified() {
    let sb = SandboxProcess::start(&["--speed", "25"]);
    let web = sb.write("web.yaml", &web_yaml(""));

    // Creating a StatefulSet.
    let out = sb.run(&["apply", "-f", path_str(&web)]);
    assert_eq!(out, "service/nginx created\nstatefulset.apps/web created\n");
    assert_eq!(running(&sb, 2), ["web-0", "web-1"]);
    assert!(sb.run(&["get", "service", "nginx"]).contains("None"));
    let sts = sb.run(&["get", "statefulset", "web"]);
    assert!(sts.lines().nth(1).is_some_and(|l| l.starts_with("web    2/2")), "{sts}");

    // Pods in a StatefulSet: ordinal index and stable network identity.
    for i in 0..2 {
        let host = sb.run(&["exec", &format!("web-{i}"), "--", "sh", "-c", "hostname"]);
        assert_eq!(host.trim(), format!("web-{i}"));
    }
    let dns = sb.run(&[
        "run",
        "dns-test",
        "-i",
        "--image",
        "busybox:1.28",
        "--restart=Never",
        "--rm",
        "--",
        "nslookup",
        "web-0.nginx",
    ]);
    assert!(dns.contains("Name:      web-0.nginx"), "{dns}");

    // Delete the pods: they come back with the same names, new UIDs.
    let before = uid_of(&sb, "web-0");
    sb.run(&["delete", "pod", "-l", "app=nginx"]);
    assert_eq!(running(&sb, 2), ["web-0", "web-1"]);
    assert_ne!(uid_of(&sb, "web-0"), before);

    // Stable storage: write each hostname, delete the pods, read it back.
    let pvcs = sb.run(&["get", "pvc", "-l", "app=nginx"]);
    assert!(pvcs.contains("www-web-0") && pvcs.contains("www-web-1") && pvcs.contains("Bound"), "{pvcs}");
    for i in 0..2 {
        sb.run(&[
            "exec",
            &format!("web-{i}"),
            "--",
            "sh",
            "-c",
            "echo \"$(hostname)\" > /usr/share/nginx/html/index.html",
        ]);
    }
    for i in 0..2 {
        assert_eq!(sb.run(&["exec", &format!("web-{i}"), "--", "curl", "http://localhost/"]), format!("web-{i}\n"));
    }
    sb.run(&["delete", "pod", "-l", "app=nginx"]);
    running(&sb, 2);
    for i in 0..2 {
        assert_eq!(sb.run(&["exec", &format!("web-{i}"), "--", "curl", "http://localhost/"]), format!("web-{i}\n"));
    }

    // Scaling up and down: claims stay.
    sb.run(&["scale", "sts", "web", "--replicas=5"]);
    assert_eq!(running(&sb, 5), ["web-0", "web-1", "web-2", "web-3", "web-4"]);
    sb.run(&["patch", "sts", "web", "-p", r#"{"spec":{"replicas":3}}"#]);
    running(&sb, 3);
    let pvcs = sb.run(&["get", "pvc", "-l", "app=nginx", "--no-headers"]);
    assert_eq!(pvcs.lines().count(), 5, "{pvcs}");

    // Rolling update.
    let to = |image: &str| {
        format!(r#"[{{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"{image}"}}]"#)
    };
    sb.run(&["patch", "statefulset", "web", "--type=json", "-p", &to("registry.k8s.io/nginx-slim:0.24")]);
    let status = sb.run(&["rollout", "status", "sts/web", "--timeout=60s"]);
    assert!(status.contains("partitioned roll out complete: 3 new pods have been updated"), "{status}");
    for p in ["web-0", "web-1", "web-2"] {
        assert_eq!(image_of(&sb, p), "registry.k8s.io/nginx-slim:0.24");
    }

    // Staging an update with a partition, then a canary, then a phased roll out.
    sb.run(&[
        "patch",
        "statefulset",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":3}}}}"#,
    ]);
    sb.run(&["patch", "statefulset", "web", "--type=json", "-p", &to("registry.k8s.io/nginx-slim:0.21")]);
    sb.run(&["delete", "pod", "web-2"]);
    running(&sb, 3);
    assert_eq!(image_of(&sb, "web-2"), "registry.k8s.io/nginx-slim:0.24", "below the partition: the current revision");
    sb.run(&[
        "patch",
        "statefulset",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}"#,
    ]);
    until(&sb, &["get", "pod", "web-2", "-o", "jsonpath={.spec.containers[0].image}"], "the canary", |i| {
        i == "registry.k8s.io/nginx-slim:0.21"
    });
    running(&sb, 3);
    assert_eq!(image_of(&sb, "web-1"), "registry.k8s.io/nginx-slim:0.24");
    sb.run(&[
        "patch",
        "statefulset",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}"#,
    ]);
    let status = sb.run(&["rollout", "status", "sts/web", "--timeout=60s"]);
    assert!(status.contains("roll out complete"), "{status}");
    for p in ["web-0", "web-1", "web-2"] {
        assert_eq!(image_of(&sb, p), "registry.k8s.io/nginx-slim:0.21");
    }
    // OnDelete.
    sb.run(&[
        "patch",
        "statefulset",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}"#,
    ]);
    assert_eq!(sb.run(&["get", "sts", "web", "-o", "jsonpath={.spec.updateStrategy.type}"]), "OnDelete");

    // Non-cascading delete: the pods stay, orphaned; applied again, the StatefulSet adopts them.
    let kept = uid_of(&sb, "web-1");
    let out = sb.run(&["delete", "statefulset", "web", "--cascade=orphan"]);
    assert_eq!(out.trim(), "statefulset.apps \"web\" deleted");
    assert_eq!(running(&sb, 3), ["web-0", "web-1", "web-2"]);
    assert_eq!(sb.run(&["get", "pod", "web-1", "-o", "jsonpath={.metadata.ownerReferences}"]), "");
    sb.run(&["delete", "pod", "web-0"]);
    assert_eq!(running(&sb, 2), ["web-1", "web-2"], "no controller re-creates web-0");
    sb.run(&["apply", "-f", path_str(&web)]);
    // web-0 is made again, web-1 adopted, web-2 (beyond replicas: 2) removed.
    assert_eq!(running(&sb, 2), ["web-0", "web-1"]);
    assert_eq!(uid_of(&sb, "web-1"), kept, "adopted, not re-created");
    let owner = sb.run(&[
        "get",
        "pod",
        "web-1",
        "-o",
        "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}",
    ]);
    assert_eq!(owner, "StatefulSet/web");
    for i in 0..2 {
        assert_eq!(sb.run(&["exec", &format!("web-{i}"), "--", "curl", "http://localhost/"]), format!("web-{i}\n"));
    }

    // Cascading delete: the pods go with the StatefulSet.
    sb.run(&["delete", "statefulset", "web"]);
    until(&sb, &["get", "pods", "-l", "app=nginx", "-o", "name"], "the pods gone", str::is_empty);
    sb.run(&["delete", "service", "nginx"]);
    assert!(sb.run(&["get", "endpoints", "-o", "name"]).lines().all(|l| l != "endpoints/nginx"));

    // Parallel pod management: both pods start together.
    let parallel = sb.write("web-parallel.yaml", &web_yaml("  podManagementPolicy: \"Parallel\"\n"));
    sb.run(&["apply", "-f", path_str(&parallel)]);
    running(&sb, 2);
    sb.run(&["scale", "statefulset/web", "--replicas=4"]);
    running(&sb, 4);
    sb.run(&["delete", "sts", "web"]);
    sb.run(&["delete", "svc", "nginx"]);
    sb.run(&["delete", "pvc", "www-web-0", "www-web-1", "www-web-2", "www-web-3", "www-web-4"]);
    until(&sb, &["get", "pvc", "-o", "name"], "the claims gone", str::is_empty);
}
