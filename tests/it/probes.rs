//! Readiness and liveness probes run by the simulated kubelet: a failing readiness probe keeps
//! the pod out of Ready (and out of the Service's ready addresses) and holds an OrderedReady
//! StatefulSet at that pod; once it passes the set goes on. A failing liveness probe restarts
//! the container. Each failure is an Unhealthy event in upstream's words.

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Endpoints, Event, Pod};
use kube::api::{Api, AttachParams, ListParams, PostParams};
use serde_json::json;
use tokio::io::AsyncReadExt;

use super::support::{eventually, serve};

fn probed_set(readiness: serde_json::Value, liveness: Option<serde_json::Value>) -> StatefulSet {
    let mut container = json!({"name": "nginx", "image": "nginx:mainline",
        "ports": [{"name": "web", "containerPort": 80}], "readinessProbe": readiness});
    if let Some(l) = liveness {
        container["livenessProbe"] = l;
    }
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
        "spec": {"serviceName": "nginx", "replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [container]}}}
    }))
    .unwrap()
}

async fn events_saying(c: &kube::Client, part: &str) -> Vec<Event> {
    let events: Api<Event> = Api::default_namespaced(c.clone());
    let all = events.list(&ListParams::default()).await.unwrap().items;
    all.into_iter().filter(|e| e.message.as_deref().is_some_and(|m| m.contains(part))).collect()
}

async fn exec(pods: &Api<Pod>, pod: &str, script: &str) -> String {
    let mut p =
        pods.exec(pod, vec!["sh", "-c", script], &AttachParams::default().stdin(false).stderr(false)).await.unwrap();
    let mut out = String::new();
    p.stdout().unwrap().read_to_string(&mut out).await.unwrap();
    p.join().await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_readiness_probe_holds_the_pod_and_the_set() {
    let s = serve().await;
    let c = s.client().await;
    let sets: Api<StatefulSet> = Api::default_namespaced(c.clone());
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let svc: k8s_openapi::api::core::v1::Service = serde_json::from_value(json!({"metadata": {"name": "nginx"},
        "spec": {"clusterIP": "None", "selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": "web"}]}}))
    .unwrap();
    Api::default_namespaced(c.clone()).create(&PostParams::default(), &svc).await.unwrap();
    let probe = json!({"httpGet": {"path": "/healthz", "port": "web"}, "periodSeconds": 1});
    sets.create(&PostParams::default(), &probed_set(probe, None)).await.unwrap();
    // web-0 runs but /healthz is a 404: never Ready, and web-1 is never made.
    let events = eventually(20, "an Unhealthy event", || {
        let c = c.clone();
        async move {
            let e = events_saying(&c, "Readiness probe failed: HTTP probe failed with statuscode: 404").await;
            (!e.is_empty()).then_some(e)
        }
    })
    .await;
    assert_eq!(events[0].reason.as_deref(), Some("Unhealthy"));
    assert_eq!(events[0].type_.as_deref(), Some("Warning"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let web0 = pods.get("web-0").await.unwrap();
    let status = web0.status.clone().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    let ready = status.conditions.unwrap().into_iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.status, "False");
    assert!(pods.get_opt("web-1").await.unwrap().is_none(), "OrderedReady waits for web-0");
    // Out of the Service's ready addresses.
    let endpoints: Api<Endpoints> = Api::default_namespaced(c.clone());
    let ep = endpoints.get("nginx").await.unwrap();
    let subset = &ep.subsets.unwrap()[0];
    assert!(subset.addresses.is_none(), "{subset:?}");
    assert_eq!(subset.not_ready_addresses.as_ref().unwrap().len(), 1);

    // nginx saw the prober, under its own name.
    let logs = pods.logs("web-0", &Default::default()).await.unwrap();
    assert!(logs.contains("\"GET /healthz HTTP/1.1\" 404") && logs.contains("\"kube-probe/1.33\""), "{logs}");

    // The page appears: the probe passes, web-0 is Ready and web-1 comes.
    exec(&pods, "web-0", "echo ok > /usr/share/nginx/html/healthz").await;
    eventually(20, "web-0 Ready and web-1 made", || {
        let sets = sets.clone();
        let pods = pods.clone();
        async move {
            let web1 = pods.get_opt("web-1").await.unwrap()?;
            let _ = web1;
            let st = sets.get("web").await.unwrap().status?;
            (st.ready_replicas >= Some(1)).then_some(())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_and_exec_probes_and_a_liveness_restart() {
    let s = serve().await;
    let c = s.client().await;
    let sets: Api<StatefulSet> = Api::default_namespaced(c.clone());
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    // Readiness on the port nginx listens on passes; liveness on a file that is not there fails.
    let readiness = json!({"tcpSocket": {"port": 80}, "periodSeconds": 1});
    let liveness = json!({"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 2});
    let mut set = probed_set(readiness, Some(liveness));
    set.spec.as_mut().unwrap().replicas = Some(1);
    sets.create(&PostParams::default(), &set).await.unwrap();
    let restarted = eventually(30, "a liveness restart", || {
        let pods = pods.clone();
        async move {
            let p = pods.get_opt("web-0").await.unwrap()?;
            let cs = p.status?.container_statuses?.into_iter().next()?;
            (cs.restart_count >= 1).then_some(cs)
        }
    })
    .await;
    assert_eq!(restarted.last_state.and_then(|s| s.terminated).map(|t| t.exit_code), Some(137));
    let failed = events_saying(&c, "Liveness probe failed: cat: /tmp/healthy: No such file or directory").await;
    let all = events_saying(&c, "Liveness probe failed").await;
    assert!(!failed.is_empty(), "{:?}", all.iter().map(|e| e.message.clone()).collect::<Vec<_>>());
    let killing = events_saying(&c, "Container nginx failed liveness probe, will be restarted").await;
    assert_eq!(killing[0].reason.as_deref(), Some("Killing"));

    // A readiness probe on a port nothing listens on.
    let mut other = probed_set(json!({"tcpSocket": {"port": 81}, "periodSeconds": 1}), None);
    other.metadata.name = Some("db".into());
    other.spec.as_mut().unwrap().replicas = Some(1);
    sets.create(&PostParams::default(), &other).await.unwrap();
    let refused = eventually(20, "a refused tcp probe", || {
        let c = c.clone();
        async move {
            let e = events_saying(&c, "Readiness probe failed: dial tcp ").await;
            e.into_iter()
                .find(|e| e.message.as_deref().is_some_and(|m| m.ends_with(":81: connect: connection refused")))
        }
    })
    .await;
    assert_eq!(refused.involved_object.name.as_deref(), Some("db-0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localhost_is_the_pods_own_and_curl_says_who_it_is() {
    let s = serve().await;
    let c = s.client().await;
    let sets: Api<StatefulSet> = Api::default_namespaced(c.clone());
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let mut set = probed_set(json!({"tcpSocket": {"port": 80}}), None);
    set.spec.as_mut().unwrap().replicas = Some(1);
    sets.create(&PostParams::default(), &set).await.unwrap();
    eventually(20, "web-0 Ready", || {
        let sets = sets.clone();
        async move { (sets.get("web").await.unwrap().status?.ready_replicas == Some(1)).then_some(()) }
    })
    .await;
    // As the tutorial runs it: the pod's own nginx through localhost and 127.0.0.1.
    let page =
        exec(&pods, "web-0", "curl -s http://localhost/ | head -n 4; curl -s http://127.0.0.1/ | head -n 4").await;
    assert_eq!(page.matches("<title>Welcome to nginx!</title>").count(), 2, "{page}");
    // Nothing on port 81: refused at once, not a wait for a time-out.
    let started = std::time::Instant::now();
    let refused = exec(&pods, "web-0", "curl -sS http://localhost:81/ 2>&1; echo \" exit=$?\"").await;
    assert!(refused.contains("Failed to connect to localhost port 81") && refused.ends_with("exit=7\n"), "{refused}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // nginx logged curl's own User-Agent.
    let logs = pods.logs("web-0", &Default::default()).await.unwrap();
    assert!(logs.contains("\"curl/7.88.1\""), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_pull_retry_is_one_set_of_events() {
    let s = super::support::serve_with(kube_sandbox::SandboxConfig { speed: 200.0, ..Default::default() }).await;
    let c = s.client().await;
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "bad"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "nginx:nope"}]}}))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    // Upstream, every try is: Pulling, Failed (the registry's answer), Failed (ErrImagePull),
    // BackOff, Failed (ImagePullBackOff); the status writes between them are no reason to retry.
    let counts = eventually(30, "three tries, each one set of events", || {
        let c = c.clone();
        async move {
            let events: Api<Event> = Api::default_namespaced(c);
            let all = events.list(&ListParams::default()).await.unwrap().items;
            let count = |part: &str| {
                all.iter()
                    .filter(|e| e.involved_object.name.as_deref() == Some("bad"))
                    .filter(|e| e.message.as_deref().is_some_and(|m| m.starts_with(part)))
                    .map(|e| e.count.unwrap_or(1))
                    .sum::<i32>()
            };
            let counts = [
                count("Pulling image"),
                count("Failed to pull image"),
                count("Error: ErrImagePull"),
                count("Back-off pulling image"),
                count("Error: ImagePullBackOff"),
            ];
            // Read between tries, when a try's events are all there.
            (counts[0] >= 3 && counts.iter().all(|n| *n == counts[0])).then_some(counts)
        }
    })
    .await;
    let waiting = pods.get("bad").await.unwrap().status.unwrap().container_statuses.unwrap()[0].clone();
    let reason = waiting.state.unwrap().waiting.unwrap().reason.unwrap();
    assert!(["ErrImagePull", "ImagePullBackOff"].contains(&reason.as_str()), "{reason} after {counts:?}");
}
