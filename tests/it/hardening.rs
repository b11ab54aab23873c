//! The shared sandbox against an attendee who is not friendly (issue 15): every input has a
//! bounded cost, answers with a `Status`, and leaves the sandbox serving everyone else.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use serde_json::Value;
use tower::ServiceExt;

use kube_sandbox::{Sandbox, SandboxConfig};

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
    use kube_sandbox::limits::MAX_CONTAINER_LOG;
    let s = sandbox();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::default_namespaced(s.client());
    let script = r#"y=yyyyyyyyyy; y=$y$y$y$y$y$y$y$y$y$y; y=$y$y$y$y$y$y$y$y$y$y
        i=0; while true; do i=$((i+1)); echo "$i $y"; done"#;
    pods.create(&Default::default(), &pod("flood", script)).await.unwrap();
    let first_kept = |s: &Sandbox| {
        let lines = s.container_log("default", "flood", "flood")?;
        let first: u64 = lines.first()?.split(' ').next()?.parse().ok()?;
        Some((first, lines))
    };
    // Wait until the oldest lines have gone: the log has been full at least twice over.
    let lines = super::support::eventually(120, "the flood's oldest lines to be dropped", || {
        let got = first_kept(&s).filter(|(first, _)| *first > 15_000).map(|(_, l)| l);
        async move { got }
    })
    .await;
    let kept: usize = lines.iter().map(String::len).sum();
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
    assert!((16 << 20..=kube_sandbox::limits::WRITABLE_LAYER).contains(&size), "{size}");
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
    use kube_sandbox::limits::NAMESPACE_DISK;
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

    use kube_sandbox::{serve_with, ConnLimits, Sandbox};

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

mod upstream_rules {
    use axum::body::Body;
    use serde_json::{json, Value};
    use tower::ServiceExt;

    use super::{send, CMS};
    use kube_sandbox::{Sandbox, SandboxConfig};

    /// A request with a given token and extra headers.
    async fn send_as(
        s: &Sandbox,
        token: &str,
        headers: &[(&str, &str)],
        method: &str,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = if body.is_null() { Body::empty() } else { Body::from(body.to_string()) };
        let resp = s.router().oneshot(req.body(body).unwrap()).await.unwrap();
        let code = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (code, serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes))))
    }

    fn rv(v: &Value) -> String {
        v["metadata"]["resourceVersion"].as_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn a_patch_with_a_stale_resource_version_is_a_conflict() {
        let s = super::sandbox();
        let (_, first) =
            send(&s, "POST", CMS, "application/json", r#"{"metadata":{"name":"c"},"data":{"k":"1"}}"#).await;
        let stale = rv(&first);
        let patch = |rv: &str, k: &str| json!({"metadata": {"resourceVersion": rv}, "data": {"k": k}}).to_string();
        let (code, second) =
            send(&s, "PATCH", &format!("{CMS}/c"), "application/merge-patch+json", patch(&stale, "2")).await;
        assert_eq!(code, 200, "the current resourceVersion: applied");
        let (code, st) =
            send(&s, "PATCH", &format!("{CMS}/c"), "application/strategic-merge-patch+json", patch(&stale, "3")).await;
        assert_eq!((code, st["reason"].as_str()), (409, Some("Conflict")), "{st}");
        assert_eq!(
            st["message"],
            "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let ops = json!([{"op": "replace", "path": "/metadata/resourceVersion", "value": stale},
                         {"op": "replace", "path": "/data/k", "value": "4"}]);
        let (code, _) = send(&s, "PATCH", &format!("{CMS}/c"), "application/json-patch+json", ops.to_string()).await;
        assert_eq!(code, 409);
        let (_, now) = send(&s, "GET", &format!("{CMS}/c"), "", Body::empty()).await;
        assert_eq!((now["data"]["k"].as_str(), rv(&now)), (Some("2"), rv(&second)));
    }

    #[tokio::test]
    async fn an_immutable_configmap_keeps_its_data() {
        let s = super::sandbox();
        let body = r#"{"metadata":{"name":"frozen"},"immutable":true,"data":{"k":"v"}}"#;
        assert_eq!(send(&s, "POST", CMS, "application/json", body).await.0, 201);
        let path = format!("{CMS}/frozen");
        let (code, st) = send(&s, "PATCH", &path, "application/merge-patch+json", r#"{"data":{"k":"w"}}"#).await;
        assert_eq!(code, 422);
        assert_eq!(
            st["message"],
            "ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
        );
        assert_eq!(st["details"]["causes"][0]["field"], "data");
        let (code, st) = send(&s, "PATCH", &path, "application/merge-patch+json", r#"{"immutable":false}"#).await;
        assert_eq!(code, 422);
        assert_eq!(
            st["message"],
            "ConfigMap \"frozen\" is invalid: immutable: Forbidden: field is immutable when `immutable` is set"
        );
        // Its metadata may change, and it may be deleted.
        let (code, _) =
            send(&s, "PATCH", &path, "application/merge-patch+json", r#"{"metadata":{"labels":{"a":"b"}}}"#).await;
        assert_eq!(code, 200);
        assert_eq!(send(&s, "DELETE", &path, "", Body::empty()).await.0, 200);
    }

    #[tokio::test]
    async fn a_configmap_holds_at_most_a_mebibyte() {
        let s = super::sandbox();
        let big = json!({"metadata": {"name": "big"}, "data": {"a": "x".repeat(600_000), "b": "y".repeat(600_000)}});
        let (code, st) = send(&s, "POST", CMS, "application/json", big.to_string()).await;
        assert_eq!(code, 422, "{st}");
        assert_eq!(st["message"], "ConfigMap \"big\" is invalid: []: Too long: must have at most 1048576 bytes");
        let fits = json!({"metadata": {"name": "fits"}, "data": {"a": "x".repeat(1_000_000)}});
        assert_eq!(send(&s, "POST", CMS, "application/json", fits.to_string()).await.0, 201);
    }

    #[tokio::test]
    async fn the_system_namespaces_cannot_be_deleted() {
        let s = super::sandbox();
        for ns in ["default", "kube-system", "kube-public"] {
            let (code, st) = send(&s, "DELETE", &format!("/api/v1/namespaces/{ns}"), "", Body::empty()).await;
            assert_eq!((code, st["reason"].as_str()), (403, Some("Forbidden")), "{ns}");
            assert_eq!(st["message"], format!("namespaces \"{ns}\" is forbidden: this namespace may not be deleted"));
        }
        assert_eq!(
            send(&s, "POST", "/api/v1/namespaces", "application/json", r#"{"metadata":{"name":"mine"}}"#).await.0,
            201
        );
        assert_eq!(send(&s, "DELETE", "/api/v1/namespaces/mine", "", Body::empty()).await.0, 200);
        let (code, _) = send(&s, "GET", "/api/v1/namespaces/default", "", Body::empty()).await;
        assert_eq!(code, 200);
    }

    #[tokio::test]
    async fn impersonation_is_refused_unless_allowed() {
        let s = Sandbox::start(SandboxConfig { speed: f64::INFINITY, attendees: 2, ..Default::default() }).unwrap();
        let one = s.attendees()[0].token.clone();
        let admin = s.token().to_string();
        let pods2 = "/api/v1/namespaces/attendee-02/pods";
        // An attendee may not impersonate anyone.
        let as_two = [("Impersonate-User", "system:serviceaccount:attendee-02:kubetutor")];
        let (code, st) = send_as(&s, &one, &as_two, "GET", pods2, Value::Null).await;
        assert_eq!(code, 403, "{st}");
        assert_eq!(
            st["message"],
            "serviceaccounts \"kubetutor\" is forbidden: User \"system:serviceaccount:attendee-01:kubetutor\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"attendee-02\""
        );
        let (code, st) = send_as(&s, &one, &[("Impersonate-User", "kubetutor-admin")], "GET", pods2, Value::Null).await;
        assert_eq!(code, 403);
        assert!(st["message"].as_str().unwrap().starts_with("users \"kubetutor-admin\" is forbidden"), "{st}");
        let (code, _) = send_as(&s, &one, &[("Impersonate-Group", "system:masters")], "GET", pods2, Value::Null).await;
        assert_ne!(code, 200);
        // The admin may, and then has the impersonated user's rights.
        let as_one = [("Impersonate-User", "system:serviceaccount:attendee-01:kubetutor")];
        let (code, st) = send_as(&s, &admin, &as_one, "GET", pods2, Value::Null).await;
        assert_eq!(code, 403);
        assert!(
            st["message"].as_str().unwrap().contains("User \"system:serviceaccount:attendee-01:kubetutor\""),
            "{st}"
        );
        let (code, _) = send_as(&s, &admin, &as_one, "GET", "/api/v1/namespaces/attendee-01/pods", Value::Null).await;
        assert_eq!(code, 200);
        let (code, st) = send_as(&s, &admin, &[("Impersonate-User", "bob")], "GET", pods2, Value::Null).await;
        assert_eq!(code, 403);
        assert!(st["message"].as_str().unwrap().contains("User \"bob\" cannot list"), "{st}");
    }

    #[tokio::test]
    async fn can_i_with_wildcards_answers_as_rbac() {
        let s = Sandbox::start(SandboxConfig { speed: f64::INFINITY, attendees: 1, ..Default::default() }).unwrap();
        let one = s.attendees()[0].token.clone();
        let review = |verb: &str, resource: &str, group: &str| {
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {
                "resourceAttributes": {"namespace": "attendee-01", "verb": verb, "resource": resource, "group": group}}})
        };
        let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
        // `kubectl auth can-i '*' '*'`
        let (code, out) = send_as(&s, &one, &[], "POST", path, review("*", "*", "*")).await;
        assert_eq!((code, &out["status"]["allowed"]), (201, &json!(false)));
        let (_, out) = send_as(&s, &one, &[], "POST", path, review("create", "statefulsets", "apps")).await;
        assert_eq!(out["status"]["allowed"], json!(true));
        let (_, out) = send_as(&s, s.token(), &[], "POST", path, review("*", "*", "*")).await;
        assert_eq!(out["status"]["allowed"], json!(true));
    }

    #[tokio::test]
    async fn reads_from_a_future_resource_version_answer_as_upstream() {
        let s = super::sandbox();
        let (_, list) = send(&s, "GET", CMS, "", Body::empty()).await;
        let now: u64 = rv(&list).parse().unwrap();
        let future = now + 1000;
        let (code, st) = send(&s, "GET", &format!("{CMS}?resourceVersion={future}"), "", Body::empty()).await;
        assert_eq!((code, st["reason"].as_str()), (504, Some("Timeout")), "{st}");
        let message = st["message"].as_str().unwrap();
        let current: u64 = message
            .strip_prefix(&format!("Too large resource version: {future}, current: "))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("{message}"));
        assert!((now..future).contains(&current), "{message}");
        assert_eq!(st["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
        assert_eq!(st["details"]["retryAfterSeconds"], 1);
        let exact = format!("{CMS}?resourceVersion={future}&resourceVersionMatch=Exact");
        assert_eq!(send(&s, "GET", &exact, "", Body::empty()).await.0, 504);
        // A watch that lists first ends with one ERROR event saying so.
        let initial = format!(
            "{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion={future}"
        );
        let resp = s.router().oneshot(super::request(&s, "GET", &initial, "", Body::empty())).await.unwrap();
        assert_eq!(resp.status(), 200);
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        let event: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((event["type"].as_str(), &event["object"]["code"]), (Some("ERROR"), &json!(504)));
        // A plain watch from a future resourceVersion sends the changes after it, and only those.
        let (_, list) = send(&s, "GET", CMS, "", Body::empty()).await;
        let from: u64 = rv(&list).parse::<u64>().unwrap() + 20;
        let watch = format!("{CMS}?watch=true&resourceVersion={from}");
        let resp = s.router().oneshot(super::request(&s, "GET", &watch, "", Body::empty())).await.unwrap();
        let mut created = Vec::new();
        for n in 1..=30 {
            let body = format!(r#"{{"metadata":{{"name":"w{n}"}}}}"#);
            let (code, cm) = send(&s, "POST", CMS, "application/json", body).await;
            assert_eq!(code, 201);
            created.push((rv(&cm).parse::<u64>().unwrap(), n));
        }
        let (_, want) = created.iter().find(|(rv, _)| *rv > from).expect("a write after the watch's resourceVersion");
        let mut stream = resp.into_body().into_data_stream();
        let first = futures::StreamExt::next(&mut stream).await.unwrap().unwrap();
        let event: Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(event["object"]["metadata"]["name"], format!("w{want}"), "{event}");
    }
}

/// `:logs` of a pod that prints an OSC 52 (set the clipboard), a screen clear and a C1 CSI: the
/// tutor's frame holds none of them, only their harmless printable remains.
#[test]
fn control_characters_in_command_output_never_reach_the_terminal() {
    use kubetutor::app::{Level, ResultBox, ResultSource};
    use kubetutor::ui::theme::Theme;
    let dir = tempfile::tempdir().unwrap();
    let mut app = super::tui_fixture::app(dir.path(), Theme::dark());
    let text = "hello\n\x1b]52;c;ZXZpbA==\x07copied\n\x1b[2J\x1b[31mred\u{9b}6n\x07\n".to_string();
    app.result = Some(ResultBox {
        source: ResultSource::Command,
        title: "logs web-0".into(),
        text,
        level: Level::Info,
        scroll: 0,
    });
    let screen = super::tui_fixture::render(&app, 80, 24);
    assert!(!screen.chars().any(|c| c.is_control() && c != '\n'), "{screen:?}");
    // Each control character's cell shows a space.
    assert!(screen.contains(" ]52;c;ZXZpbA== copied"), "{screen}");
    assert!(screen.contains(" [2J [31mred 6n"), "{screen}");
}

/// A 20,000-character paste in a terminal without bracketed paste arrives as a key event per
/// character: the tutor takes it as one edit, draws a few frames, not one per character, and
/// saves the whole text as the draft.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_unbracketed_paste_is_one_edit_and_is_saved() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kubetutor::app::effects::Services;
    use kubetutor::app::run::{self, Runtime};
    use kubetutor::app::Event;
    use kubetutor::ui::theme::Theme;
    super::tui_loop::private_state_dir();
    let dir = tempfile::tempdir().unwrap();
    let mut app = super::tui_fixture::app(dir.path(), Theme::dark());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = Runtime::new(tx, Services::none());
    let key = |c: KeyCode, m: KeyModifiers| Event::Key(KeyEvent::new(c, m));
    let pasted: String = (0..1000).map(|i| format!("# line {i:05} of the paste\n")).collect();
    assert!(pasted.len() > 20_000);
    let mut script = vec![key(KeyCode::End, KeyModifiers::CONTROL)];
    script.extend(pasted.chars().map(|c| match c {
        '\n' => key(KeyCode::Enter, KeyModifiers::NONE),
        c => key(KeyCode::Char(c), KeyModifiers::NONE),
    }));
    script.push(key(KeyCode::Char('q'), KeyModifiers::CONTROL));
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    let clock = super::tui_fixture::now;
    run::run(&mut terminal, &mut app, futures::stream::iter(script), &runtime, &mut rx, &clock, kubetutor::ui::draw)
        .await
        .unwrap();
    assert!(app.quit);
    assert!(app.editor.text().contains(&pasted), "the paste is in the editor, in order");
    let frames = terminal.get_frame().count();
    assert!(frames < 50, "{frames} frames for one paste");
    let draft = std::fs::read_to_string(dir.path().join("drafts/statefulset/headless-service.yaml")).unwrap();
    assert!(draft.contains(&pasted), "the draft holds the whole paste");
}

/// A draft that is not UTF-8 is kept under a new name and the learner is told; the editor
/// starts from the starter, and saving it cannot overwrite the old file.
#[test]
fn an_undecodable_draft_is_kept_aside_and_the_learner_told() {
    use kubetutor::ui::theme::Theme;
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("drafts/statefulset/headless-service.yaml");
    std::fs::create_dir_all(draft.parent().unwrap()).unwrap();
    std::fs::write(&draft, b"apiVersion: v1\nkind: Service # caf\xe9 in Latin-1\n").unwrap();
    let app = super::tui_fixture::app(dir.path(), Theme::dark());
    let kept = dir.path().join("drafts/statefulset/headless-service.yaml.undecodable-1");
    assert_eq!(std::fs::read(&kept).unwrap(), b"apiVersion: v1\nkind: Service # caf\xe9 in Latin-1\n");
    let message = app.message.as_ref().expect("the learner is told");
    assert!(message.text.ends_with(&kept.display().to_string()), "{}", message.text);
    let screen = super::tui_fixture::render(&app, 120, 40);
    assert!(screen.contains("Your saved draft for this step could not be"), "{screen}");
    assert!(!draft.exists(), "the next save starts a fresh draft");
}
