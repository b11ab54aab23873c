//! Every namespace's `default` ServiceAccount and its `kube-root-ca.crt` ConfigMap (the CA that
//! signed the API server's certificate), as upstream's ServiceAccountsController and
//! root-ca-cert-publisher keep them: made when a namespace appears, and made again when deleted.
//! The ServiceAccount admission (admission.rs) mounts a token volume built from them into pods.

use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::create;
use crate::resources::kinds;
use crate::store::{name_of, Change, ChangeKind, Store};

/// The ConfigMap every namespace gets with the cluster's CA.
pub(crate) const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

/// Runs until the store's change stream closes.
pub(crate) async fn run(store: Store, ca_pem: String) {
    let mut rx = store.subscribe();
    sync_all(&store, &ca_pem);
    loop {
        match rx.recv().await {
            Ok(c) => on_change(&store, &ca_pem, &c),
            Err(RecvError::Lagged(_)) => sync_all(&store, &ca_pem),
            Err(RecvError::Closed) => return,
        }
    }
}

fn on_change(store: &Store, ca_pem: &str, c: &Change) {
    let o = &c.object;
    let namespace = if c.storage == kinds::namespaces().storage && c.kind != ChangeKind::Deleted {
        o.name().to_string()
    } else if c.kind == ChangeKind::Deleted
        && ((c.storage == kinds::serviceaccounts().storage && o.name() == "default")
            || (c.storage == kinds::configmaps().storage && o.name() == ROOT_CA_CONFIGMAP))
    {
        o.namespace().to_string()
    } else {
        return;
    };
    ensure(store, ca_pem, &namespace);
}

fn sync_all(store: &Store, ca_pem: &str) {
    for ns in store.list(kinds::namespaces(), None).0 {
        ensure(store, ca_pem, name_of(&ns));
    }
}

/// Make what `namespace` lacks, unless it is going away.
fn ensure(store: &Store, ca_pem: &str, namespace: &str) {
    let Some(ns) = store.get(kinds::namespaces(), "", namespace) else { return };
    if ns.meta().deleting {
        return;
    }
    if store.get(kinds::serviceaccounts(), namespace, "default").is_none() {
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": namespace}});
        let _ = create(store, kinds::serviceaccounts(), sa);
    }
    if store.get(kinds::configmaps(), namespace, ROOT_CA_CONFIGMAP).is_none() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": namespace,
                "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": ca_pem}});
        let _ = create(store, kinds::configmaps(), cm);
    }
}
