//! Every namespace's `default` ServiceAccount and its `kube-root-ca.crt` ConfigMap (the CA that
//! signed the API server's certificate), as upstream's ServiceAccountsController and
//! root-ca-cert-publisher keep them: made when a namespace appears, and made again when deleted.
//! The ServiceAccount admission (admission.rs) mounts a token volume built from them into pods.

use serde_json::json;

use super::driver::{Action, Reconciler, Trigger};
use crate::admission;
use crate::error::{ApiError, ApiResult};
use crate::resources::kinds;
use crate::store::{Obj, Store};

/// The ConfigMap every namespace gets with the cluster's CA.
pub(crate) const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

/// The controller, run by the driver; its keys are namespace names.
pub(crate) struct ServiceAccounts {
    store: Store,
    ca_pem: String,
}

impl ServiceAccounts {
    pub(crate) fn new(store: Store, ca_pem: String) -> Self {
        ServiceAccounts { store, ca_pem }
    }

    /// The `default` ServiceAccount of a namespace changed (was deleted, say).
    fn account_changed(&self, o: &Obj, out: &mut Vec<String>) {
        if o.name() == "default" {
            out.push(o.namespace().to_string());
        }
    }

    /// The CA ConfigMap of a namespace changed.
    fn ca_changed(&self, o: &Obj, out: &mut Vec<String>) {
        if o.name() == ROOT_CA_CONFIGMAP {
            out.push(o.namespace().to_string());
        }
    }
}

impl Reconciler for ServiceAccounts {
    type Key = String;
    const NAME: &'static str = "serviceaccounts";

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggers(&self) -> Vec<Trigger<Self>> {
        vec![
            Trigger::new(kinds::namespaces(), |_, ns, out| out.push(ns.name().to_string())),
            Trigger::new(kinds::serviceaccounts(), Self::account_changed),
            Trigger::new(kinds::configmaps(), Self::ca_changed),
        ]
    }

    fn reconcile(&mut self, namespace: &String) -> Result<Action, ApiError> {
        ensure(&self.store, &self.ca_pem, namespace)?;
        Ok(Action::AwaitChange)
    }
}

/// Made by someone else meanwhile is as good as made.
fn made(r: ApiResult<Obj>) -> ApiResult<()> {
    match r {
        Err(e) if e.reason != "AlreadyExists" => Err(e),
        _ => Ok(()),
    }
}

/// Make what `namespace` lacks, unless it is going away.
fn ensure(store: &Store, ca_pem: &str, namespace: &str) -> ApiResult<()> {
    let Some(ns) = store.get(kinds::namespaces(), "", namespace) else { return Ok(()) };
    if ns.meta().deleting {
        return Ok(());
    }
    if store.get(kinds::serviceaccounts(), namespace, "default").is_none() {
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": namespace}});
        made(admission::create(store, kinds::serviceaccounts(), sa))?;
    }
    if store.get(kinds::configmaps(), namespace, ROOT_CA_CONFIGMAP).is_none() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": namespace,
                "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": ca_pem}});
        made(admission::create(store, kinds::configmaps(), cm))?;
    }
    Ok(())
}
