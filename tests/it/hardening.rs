//! The shared sandbox against an attendee who is not friendly (issue 15): every input has a
//! bounded cost, answers with a `Status`, and leaves the sandbox serving everyone else.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use serde_json::Value;
use tower::ServiceExt;

use kubetutor::sandbox::{Sandbox, SandboxConfig};

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig { speed: f64::INFINITY, ..Default::default() }).unwrap()
}

fn request(s: &Sandbox, method: &str, path: &str, ct: &str, body: Body) -> http::Request<Body> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", ct)
        .header("authorization", format!("Bearer {}", s.token()))
        .body(body)
        .unwrap()
}

/// One request through the router in-process: status code and the JSON answer.
async fn send(s: &Sandbox, method: &str, path: &str, ct: &str, body: impl Into<Body>) -> (u16, Value) {
    let resp = s.router().oneshot(request(s, method, path, ct, body.into())).await.unwrap();
    let code = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn deeply_nested_yaml_is_refused_before_parsing() {
    let s = sandbox();
    // 100,000 levels of flow nesting in 200 KB took libyaml minutes.
    let (code, st) = send(&s, "POST", CMS, "application/yaml", "[".repeat(200_000)).await;
    assert_eq!((code, st["kind"].as_str()), (400, Some("Status")));
    assert_eq!(st["message"], "error decoding the YAML body: yaml: exceeded max depth of 100");
    // The same through a server-side apply patch.
    let (code, st) =
        send(&s, "PATCH", &format!("{CMS}/x?fieldManager=m"), "application/apply-patch+yaml", "{a: ".repeat(50_000))
            .await;
    assert_eq!(code, 400);
    assert_eq!(st["message"], "error decoding the YAML body: yaml: exceeded max depth of 100");
    // And the sandbox answers as before.
    let (code, _) = send(&s, "POST", CMS, "application/yaml", "metadata: {name: ok}\ndata: {k: v}\n").await;
    assert_eq!(code, 201);
}

#[tokio::test]
async fn yaml_alias_bombs_are_refused() {
    let s = sandbox();
    // 20 KB naming a 1,000-item anchor 2,000 times: two million values.
    let bomb = format!("metadata: {{name: bomb}}\ndata: &a [{}]\nx: [{}]\n", "y, ".repeat(1000), "*a, ".repeat(2000));
    let (code, st) = send(&s, "POST", CMS, "application/yaml", bomb).await;
    assert_eq!(code, 400);
    assert_eq!(st["message"], "error decoding the YAML body: yaml: document contains excessive aliasing");
}

#[tokio::test]
async fn json_patch_copies_cannot_grow_an_object_without_bound() {
    let s = sandbox();
    let (code, _) = send(&s, "POST", CMS, "application/json", r#"{"metadata":{"name":"c"},"data":{"k":"v"}}"#).await;
    assert_eq!(code, 201);
    // Each copy of /data into itself doubles it; 64 of them would never finish.
    let big = format!(r#"[{{"op":"add","path":"/data/k","value":"{}"}}]"#, "x".repeat(100_000));
    assert_eq!(send(&s, "PATCH", &format!("{CMS}/c"), "application/json-patch+json", big).await.0, 200);
    let ops: Vec<Value> =
        (0..64).map(|i| serde_json::json!({"op": "copy", "from": "/data", "path": format!("/data/c{i}")})).collect();
    let (code, st) =
        send(&s, "PATCH", &format!("{CMS}/c"), "application/json-patch+json", serde_json::to_vec(&ops).unwrap()).await;
    assert_eq!(code, 422, "{st}");
    assert!(st["message"].as_str().unwrap().starts_with("Unable to complete the copy"), "{st}");
}

/// A write with a large body is decoded off the async workers: on a runtime with a single
/// worker, a GET sent after a slow 3 MiB body has fully arrived is answered before that body's
/// request is. Before, the decode ran on the worker and the GET waited for it.
#[tokio::test(flavor = "current_thread")]
async fn a_large_body_does_not_stall_other_requests() {
    let s = sandbox();
    // A valid YAML list of 600,000 items: seconds to decode in a debug build.
    let body = "- a\n".repeat(600_000);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let post = s.router().oneshot(request(&s, "POST", CMS, "application/yaml", Body::from_stream(stream)));
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    let post = tokio::spawn(async move {
        let resp = post.await.unwrap();
        o.lock().unwrap().push("post");
        resp.status().as_u16()
    });
    tx.send(Ok(body.into())).await.unwrap();
    drop(tx);
    // Let the server read the whole body and start decoding it.
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    let (code, _) = send(&s, "GET", CMS, "", Body::empty()).await;
    assert_eq!(code, 200);
    order.lock().unwrap().push("get");
    assert_eq!(post.await.unwrap(), 400, "a list is not an object");
    assert_eq!(*order.lock().unwrap(), ["get", "post"]);
}

fn pod(name: &str, script: &str) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": [
            {"name": name, "image": "alpine:3.8", "command": ["sh", "-c", script]}]}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_flooding_container_keeps_a_bounded_log_that_kubectl_logs_still_reads() {
    use kubetutor::sandbox::logs::MAX_CONTAINER_LOG;
    let s = sandbox();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::default_namespaced(s.client());
    let script = r#"y=yyyyyyyyyy; y=$y$y$y$y$y$y$y$y$y$y; y=$y$y$y$y$y$y$y$y$y$y
        i=0; while true; do i=$((i+1)); echo "$i $y"; done"#;
    pods.create(&Default::default(), &pod("flood", script)).await.unwrap();
    let first_kept = |s: &Sandbox| {
        let (lines, _) = s.logs().read("default", "flood", "flood", false)?;
        let first: u64 = lines.first()?.text.split(' ').next()?.parse().ok()?;
        Some((first, lines))
    };
    // Wait until the oldest lines have gone: the log has been full at least twice over.
    let lines = super::support::eventually(120, "the flood's oldest lines to be dropped", || {
        let got = first_kept(&s).filter(|(first, _)| *first > 15_000).map(|(_, l)| l);
        async move { got }
    })
    .await;
    let kept: usize = lines.iter().map(|l| l.text.len()).sum();
    assert!(kept <= MAX_CONTAINER_LOG, "{kept} bytes kept");
    // `kubectl logs --tail=2` reads the newest lines.
    let tail = pods.logs("flood", &kube::api::LogParams { tail_lines: Some(2), ..Default::default() }).await.unwrap();
    let numbers: Vec<u64> =
        tail.lines().map(|l| l.split(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("{l:.80}"))).collect();
    assert_eq!(numbers.len(), 2);
    assert_eq!(numbers[1], numbers[0] + 1);
    assert!(numbers[0] > 15_000);
    pods.delete("flood", &Default::default()).await.unwrap();
}

/// Run a pod's script to its end; its phase and its log.
async fn run_to_end(s: &Sandbox, name: &str, script: &str, volumes: Value) -> (String, String) {
    use k8s_openapi::api::core::v1::Pod;
    let pods: kube::Api<Pod> = kube::Api::default_namespaced(s.client());
    let mut p = serde_json::to_value(pod(name, script)).unwrap();
    if let Value::Array(v) = &volumes {
        if !v.is_empty() {
            p["spec"]["volumes"] = volumes.clone();
            p["spec"]["containers"][0]["volumeMounts"] = serde_json::json!([{"name": "data", "mountPath": "/data"}]);
        }
    }
    pods.create(&Default::default(), &serde_json::from_value(p).unwrap()).await.unwrap();
    let phase = super::support::eventually(120, "the pod to end", || {
        let pods = pods.clone();
        async move {
            let p = pods.get(name).await.ok()?;
            let phase = p.status?.phase?;
            matches!(phase.as_str(), "Succeeded" | "Failed").then_some(phase)
        }
    })
    .await;
    (phase, pods.logs(name, &Default::default()).await.unwrap())
}

const DOUBLING: &str = r#"echo 0123456789abcdef > $F
i=0
while [ $i -lt 40 ]; do
  cat $F $F > $F.2 || { echo "stopped at $i"; break; }
  mv $F.2 $F
  i=$((i+1))
done
wc -c $F"#;

fn size_in(log: &str) -> u64 {
    log.lines().last().unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_container_writable_layer_fills_up_with_enospc() {
    let s = sandbox();
    // Doubling a file 40 times would make 16 TiB.
    let (phase, log) = run_to_end(&s, "double", &DOUBLING.replace("$F", "/tmp/f"), Value::Null).await;
    assert_eq!(phase, "Succeeded", "{log}");
    assert!(log.contains("No space left on device"), "{log}");
    assert!(log.contains("stopped at"), "{log}");
    let size = size_in(&log);
    assert!((16 << 20..=kubetutor::sandbox::kubelet::WRITABLE_LAYER).contains(&size), "{size}");
}

#[tokio::test]
async fn a_claim_holds_no_more_than_its_capacity_and_an_empty_dir_its_size_limit() {
    let s = sandbox();
    let pvcs: kube::Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> = kube::Api::default_namespaced(s.client());
    let claim = serde_json::json!({"metadata": {"name": "small"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}});
    pvcs.create(&Default::default(), &serde_json::from_value(claim).unwrap()).await.unwrap();
    let doubling = DOUBLING.replace("$F", "/data/f");
    let vol = serde_json::json!([{"name": "data", "persistentVolumeClaim": {"claimName": "small"}}]);
    let (_, log) = run_to_end(&s, "claim", &doubling, vol).await;
    assert!(log.contains("No space left on device"), "{log}");
    assert!((256 << 10..=1 << 20).contains(&size_in(&log)), "{log}");

    let vol = serde_json::json!([{"name": "data", "emptyDir": {"sizeLimit": "2Mi"}}]);
    let (_, log) = run_to_end(&s, "scratch", &doubling, vol).await;
    assert!(log.contains("No space left on device"), "{log}");
    assert!((512 << 10..=2 << 20).contains(&size_in(&log)), "{log}");
}

#[tokio::test]
async fn a_namespace_cannot_take_more_than_its_share_of_the_disk() {
    use kubetutor::sandbox::kubelet::NAMESPACE_DISK;
    let s = sandbox();
    // Three 64 MiB layers would be 192 MiB: the namespace's 128 MiB runs out first.
    let mut total = 0;
    for n in ["d1", "d2", "d3"] {
        let (_, log) = run_to_end(&s, n, &DOUBLING.replace("$F", "/tmp/f"), Value::Null).await;
        assert!(log.contains("No space left on device"), "{log}");
        total += size_in(&log);
    }
    assert!(total <= NAMESPACE_DISK, "{total}");
    assert!(total >= NAMESPACE_DISK / 2, "{total}");
}

#[tokio::test]
async fn a_shell_cannot_grow_its_variables_or_pipes_without_bound() {
    let s = sandbox();
    let (phase, log) = run_to_end(&s, "vars", "a=x; while true; do a=$a$a; done", Value::Null).await;
    assert_eq!(phase, "Failed");
    assert!(log.ends_with("sh: out of memory\n"), "{log}");
    // A pipe whose reader never comes: the writer stops as if the reader had gone.
    let script = "y=yyyyyyyyyy; y=$y$y$y$y$y$y$y$y$y$y; y=$y$y$y$y$y$y$y$y$y$y\nwhile true; do echo $y; done | head -n 1 | wc -c; echo done";
    let (phase, log) = run_to_end(&s, "pipe", script, Value::Null).await;
    assert_eq!((phase.as_str(), log.as_str()), ("Succeeded", "1001\ndone\n"));
}
