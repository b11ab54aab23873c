//! PersistentVolumeClaim, PersistentVolume and StorageClass rows, following upstream's printers
//! (access modes as `RWO,RWX`, `<unset>` classes, `Terminating` while deleting, the default class marker).

use serde_json::{json, Value};

use super::{at, list, text, Column, AGE, NAME};

pub(super) const PVC: &[Column] = &[
    NAME,
    ("Status", "string", 0, "phase represents the current phase of PersistentVolumeClaim."),
    ("Volume", "string", 0, "volumeName is the binding reference to the PersistentVolume backing this claim."),
    ("Capacity", "string", 0, "capacity represents the actual resources of the underlying volume."),
    ("Access Modes", "string", 0, "accessModes contains the actual access modes the volume backing the PVC has."),
    ("StorageClass", "string", 0, "StorageClass of the pvc"),
    ("VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pvc"),
    AGE,
    ("VolumeMode", "string", 1, "volumeMode defines what type of volume is required by the claim."),
];
pub(super) const PV: &[Column] = &[
    NAME,
    ("Capacity", "string", 0, "capacity is the description of the persistent volume's resources and capacity."),
    ("Access Modes", "string", 0, "accessModes contains all ways the volume can be mounted."),
    ("Reclaim Policy", "string", 0, "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
    ("Status", "string", 0, "phase indicates if a volume is available, bound to a claim, or released by a claim."),
    ("Claim", "string", 0, "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
    ("StorageClass", "string", 0, "StorageClass of the pv"),
    ("VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pv"),
    ("Reason", "string", 0, "reason is a brief CamelCase string that describes any failure."),
    AGE,
    ("VolumeMode", "string", 1, "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state."),
];
pub(super) const STORAGECLASS: &[Column] = &[
    NAME,
    ("Provisioner", "string", 0, "provisioner indicates the type of the provisioner."),
    (
        "ReclaimPolicy",
        "string",
        0,
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
    ),
    (
        "VolumeBindingMode",
        "string",
        0,
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
    ),
    ("AllowVolumeExpansion", "string", 0, "allowVolumeExpansion shows whether the storage class allow volume expand."),
    AGE,
];
pub(super) fn claim(obj: &Value, name: &str, created: String) -> Vec<Value> {
    let bound = !text(obj, &["spec", "volumeName"]).is_empty();
    let (capacity, modes) = if bound {
        (text(obj, &["status", "capacity", "storage"]).to_string(), access_modes(list(obj, &["status", "accessModes"])))
    } else {
        (String::new(), String::new())
    };
    vec![
        json!(name),
        json!(phase(obj)),
        json!(text(obj, &["spec", "volumeName"])),
        json!(capacity),
        json!(modes),
        json!(storage_class(obj)),
        json!(unset(text(obj, &["spec", "volumeAttributesClassName"]))),
        json!(created),
        json!(unset(text(obj, &["spec", "volumeMode"]))),
    ]
}

pub(super) fn volume(obj: &Value, name: &str, created: String) -> Vec<Value> {
    let claim = match at(obj, &["spec", "claimRef"]).filter(|c| c.is_object()) {
        Some(c) => format!("{}/{}", text(c, &["namespace"]), text(c, &["name"])),
        None => String::new(),
    };
    vec![
        json!(name),
        json!(text(obj, &["spec", "capacity", "storage"])),
        json!(access_modes(list(obj, &["spec", "accessModes"]))),
        json!(text(obj, &["spec", "persistentVolumeReclaimPolicy"])),
        json!(phase(obj)),
        json!(claim),
        json!(storage_class(obj)),
        json!(unset(text(obj, &["spec", "volumeAttributesClassName"]))),
        json!(text(obj, &["status", "reason"])),
        json!(created),
        json!(unset(text(obj, &["spec", "volumeMode"]))),
    ]
}

/// Shows `(default)` after the name of the cluster's default class, as kubectl does.
pub(super) fn class(obj: &Value, name: &str, created: String) -> Vec<Value> {
    let annotations = at(obj, &["metadata", "annotations"]);
    let is_default = |key: &str| annotations.and_then(|a| a.get(key)).and_then(Value::as_str) == Some("true");
    let shown = if is_default("storageclass.kubernetes.io/is-default-class")
        || is_default("storageclass.beta.kubernetes.io/is-default-class")
    {
        format!("{name} (default)")
    } else {
        name.to_string()
    };
    let or = |s: &'static str, field: &str| {
        let v = text(obj, &[field]);
        if v.is_empty() {
            s.to_string()
        } else {
            v.to_string()
        }
    };
    vec![
        json!(shown),
        json!(text(obj, &["provisioner"])),
        json!(or("Delete", "reclaimPolicy")),
        json!(or("Immediate", "volumeBindingMode")),
        json!(at(obj, &["allowVolumeExpansion"]).and_then(Value::as_bool).unwrap_or(false)),
        json!(created),
    ]
}

fn unset(s: &str) -> String {
    if s.is_empty() { "<unset>" } else { s }.to_string()
}

/// PV/PVC phase, `Terminating` once deletion has started.
fn phase(obj: &Value) -> String {
    if at(obj, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null()) {
        "Terminating".into()
    } else {
        text(obj, &["status", "phase"]).into()
    }
}

fn storage_class(obj: &Value) -> String {
    let class = text(obj, &["spec", "storageClassName"]);
    if !class.is_empty() {
        return class.into();
    }
    text(obj, &["metadata", "annotations", "volume.beta.kubernetes.io/storage-class"]).into()
}

/// `RWO,ROX,RWX,RWOP` in upstream's fixed order, whatever order the spec lists them in.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
        .iter()
        .filter(|(long, _)| has(long))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::kinds;
    use crate::table::fixtures::{meta, row};

    #[test]
    fn claims_and_volumes() {
        let pvc = json!({"metadata": meta("www-web-0"),
            "spec": {"volumeName": "pv-1", "storageClassName": "standard", "volumeMode": "Filesystem",
                     "accessModes": ["ReadWriteOnce"]},
            "status": {"phase": "Bound", "capacity": {"storage": "1Gi"},
                       "accessModes": ["ReadWriteMany", "ReadWriteOnce"]}});
        assert_eq!(
            row(kinds::pvcs(), pvc),
            json!(["www-web-0", "Bound", "pv-1", "1Gi", "RWO,RWX", "standard", "<unset>", "60m", "Filesystem"])
        );
        let pending = json!({"metadata": meta("p"), "spec": {}, "status": {"phase": "Pending"}});
        assert_eq!(row(kinds::pvcs(), pending), json!(["p", "Pending", "", "", "", "", "<unset>", "60m", "<unset>"]));
        let pv = json!({"metadata": meta("pv-1"),
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "standard",
                     "claimRef": {"namespace": "default", "name": "www-web-0"}, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}});
        assert_eq!(
            row(kinds::pvs(), pv),
            json!([
                "pv-1",
                "1Gi",
                "RWO",
                "Delete",
                "Bound",
                "default/www-web-0",
                "standard",
                "<unset>",
                "",
                "60m",
                "Filesystem"
            ])
        );
    }
}
