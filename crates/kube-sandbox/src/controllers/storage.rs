//! Storage: the simulated provisioner and PV binder (each claim of a class with our provisioner
//! gets its own PersistentVolume and becomes Bound; without a class it stays Pending, as on a
//! real cluster), reclaim on claim deletion, and the pvc-protection finalizer that keeps a claim
//! while a pod still uses it.

use std::collections::HashSet;

use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::{create, Reporter};
use crate::consts::PROVISIONER;
use crate::events::{Involved, Recorder, PV_CONTROLLER};
use crate::resources::kinds;
use crate::store::{finalizers, name_of, namespace_of, rv_of, uid_of, DeleteOpts, Store, UpdateScope};

pub(crate) const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";

const PROVISIONER_REPORTER: Reporter = Reporter { component: PROVISIONER, host: None };

pub(crate) async fn run(store: Store, recorder: Recorder) {
    let mut rx = store.subscribe();
    let ctl = Storage { store: store.clone(), recorder };
    ctl.sync_all();
    loop {
        let mut claims: HashSet<(String, String)> = HashSet::new();
        let mut all = false;
        match rx.recv().await {
            Ok(c) => collect(&c, &mut claims, &mut all),
            Err(RecvError::Lagged(_)) => all = true,
            Err(RecvError::Closed) => return,
        }
        while let Ok(c) = rx.try_recv() {
            collect(&c, &mut claims, &mut all);
        }
        if all {
            ctl.sync_all();
        } else {
            for (ns, name) in claims {
                ctl.sync_claim(&ns, &name);
            }
        }
    }
}

fn collect(c: &crate::store::Change, claims: &mut HashSet<(String, String)>, all: &mut bool) {
    let o = &c.object;
    if c.storage == kinds::pvcs().storage {
        claims.insert((o.namespace().to_string(), o.name().to_string()));
    } else if c.storage == kinds::pods().storage {
        // A pod going away may release a claim held by pvc-protection.
        for claim in o.meta().pod.iter().flat_map(|p| p.claims.iter()) {
            claims.insert((o.namespace().to_string(), claim.to_string()));
        }
    } else if c.storage == kinds::storageclasses().storage {
        *all = true;
    }
}

struct Storage {
    store: Store,
    recorder: Recorder,
}

impl Storage {
    fn sync_all(&self) {
        for pvc in self.store.list(kinds::pvcs(), None).0 {
            self.sync_claim(namespace_of(&pvc), name_of(&pvc));
        }
    }

    fn sync_claim(&self, ns: &str, name: &str) {
        let Some(pvc) = self.store.get(kinds::pvcs(), ns, name) else {
            self.reclaim_released(ns, name);
            return;
        };
        if pvc.pointer("/metadata/deletionTimestamp").is_some() {
            if !self.in_use(ns, name) {
                self.drop_protection(&pvc);
            }
            return;
        }
        if pvc.pointer("/status/phase") == Some(&json!("Bound")) {
            return;
        }
        let class_name = pvc.pointer("/spec/storageClassName").and_then(Value::as_str).unwrap_or("");
        let class = (!class_name.is_empty()).then(|| self.store.get(kinds::storageclasses(), "", class_name)).flatten();
        let Some(class) = class else {
            let msg = if class_name.is_empty() {
                "no persistent volumes available for this claim and no storage class is set".to_string()
            } else {
                format!("storageclass.storage.k8s.io \"{class_name}\" not found")
            };
            self.set_pending(&pvc);
            self.recorder.record(
                PV_CONTROLLER,
                Involved::of(&pvc),
                "Warning",
                if class_name.is_empty() { "FailedBinding" } else { "ProvisioningFailed" },
                &msg,
                None,
            );
            return;
        };
        if class["provisioner"] != PROVISIONER {
            self.set_pending(&pvc);
            self.recorder.record(PV_CONTROLLER, Involved::of(&pvc), "Normal", "ExternalProvisioning", &format!(
                "Waiting for a volume to be created either by the external provisioner '{}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
                class["provisioner"].as_str().unwrap_or("")), None);
            return;
        }
        self.provision(&pvc, &class);
    }

    fn set_pending(&self, pvc: &Value) {
        if pvc.pointer("/status/phase") != Some(&json!("Pending")) {
            let mut p = pvc.clone();
            p["status"] = json!({"phase": "Pending"});
            let _ = self.store.update(kinds::pvcs(), p, UpdateScope::Status, false);
        }
    }

    fn provision(&self, pvc: &Value, class: &Value) {
        let pv_name = format!("pvc-{}", uid_of(pvc));
        let size = pvc.pointer("/spec/resources/requests/storage").cloned().unwrap_or(json!("1Gi"));
        let modes = pvc.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"]));
        if self.store.get(kinds::pvs(), "", &pv_name).is_none() {
            let pv = json!({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
                             "finalizers": ["kubernetes.io/pv-protection"]},
                "spec": {
                    "capacity": {"storage": size}, "accessModes": modes,
                    "persistentVolumeReclaimPolicy": class.get("reclaimPolicy").cloned().unwrap_or(json!("Delete")),
                    "storageClassName": class["metadata"]["name"],
                    "volumeMode": "Filesystem",
                    "csi": {"driver": PROVISIONER, "volumeHandle": pv_name, "fsType": "ext4"},
                    "claimRef": {"kind": "PersistentVolumeClaim", "namespace": namespace_of(pvc), "name": name_of(pvc),
                                 "uid": uid_of(pvc), "apiVersion": "v1", "resourceVersion": rv_of(pvc)},
                },
            });
            match create(&self.store, kinds::pvs(), pv) {
                Ok(pv) => {
                    let mut bound = (*pv).clone();
                    bound["status"] =
                        json!({"phase": "Bound", "lastPhaseTransitionTime": self.store.clock().now_rfc3339()});
                    let _ = self.store.update(kinds::pvs(), bound, UpdateScope::Status, false);
                    self.recorder.record(
                        PROVISIONER_REPORTER,
                        Involved::of(pvc),
                        "Normal",
                        "ProvisioningSucceeded",
                        &format!("Successfully provisioned volume {pv_name} (simulated by kubetutor)"),
                        None,
                    );
                }
                Err(e) => {
                    self.recorder.record(
                        PROVISIONER_REPORTER,
                        Involved::of(pvc),
                        "Warning",
                        "ProvisioningFailed",
                        &format!(
                            "failed to provision volume with StorageClass \"{}\": {}",
                            class["metadata"]["name"].as_str().unwrap_or(""),
                            e.message
                        ),
                        None,
                    );
                    return;
                }
            }
        }
        let mut claim = pvc.clone();
        claim["spec"]["volumeName"] = json!(pv_name);
        let ann = claim["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
        let mut ann = Value::Object(ann);
        ann["pv.kubernetes.io/bind-completed"] = json!("yes");
        ann["pv.kubernetes.io/bound-by-controller"] = json!("yes");
        ann["volume.beta.kubernetes.io/storage-provisioner"] = json!(PROVISIONER);
        ann["volume.kubernetes.io/storage-provisioner"] = json!(PROVISIONER);
        claim["metadata"]["annotations"] = ann;
        let Ok(claim) = self.store.update(kinds::pvcs(), claim, UpdateScope::Main, false) else { return };
        let mut claim = (*claim).clone();
        claim["status"] = json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}});
        let _ = self.store.update(kinds::pvcs(), claim, UpdateScope::Status, false);
    }

    fn in_use(&self, ns: &str, claim: &str) -> bool {
        self.store.list(kinds::pods(), Some(ns)).0.iter().any(|p| {
            p.meta()
                .pod
                .as_deref()
                .is_some_and(|m| !matches!(&*m.phase, "Succeeded" | "Failed") && m.claims.iter().any(|c| &**c == claim))
        })
    }

    fn drop_protection(&self, pvc: &Value) {
        let fins = finalizers(pvc);
        if !fins.iter().any(|f| f == PVC_PROTECTION) {
            return;
        }
        let mut p = pvc.clone();
        p["metadata"]["finalizers"] = json!(fins.into_iter().filter(|f| f != PVC_PROTECTION).collect::<Vec<_>>());
        let _ = self.store.update(kinds::pvcs(), p, UpdateScope::All, false);
    }

    /// A deleted claim's volume is deleted (policy Delete) or marked Released (Retain).
    fn reclaim_released(&self, ns: &str, name: &str) {
        for pv in self.store.list(kinds::pvs(), None).0 {
            let claim = &pv["spec"]["claimRef"];
            if claim["namespace"] != ns || claim["name"] != name {
                continue;
            }
            if pv.pointer("/spec/persistentVolumeReclaimPolicy") == Some(&json!("Delete")) {
                let mut p = (*pv).clone();
                p["metadata"]["finalizers"] = json!([]);
                let _ = self.store.update(kinds::pvs(), p, UpdateScope::All, false);
                let _ = self.store.delete(kinds::pvs(), "", name_of(&pv), &DeleteOpts::default());
            } else if pv.pointer("/status/phase") != Some(&json!("Released")) {
                let mut p = (*pv).clone();
                p["status"] = json!({"phase": "Released", "lastPhaseTransitionTime": self.store.clock().now_rfc3339()});
                let _ = self.store.update(kinds::pvs(), p, UpdateScope::Status, false);
            }
        }
    }
}
