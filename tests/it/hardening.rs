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

mod connections {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpSocket, TcpStream};

    use kubetutor::sandbox::{serve_with, ConnLimits, Sandbox};

    struct Server {
        sandbox: Sandbox,
        addr: SocketAddr,
        _stop: tokio::sync::oneshot::Sender<()>,
    }

    async fn server(limits: ConnLimits) -> Server {
        let sandbox = super::sandbox();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_with(listener, sandbox.router(), sandbox.tls().acceptor(), limits, async move {
            let _ = stopped.await;
        }));
        Server { sandbox, addr, _stop: stop }
    }

    /// A TCP connection to the server from `from` (any address of 127.0.0.0/8 is loopback).
    async fn tcp(s: &Server, from: &str) -> TcpStream {
        let sock = TcpSocket::new_v4().unwrap();
        sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
        sock.connect(s.addr).await.unwrap()
    }

    async fn tls(s: &Server, from: &str) -> tokio_rustls::client::TlsStream<TcpStream> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_slice(s.sandbox.tls().ca_pem().as_bytes()).unwrap())
            .unwrap();
        let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        connector.connect(name, tcp(s, from).await).await.unwrap()
    }

    /// Send one keep-alive request for /version; the status line of the answer.
    async fn version<S: AsyncReadExt + AsyncWriteExt + Unpin>(s: &Server, conn: &mut S) -> String {
        let req = format!("GET /version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", s.sandbox.token());
        conn.write_all(req.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = conn.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string()
    }

    /// Whether the server closes the connection (end of file or reset) within a few seconds.
    async fn closed_by_server<S: AsyncReadExt + Unpin>(conn: &mut S) -> bool {
        let mut buf = [0u8; 64];
        matches!(tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
    }

    #[tokio::test]
    async fn connections_over_the_limits_are_closed_before_tls() {
        let limits = ConnLimits { per_address: 4, handshaking_per_address: 2, total: 6, ..Default::default() };
        let s = server(limits).await;
        // Two connections that never start TLS take 127.0.0.1's handshake slots.
        let mut silent = vec![tcp(&s, "127.0.0.1").await, tcp(&s, "127.0.0.1").await];
        let mut third = tcp(&s, "127.0.0.1").await;
        assert!(closed_by_server(&mut third).await, "a third half-open connection is closed");
        // Another address is served meanwhile.
        let mut other = tls(&s, "127.0.0.2").await;
        assert_eq!(version(&s, &mut other).await, "HTTP/1.1 200 OK");
        // Once the silent ones go, 127.0.0.1 is served again, up to four connections at once.
        silent.clear();
        let mut open = Vec::new();
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut c = tls(&s, "127.0.0.1").await;
            if version(&s, &mut c).await == "HTTP/1.1 200 OK" {
                open.push(c);
                if open.len() == 4 {
                    break;
                }
            }
        }
        assert_eq!(open.len(), 4);
        let mut fifth = tcp(&s, "127.0.0.1").await;
        assert!(closed_by_server(&mut fifth).await, "a fifth connection from one address is closed");
        // Six in all: 4 from 127.0.0.1 and 127.0.0.2's, so a new address gets one more, then none.
        let mut sixth = tls(&s, "127.0.0.3").await;
        assert_eq!(version(&s, &mut sixth).await, "HTTP/1.1 200 OK");
        let mut seventh = tcp(&s, "127.0.0.4").await;
        assert!(closed_by_server(&mut seventh).await, "a connection over the total is closed");
    }

    #[tokio::test]
    async fn silent_and_idle_connections_are_closed() {
        let limits = ConnLimits {
            handshake_timeout: Duration::from_millis(300),
            header_timeout: Duration::from_millis(300),
            ..Default::default()
        };
        let s = server(limits).await;
        let mut half_open = tcp(&s, "127.0.0.1").await;
        assert!(closed_by_server(&mut half_open).await, "no TLS handshake: closed");
        let mut slow = tls(&s, "127.0.0.1").await;
        slow.write_all(b"GET /version HTTP/1.1\r\nHost:").await.unwrap();
        assert!(closed_by_server(&mut slow).await, "headers that never end: closed");
        let mut idle = tls(&s, "127.0.0.1").await;
        assert_eq!(version(&s, &mut idle).await, "HTTP/1.1 200 OK");
        assert!(closed_by_server(&mut idle).await, "an idle kept-alive connection: closed");
    }
}
