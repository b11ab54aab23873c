//! Shared test helpers: a sandbox served on a loopback port with a kube client from its
//! kubeconfig, and polling until a condition holds.

use std::future::Future;
use std::time::Duration;

use kube_sandbox::{Sandbox, SandboxConfig, Serving};

pub(crate) struct Served {
    pub sandbox: Sandbox,
    pub kubeconfig: String,
    _serving: Serving,
}

pub(crate) async fn serve_with(config: SandboxConfig) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start(config).unwrap();
    let serving = sandbox.serve_on(listener).unwrap();
    let kubeconfig = sandbox.kubeconfig(serving.url(), "default");
    Served { sandbox, kubeconfig, _serving: serving }
}

pub(crate) async fn serve() -> Served {
    serve_with(SandboxConfig { speed: f64::INFINITY, ..Default::default() }).await
}

/// A kube client built from a kubeconfig, exactly as for a real cluster.
pub(crate) async fn client_from(kubeconfig: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await.unwrap();
    kube::Client::try_from(cfg).unwrap()
}

/// The server URL a kubeconfig names (its first cluster).
pub(crate) fn server_of(kubeconfig: &str) -> String {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).unwrap();
    kc.clusters[0].cluster.as_ref().unwrap().server.clone().unwrap()
}

impl Served {
    pub(crate) async fn client(&self) -> kube::Client {
        client_from(&self.kubeconfig).await
    }
}

/// Poll `f` until it returns Some, failing after `secs` seconds of real time.
pub(crate) async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
