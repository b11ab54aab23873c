//! Storage: the simulated provisioner and PV binder (each claim of a class with our provisioner
//! gets its own PersistentVolume and becomes Bound; without a class it stays Pending, as on a
//! real cluster), reclaim on claim deletion, and the pvc-protection finalizer that keeps a claim
//! while a pod still uses it.

use serde_json::{json, Value};

use super::driver::{Action, Reconciler, Trigger};
use super::{unless_gone, Reporter};
use crate::admission;
use crate::consts::PROVISIONER;
use crate::error::ApiError;
use crate::events::{Involved, Recorder, PV_CONTROLLER};
use crate::resources::kinds;
use crate::store::{finalizers, name_of, namespace_of, rv_of, uid_of, DeleteOpts, Obj, Store, UpdateScope};

pub(crate) const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";

const PROVISIONER_REPORTER: Reporter = Reporter { component: PROVISIONER, host: None };

type Key = (String, String);

/// The controller, run by the driver; its keys are claims (namespace, name).
pub(crate) struct Storage {
    store: Store,
    recorder: Recorder,
}

impl Reconciler for Storage {
    type Key = Key;
    const NAME: &'static str = "storage";

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggers(&self) -> Vec<Trigger<Self>> {
        vec![
            Trigger::new(kinds::pvcs(), |_, o, out| out.push((o.namespace().to_string(), o.name().to_string()))),
            // A pod going away may release a claim held by pvc-protection.
            Trigger::new(kinds::pods(), |_, o, out| {
                for claim in o.meta().pod.iter().flat_map(|p| p.claims.iter()) {
                    out.push((o.namespace().to_string(), claim.to_string()));
                }
            }),
            // A class appearing may let every waiting claim be provisioned.
            Trigger::new(kinds::storageclasses(), |s: &Self, _, out| {
                for pvc in s.store.list(kinds::pvcs(), None).0 {
                    out.push((namespace_of(&pvc).to_string(), name_of(&pvc).to_string()));
                }
            }),
            // A volume names its claim: one whose claim is gone is reclaimed, even when the
            // claim's deletion itself was missed.
            Trigger::new(kinds::pvs(), Self::volume_changed),
        ]
    }

    fn reconcile(&mut self, key: &Key) -> Result<Action, ApiError> {
        self.sync_claim(&key.0, &key.1)?;
        Ok(Action::AwaitChange)
    }
}

impl Storage {
    pub(crate) fn new(store: Store, recorder: Recorder) -> Self {
        Storage { store, recorder }
    }

    fn volume_changed(&self, pv: &Obj, out: &mut Vec<Key>) {
        let claim = &pv["spec"]["claimRef"];
        if let (Some(ns), Some(name)) = (claim["namespace"].as_str(), claim["name"].as_str()) {
            out.push((ns.to_string(), name.to_string()));
        }
    }

    fn sync_claim(&self, ns: &str, name: &str) -> Result<(), ApiError> {
        let Some(pvc) = self.store.get(kinds::pvcs(), ns, name) else {
            return self.reclaim_released(ns, name);
        };
        if pvc.pointer("/metadata/deletionTimestamp").is_some() {
            if !self.in_use(ns, name) {
                self.drop_protection(&pvc)?;
            }
            return Ok(());
        }
        if pvc.pointer("/status/phase") == Some(&json!("Bound")) {
            return Ok(());
        }
        let class_name = pvc.pointer("/spec/storageClassName").and_then(Value::as_str).unwrap_or("");
        let class = (!class_name.is_empty()).then(|| self.store.get(kinds::storageclasses(), "", class_name)).flatten();
        let Some(class) = class else {
            let msg = if class_name.is_empty() {
                "no persistent volumes available for this claim and no storage class is set".to_string()
            } else {
                format!("storageclass.storage.k8s.io \"{class_name}\" not found")
            };
            self.set_pending(&pvc)?;
            self.recorder.record(
                PV_CONTROLLER,
                Involved::of(&pvc),
                "Warning",
                if class_name.is_empty() { "FailedBinding" } else { "ProvisioningFailed" },
                &msg,
                None,
            );
            return Ok(());
        };
        if class["provisioner"] != PROVISIONER {
            self.set_pending(&pvc)?;
            self.recorder.record(PV_CONTROLLER, Involved::of(&pvc), "Normal", "ExternalProvisioning", &format!(
                "Waiting for a volume to be created either by the external provisioner '{}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
                class["provisioner"].as_str().unwrap_or("")), None);
            return Ok(());
        }
        self.provision(&pvc, &class)
    }

    fn set_pending(&self, pvc: &Value) -> Result<(), ApiError> {
        if pvc.pointer("/status/phase") != Some(&json!("Pending")) {
            let mut p = pvc.clone();
            p["status"] = json!({"phase": "Pending"});
            unless_gone(admission::update(&self.store, kinds::pvcs(), p, UpdateScope::Status))?;
        }
        Ok(())
    }

    fn provision(&self, pvc: &Value, class: &Value) -> Result<(), ApiError> {
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
            match admission::create(&self.store, kinds::pvs(), pv) {
                Ok(pv) => {
                    let mut bound = (*pv).clone();
                    bound["status"] =
                        json!({"phase": "Bound", "lastPhaseTransitionTime": self.store.clock().now_rfc3339()});
                    unless_gone(admission::update(&self.store, kinds::pvs(), bound, UpdateScope::Status))?;
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
                    return Ok(());
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
        let Some(claim) = unless_gone(admission::update(&self.store, kinds::pvcs(), claim, UpdateScope::Main))? else {
            return Ok(());
        };
        let mut claim = (*claim).clone();
        claim["status"] = json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}});
        unless_gone(admission::update(&self.store, kinds::pvcs(), claim, UpdateScope::Status))?;
        Ok(())
    }

    fn in_use(&self, ns: &str, claim: &str) -> bool {
        self.store.list(kinds::pods(), Some(ns)).0.iter().any(|p| {
            p.meta()
                .pod
                .as_deref()
                .is_some_and(|m| !matches!(&*m.phase, "Succeeded" | "Failed") && m.claims.iter().any(|c| &**c == claim))
        })
    }

    fn drop_protection(&self, pvc: &Value) -> Result<(), ApiError> {
        let fins = finalizers(pvc);
        if !fins.iter().any(|f| f == PVC_PROTECTION) {
            return Ok(());
        }
        let mut p = pvc.clone();
        p["metadata"]["finalizers"] = json!(fins.into_iter().filter(|f| f != PVC_PROTECTION).collect::<Vec<_>>());
        unless_gone(admission::update(&self.store, kinds::pvcs(), p, UpdateScope::All))?;
        Ok(())
    }

    /// A deleted claim's volume is deleted (policy Delete) or marked Released (Retain).
    fn reclaim_released(&self, ns: &str, name: &str) -> Result<(), ApiError> {
        for pv in self.store.list(kinds::pvs(), None).0 {
            let claim = &pv["spec"]["claimRef"];
            if claim["namespace"] != ns || claim["name"] != name {
                continue;
            }
            if pv.pointer("/spec/persistentVolumeReclaimPolicy") == Some(&json!("Delete")) {
                let mut p = (*pv).clone();
                p["metadata"]["finalizers"] = json!([]);
                unless_gone(admission::update(&self.store, kinds::pvs(), p, UpdateScope::All))?;
                unless_gone(admission::delete(&self.store, kinds::pvs(), "", name_of(&pv), &DeleteOpts::default()))?;
            } else if pv.pointer("/status/phase") != Some(&json!("Released")) {
                let mut p = (*pv).clone();
                p["status"] = json!({"phase": "Released", "lastPhaseTransitionTime": self.store.clock().now_rfc3339()});
                unless_gone(admission::update(&self.store, kinds::pvs(), p, UpdateScope::Status))?;
            }
        }
        Ok(())
    }
}
