//! The workshop room under attack (`cargo bench --bench sandbox room`): one sandbox served over
//! HTTPS with 31 attendee tokens; 30 attendees solve the whole StatefulSet lesson at once with
//! the reference solutions (graded as the tutor grades), each also timing a GET of its own
//! namespace every 50 ms; meanwhile attendee 31 runs every abuse of issue 15 from another
//! address: a container flooding its log, one doubling a file, one doubling a shell variable,
//! deep and alias-bomb YAML bodies, JSON patch copy bombs, 3 MiB bodies, half-open connections,
//! impersonation and deletes of the system namespaces. Reports whether every honest lesson
//! passed, their GET latencies, and the process's resident memory (sandbox and clients).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

use kube_sandbox::{ConnLimits, Sandbox, SandboxConfig, Serving};
use kubetutor::cluster::{connect_kubeconfig, KubeconfigOptions};
use kubetutor::grade::runner::Grader;
use kubetutor::grade::solve::{solve_steps, STEP_TIMEOUT};
use kubetutor::grade::watched::Watched;
use kubetutor::lesson::load;

use super::{memory_mib, ms, percentile};

const HONEST: usize = 30;

pub(crate) async fn bench_room(rows: &mut Vec<(String, String)>) {
    let speed: f64 = std::env::var("BENCH_SPEED").ok().and_then(|v| v.parse().ok()).unwrap_or(f64::INFINITY);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let sb = Sandbox::start(SandboxConfig { speed, attendees: HONEST + 1, ..Default::default() }).expect("sandbox");
    // The sandbox's own view: from a request's arrival to its answer's headers, for every
    // request but the abuser's (watches excluded: their answer starts at once and streams).
    let served = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let abuser_auth = format!("Bearer {}", sb.attendees()[HONEST].token);
    let router = sb.router().layer(axum::middleware::from_fn({
        let served = served.clone();
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let served = served.clone();
            let counted = req.headers().get(http::header::AUTHORIZATION).is_none_or(|a| *a != *abuser_auth)
                && !req.uri().query().is_some_and(|q| q.contains("watch=true") || q.contains("follow=true"));
            async move {
                let t = Instant::now();
                let resp = next.run(req).await;
                if counted {
                    served.lock().expect("served").push(t.elapsed());
                }
                resp
            }
        }
    }));
    let addr = listener.local_addr().expect("addr");
    let serving = Serving::spawn(listener, router, sb.tls().acceptor(), ConnLimits::default()).expect("serve");
    let url = serving.url().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut configs = Vec::new();
    for a in sb.attendees() {
        let path = dir.path().join(format!("{}.kubeconfig", a.namespace));
        std::fs::write(&path, sb.attendee_kubeconfig(&url, a)).expect("kubeconfig");
        configs.push((a.namespace.clone(), path));
    }
    let lesson = Arc::new(load::find_in("statefulset", None).expect("lesson"));
    let steps = lesson.steps.len();

    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, peak) = (done.clone(), peak.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(memory_mib().0 as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let (before, _) = memory_mib();

    // The abuser starts first, so the honest attendees meet every abuse from the start.
    let (abuse_ns, abuse_config) = configs[HONEST].clone();
    let abuse_log = Arc::new(Mutex::new(Vec::<String>::new()));
    // BENCH_NO_ABUSE=1: the same room without the abuser, for comparison.
    let quiet = std::env::var_os("BENCH_NO_ABUSE").is_some();
    let abuser = tokio::spawn({
        let (done, log) = (done.clone(), abuse_log.clone());
        async move {
            if !quiet {
                abuse(abuse_ns, abuse_config, addr, done, log).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;

    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let started = Instant::now();
    let mut honest = Vec::new();
    for (ns, path) in configs.iter().take(HONEST).cloned() {
        let (lesson, latencies) = (lesson.clone(), latencies.clone());
        honest.push(tokio::spawn(async move {
            let opts = KubeconfigOptions { kubeconfig: Some(path), namespace: Some(ns.clone()), ..Default::default() };
            let cluster = connect_kubeconfig(&opts).await.map_err(|e| e.to_string())?;
            let finished = Arc::new(AtomicBool::new(false));
            let probe = {
                let (client, finished, latencies) = (cluster.client.clone(), finished.clone(), latencies.clone());
                tokio::spawn(async move {
                    let cms: Api<ConfigMap> = Api::namespaced(client, &ns);
                    while !finished.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        if cms.list(&ListParams::default()).await.is_ok() {
                            latencies.lock().expect("latencies").push(t.elapsed());
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                })
            };
            let mut grader = Grader::new(cluster.clone(), lesson);
            let result = async {
                let mut watched = Watched::start(&cluster).await?;
                solve_steps(&mut grader, &mut watched, steps, STEP_TIMEOUT).await
            }
            .await;
            finished.store(true, Ordering::Relaxed);
            let _ = probe.await;
            result.map_err(|e| e.to_string())
        }));
    }
    let mut passed = 0;
    let mut failures = Vec::new();
    for h in honest {
        match h.await.expect("attendee task") {
            Ok(()) => passed += 1,
            Err(e) => failures.push(e),
        }
    }
    let took = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = abuser.await;
    let _ = sampler.await;
    let (after, hwm) = memory_mib();
    let mut l = latencies.lock().expect("latencies").clone();
    l.sort();
    for f in failures.iter().take(3) {
        eprintln!("an honest lesson failed: {f}");
    }
    for line in abuse_log.lock().expect("log").iter() {
        eprintln!("abuse: {line}");
    }
    rows.push((
        format!(
            "room: {HONEST} attendees solve the lesson{} (speed {speed}): lessons passed / time",
            if quiet { ", nobody abusing" } else { " while one abuses" }
        ),
        format!("{passed} of {HONEST} / {:.1} s", took.as_secs_f64()),
    ));
    rows.push((
        format!("room: honest attendees' GET of their namespace, p50 / p99 / max ({} GETs)", l.len()),
        format!("{} / {} / {}", ms(percentile(&l, 0.5)), ms(percentile(&l, 0.99)), ms(percentile(&l, 1.0))),
    ));
    let mut sv = served.lock().expect("served").clone();
    sv.sort();
    rows.push((
        format!(
            "room: the sandbox's time to answer honest requests (not watches), p50 / p99 / max ({} requests)",
            sv.len()
        ),
        format!("{} / {} / {}", ms(percentile(&sv, 0.5)), ms(percentile(&sv, 0.99)), ms(percentile(&sv, 1.0))),
    ));
    rows.push((
        "room: resident memory of the process (sandbox and all clients): before / highest sampled / at the end / peak (VmHWM)".into(),
        format!("{before:.0} MiB / {} MiB / {after:.0} MiB / {hwm:.0} MiB", peak.load(Ordering::Relaxed)),
    ));
}

fn pod(name: &str, script: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Always", "containers": [
            {"name": name, "image": "alpine:3.8", "command": ["sh", "-c", script]}]}
    }))
    .expect("pod")
}

/// The abusive containers: a log flood, a file doubling, a shell variable doubling, a pipe
/// nobody reads.
const SCRIPTS: [(&str, &str); 4] = [
    ("flood", "y=yyyyyyyyyy; y=$y$y$y$y$y$y$y$y$y$y; y=$y$y$y$y$y$y$y$y$y$y; while true; do echo $y; done"),
    ("double", "echo 0123456789abcdef > /tmp/f; while true; do cat /tmp/f /tmp/f > /tmp/g; mv /tmp/g /tmp/f; done"),
    ("vars", "a=x; while true; do a=$a$a; done"),
    ("pipe", "while true; do echo yyyyyyyyyyyyyyyyyyyyyyyy; done | sort"),
];

/// Every abuse at once, repeated until the honest attendees are done.
async fn abuse(
    ns: String,
    config: std::path::PathBuf,
    server: std::net::SocketAddr,
    done: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
) {
    let opts = KubeconfigOptions { kubeconfig: Some(config), namespace: Some(ns.clone()), ..Default::default() };
    let cluster = connect_kubeconfig(&opts).await.expect("abuser");
    let client = cluster.client.clone();
    let note = |s: String| log.lock().expect("log").push(s);
    // BENCH_ABUSE=pods,bodies,connections picks some abuses (all by default).
    let kinds = std::env::var("BENCH_ABUSE").unwrap_or_else(|_| "pods,bodies,connections".into());
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let scripts = if kinds.contains("pods") { &SCRIPTS[..] } else { &[] };
    for (name, script) in scripts {
        if let Err(e) = pods.create(&PostParams::default(), &pod(name, script)).await {
            note(format!("create pod {name}: {e}"));
        }
    }
    let connections = kinds.contains("connections");
    let bodies = kinds.contains("bodies");
    // Half-open connections from another address of the room.
    let held = tokio::spawn({
        let done = done.clone();
        async move {
            let mut conns = Vec::new();
            let mut refused = 0u64;
            while connections && !done.load(Ordering::Relaxed) {
                // Keep those the server has not closed (a read would block, not see the end).
                let before = conns.len();
                conns.retain(|c: &tokio::net::TcpStream| {
                    matches!(c.try_read(&mut [0u8; 16]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
                });
                refused += (before - conns.len()) as u64;
                while conns.len() < 2000 && !done.load(Ordering::Relaxed) {
                    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
                    if sock.bind("127.0.0.2:0".parse().expect("addr")).is_err() {
                        break;
                    }
                    match tokio::time::timeout(Duration::from_secs(1), sock.connect(server)).await {
                        Ok(Ok(c)) => conns.push(c),
                        _ => refused += 1,
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            refused
        }
    });
    let raw = |method: &str, path: String, ct: &str, body: Vec<u8>| {
        http::Request::builder().method(method).uri(path).header("content-type", ct).body(body).expect("request")
    };
    let cms = format!("/api/v1/namespaces/{ns}/configmaps");
    let deep = "[".repeat(200_000).into_bytes();
    let bomb = format!("metadata: {{name: b}}\ndata: &a [{}]\nx: [{}]\n", "y, ".repeat(1000), "*a, ".repeat(5000));
    let big =
        serde_json::to_vec(&json!({"metadata": {"name": "big"}, "data": {"k": "x".repeat(3 * 1024 * 1024 - 100)}}))
            .expect("big");
    let _ = Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"k": "v"}})).expect("cm"),
        )
        .await;
    let copies: Vec<serde_json::Value> =
        (0..64).map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/c{i}")})).collect();
    let copies = serde_json::to_vec(&copies).expect("copies");
    let mut rounds = 0u64;
    let mut answers = std::collections::BTreeMap::<String, u64>::new();
    while !done.load(Ordering::Relaxed) {
        if !bodies {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let requests = vec![
            ("deep yaml", raw("POST", cms.clone(), "application/yaml", deep.clone())),
            ("deep yaml 2", raw("POST", cms.clone(), "application/yaml", deep.clone())),
            ("alias bomb", raw("POST", cms.clone(), "application/yaml", bomb.clone().into_bytes())),
            ("3 MiB body", raw("POST", cms.clone(), "application/json", big.clone())),
            ("copy bomb", raw("PATCH", format!("{cms}/c"), "application/json-patch+json", copies.clone())),
            ("delete default", raw("DELETE", "/api/v1/namespaces/default".into(), "application/json", vec![])),
        ];
        let mut impersonate = raw("GET", "/api/v1/namespaces/attendee-01/pods".into(), "application/json", vec![]);
        impersonate.headers_mut().insert("impersonate-user", http::HeaderValue::from_static("kubetutor-admin"));
        let all = requests.into_iter().chain([("impersonate", impersonate)]).map(|(what, req)| {
            let client = client.clone();
            async move {
                let code = match client.request_text(req).await {
                    Ok(_) => 200,
                    Err(kube::Error::Api(s)) => s.code,
                    Err(_) => 0,
                };
                (what, code)
            }
        });
        for (what, code) in futures::future::join_all(all).await {
            *answers.entry(format!("{what} -> {code}")).or_default() += 1;
        }
        // Read the flood's log now and then, as a curious attendee would.
        let _ = pods.logs("flood", &kube::api::LogParams { tail_lines: Some(10), ..Default::default() }).await;
        rounds += 1;
    }
    let refused = held.await.unwrap_or(0);
    note(format!("{rounds} rounds of bad requests; answers: {answers:?}"));
    note(format!("half-open connections the server closed: {refused}"));
}
