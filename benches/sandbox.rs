//! The sandbox benchmark (`cargo bench --bench sandbox`): start-up, GET latency, watch latency
//! under 100 watchers, request throughput, the whole exercise at full speed, a 1,000-replica
//! Parallel StatefulSet, and memory with 10,000 pods; with the argument `room`, a workshop room
//! of 30 attendees solving the lesson while one abuses the sandbox (benches/room.rs). Prints a
//! Markdown table for README.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::Client;
use serde_json::{json, Value};

#[path = "sandbox/room.rs"]
mod room;

use kube_sandbox::{Sandbox, SandboxConfig};

struct Served {
    sandbox: Sandbox,
    kubeconfig: String,
    _serving: kube_sandbox::Serving,
}

async fn serve(config: SandboxConfig) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let sandbox = Sandbox::start(config).expect("sandbox");
    let serving = sandbox.serve_on(listener).expect("serve");
    let kubeconfig = sandbox.kubeconfig(serving.url(), "default");
    Served { sandbox, kubeconfig, _serving: serving }
}

async fn http_client(kubeconfig: &str) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.expect("config");
    Client::try_from(cfg).expect("client")
}

fn fast() -> SandboxConfig {
    SandboxConfig { speed: f64::INFINITY, ..Default::default() }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Resident and peak memory of this process, in MiB, from /proc.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Wait until the store holds `n` Ready pods in `ns`, woken by its changes.
async fn wait_ready(sb: &Sandbox, ns: &str, n: usize, what: &str) {
    let mut rx = sb.changes();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // From the stored summaries: parsing every pod on every change would load the machine.
        if sb.ready_pods(ns) >= n {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        let _ = tokio::time::timeout(Duration::from_millis(50), rx.next()).await;
    }
}

async fn wait_sts(sb: &Sandbox, name: &str, what: &str, ok: impl Fn(&Value) -> bool) {
    let mut rx = sb.changes();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if sb.object("statefulsets", "default", name).is_some_and(|s| ok(&s)) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        // Looked at again when a StatefulSet changes (or after a while): the harness must not
        // spend the machine's time re-reading the set on each of the pods' changes.
        let _ = tokio::time::timeout(Duration::from_millis(50), async {
            while let Some(plural) = rx.next().await {
                if plural == "statefulsets" {
                    return;
                }
            }
        })
        .await;
    }
}

async fn bench_start(rows: &mut Vec<(String, String)>) {
    let mut inproc = Vec::new();
    let mut https = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let sb = Sandbox::start(SandboxConfig::default()).expect("sandbox");
        sb.client().apiserver_version().await.expect("version");
        inproc.push(t.elapsed());
        drop(sb);
        let t = Instant::now();
        let s = serve(SandboxConfig::default()).await;
        let c = http_client(&s.kubeconfig).await;
        c.apiserver_version().await.expect("version");
        https.push(t.elapsed());
    }
    inproc.sort();
    https.sort();
    rows.push(("start to first API answer, in-process client (median of 20)".into(), ms(percentile(&inproc, 0.5))));
    rows.push((
        "start to first API answer, HTTPS on loopback incl. TLS set-up (median of 20)".into(),
        ms(percentile(&https, 0.5)),
    ));
}

async fn bench_get(rows: &mut Vec<(String, String)>) {
    let s = serve(fast()).await;
    let cm = json!({"metadata": {"name": "bench"}, "data": {"k": "v"}});
    let clients = [("in-process", s.sandbox.client()), ("HTTPS", http_client(&s.kubeconfig).await)];
    Api::<ConfigMap>::namespaced(clients[0].1.clone(), "default")
        .create(&PostParams::default(), &serde_json::from_value(cm).expect("cm"))
        .await
        .expect("create");
    for (label, client) in clients {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        for _ in 0..200 {
            api.get("bench").await.expect("get");
        }
        let mut lat = Vec::with_capacity(5000);
        for _ in 0..5000 {
            let t = Instant::now();
            api.get("bench").await.expect("get");
            lat.push(t.elapsed());
        }
        lat.sort();
        rows.push((
            format!("GET a ConfigMap, {label}: p50 / p99 (5,000 sequential)"),
            format!("{} / {}", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99))),
        ));
        // Throughput: 8 concurrent callers for 2 seconds.
        let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let end = Instant::now() + Duration::from_secs(2);
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let api = api.clone();
            let count = count.clone();
            tasks.push(tokio::spawn(async move {
                while Instant::now() < end {
                    api.get("bench").await.expect("get");
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let n = count.load(std::sync::atomic::Ordering::Relaxed);
        rows.push((format!("GET requests/s, {label}, 8 concurrent callers"), format!("{:.0}", n as f64 / 2.0)));
    }
}

async fn bench_watch(rows: &mut Vec<(String, String)>) {
    let s = serve(fast()).await;
    let client = http_client(&s.kubeconfig).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "w"}, "data": {"seq": "0"}})).expect("cm"),
    )
    .await
    .expect("create");
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let lat: Arc<Mutex<Vec<Duration>>> = Arc::default();
    const WATCHERS: usize = 100;
    const UPDATES: usize = 300;
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(WATCHERS);
    let mut tasks = Vec::new();
    for _ in 0..WATCHERS {
        // Each watcher has its own client, so each has its own connection, like separate programs.
        let client = http_client(&s.kubeconfig).await;
        let (sent, lat, ready_tx) = (sent.clone(), lat.clone(), ready_tx.clone());
        tasks.push(tokio::spawn(async move {
            let api: Api<ConfigMap> = Api::namespaced(client, "default");
            let rv = api.get("w").await.expect("get").metadata.resource_version.expect("rv");
            let mut stream = api.watch(&WatchParams::default().timeout(290), &rv).await.expect("watch").boxed();
            ready_tx.send(()).await.expect("ready");
            let mut seen = 0;
            while let Some(ev) = stream.try_next().await.expect("event") {
                if let WatchEvent::Modified(cm) = ev {
                    let now = Instant::now();
                    let seq = cm.data.and_then(|d| d.get("seq").cloned()).unwrap_or_default();
                    if let Some(t) = sent.lock().expect("lock").get(&seq) {
                        lat.lock().expect("lock").push(now - *t);
                    }
                    seen += 1;
                    if seen == UPDATES {
                        return;
                    }
                }
            }
        }));
    }
    for _ in 0..WATCHERS {
        ready_rx.recv().await.expect("watcher ready");
    }
    for i in 1..=UPDATES {
        let seq = i.to_string();
        sent.lock().expect("lock").insert(seq.clone(), Instant::now());
        api.patch("w", &PatchParams::default(), &Patch::Merge(json!({"data": {"seq": seq}}))).await.expect("patch");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for t in tasks {
        t.await.expect("watcher");
    }
    let mut l = lat.lock().expect("lock").clone();
    l.sort();
    rows.push((
        format!(
            "watch event latency (write to receipt), {WATCHERS} watchers over HTTPS: p50 / p99 ({} events)",
            l.len()
        ),
        format!("{} / {}", ms(percentile(&l, 0.5)), ms(percentile(&l, 0.99))),
    ));
}

fn exercise_objects() -> (Service, StatefulSet) {
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
        "spec": {"ports": [{"port": 80, "name": "web"}], "clusterIP": "None", "selector": {"app": "nginx"}}
    });
    let sts = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web"},
        "spec": {
            "serviceName": "nginx", "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "initContainers": [{"name": "init", "image": "alpine:3.8",
                        "command": ["sh", "-c", "echo $(hostname) >> /usr/share/nginx/html/index.html"],
                        "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}],
                    "containers": [{"name": "nginx", "image": "nginx:1.30", "ports": [{"containerPort": 80, "name": "web"}],
                        "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]
                }
            },
            "volumeClaimTemplates": [{"metadata": {"name": "www"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    });
    (serde_json::from_value(svc).expect("svc"), serde_json::from_value(sts).expect("sts"))
}

async fn run_exercise() -> Duration {
    let sb = Sandbox::start(fast()).expect("sandbox");
    let client = sb.client();
    let t = Instant::now();
    let (svc, sts) = exercise_objects();
    Api::<Service>::namespaced(client.clone(), "default").create(&PostParams::default(), &svc).await.expect("svc");
    let sts_api: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    sts_api.create(&PostParams::default(), &sts).await.expect("sts");
    wait_ready(&sb, "default", 2, "2 ready pods").await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let old_uid = pods.get("web-0").await.expect("web-0").metadata.uid;
    pods.delete("web-0", &DeleteParams::default()).await.expect("delete");
    let mut rx = sb.changes();
    loop {
        let p = sb.object("pods", "default", "web-0");
        let back = p.as_ref().is_some_and(|p| {
            p["metadata"]["uid"].as_str() != old_uid.as_deref()
                && p.pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        });
        if back {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), rx.next()).await;
    }
    sts_api
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 3}})))
        .await
        .expect("scale");
    wait_ready(&sb, "default", 3, "3 ready pods").await;
    let canary = json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.31"}]}}}});
    sts_api.patch("web", &PatchParams::default(), &Patch::Strategic(canary)).await.expect("canary");
    wait_sts(&sb, "web", "canary", |s| s["status"]["updatedReplicas"] == 1 && s["status"]["readyReplicas"] == 3).await;
    sts_api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})),
        )
        .await
        .expect("partition 0");
    wait_sts(&sb, "web", "full rollout", |s| {
        s["status"]["updatedReplicas"] == 3
            && s["status"]["readyReplicas"] == 3
            && s["status"]["currentRevision"] == s["status"]["updateRevision"]
    })
    .await;
    t.elapsed()
}

async fn bench_exercise(rows: &mut Vec<(String, String)>) {
    let mut times = Vec::new();
    for _ in 0..5 {
        times.push(run_exercise().await);
    }
    times.sort();
    rows.push((
        "the whole exercise at full speed: create, 2 Ready, delete/re-create, scale to 3, canary, full rollout (median of 5)".into(),
        ms(percentile(&times, 0.5)),
    ));
}

async fn parallel_set(replicas: usize) -> (Sandbox, Duration) {
    let sb = Sandbox::start(fast()).expect("sandbox");
    let client = sb.client();
    let sts = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "big"},
        "spec": {
            "serviceName": "big", "replicas": replicas, "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "big"}},
            "template": {"metadata": {"labels": {"app": "big"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.30"}]}}
        }
    });
    let t = Instant::now();
    Api::<StatefulSet>::namespaced(client, "default")
        .create(&PostParams::default(), &serde_json::from_value(sts).expect("sts"))
        .await
        .expect("create");
    wait_sts(&sb, "big", "all ready", |s| s["status"]["readyReplicas"] == replicas).await;
    (sb, t.elapsed())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    let mut rows: Vec<(String, String)> = Vec::new();
    // Only when asked for: it takes a minute or more and loads the machine.
    if only.as_deref() == Some("room") {
        room::bench_room(&mut rows).await;
        report(&rows);
    }
    if wanted("start") {
        bench_start(&mut rows).await;
        report(&rows);
    }
    if wanted("get") {
        bench_get(&mut rows).await;
        report(&rows);
    }
    if wanted("watch") {
        bench_watch(&mut rows).await;
        report(&rows);
    }
    if wanted("exercise") {
        bench_exercise(&mut rows).await;
        report(&rows);
    }
    if wanted("parallel") {
        let (_sb, d) = parallel_set(1000).await;
        rows.push(("1,000-replica Parallel StatefulSet, create to all Ready".into(), ms(d)));
        report(&rows);
    }
    if wanted("memory") && only.as_deref() != Some("memory") {
        // In a fresh process: what the benchmarks before left in the allocator is not the
        // sandbox's to carry.
        let out = std::process::Command::new(std::env::current_exe().expect("own path"))
            .arg("memory")
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("memory benchmark");
        let text = String::from_utf8_lossy(&out.stdout);
        let rows_only = |l: &&str| l.starts_with("| ") && !l.starts_with("| measurement") && !l.starts_with("| ---");
        for line in text.lines().filter(rows_only) {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            if let [k, v] = cells[..] {
                rows.push((k.to_string(), v.to_string()));
            }
        }
    } else if wanted("memory") {
        let (before, _) = memory_mib();
        let pods: usize = std::env::var("BENCH_PODS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
        let (sb, d) = parallel_set(pods).await;
        let (after, peak) = memory_mib();
        rows.push((
            format!("{pods} pods Running and Ready (took {:.1} s): resident memory / peak", d.as_secs_f64()),
            format!("{after:.0} MiB / {peak:.0} MiB (process before: {before:.0} MiB)"),
        ));
        drop(sb);
    }
    println!("| measurement | result |");
    println!("| --- | --- |");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
}

/// Print a finished row at once (stderr), so a long run shows progress.
fn report(rows: &[(String, String)]) {
    if let Some((k, v)) = rows.last() {
        eprintln!("{k}: {v}");
    }
}
