//! The registry of resource types the sandbox serves: names, scope, verbs and subresources.
//! Discovery, routing, OpenAPI and tables all read this one list, so they never disagree.

/// One served resource type (a REST collection).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ResourceType {
    /// API group; "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    /// Subresources served under `<name>/<sub>`.
    pub subresources: &'static [&'static str],
    /// Where objects are kept: two types may share storage (core and events.k8s.io events).
    pub storage: &'static str,
    /// Whether spec changes bump `metadata.generation`.
    pub has_generation: bool,
}

impl ResourceType {
    /// `v1` or `apps/v1`.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` or `statefulsets.apps`, as upstream names a resource in messages.
    pub(crate) fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Kind of the list type, e.g. `PodList`.
    pub(crate) fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub(crate) fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.contains(&sub)
    }
}

const ALL_VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const CLUSTER_VERBS: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];
const READ_VERBS: &[&str] = &["get", "list", "watch"];

/// Every resource type the sandbox serves, in discovery order.
pub(crate) static RESOURCES: &[ResourceType] = &[
    ResourceType {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
        verbs: CLUSTER_VERBS,
        subresources: &["status"],
        storage: "namespaces",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        singular: "node",
        namespaced: false,
        short_names: &["no"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &["status"],
        storage: "nodes",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        namespaced: true,
        short_names: &["po"],
        categories: &["all"],
        verbs: ALL_VERBS,
        subresources: &["status", "log", "binding", "attach", "exec", "portforward"],
        storage: "pods",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        singular: "service",
        namespaced: true,
        short_names: &["svc"],
        categories: &["all"],
        verbs: ALL_VERBS,
        subresources: &["status"],
        storage: "services",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "Endpoints",
        plural: "endpoints",
        singular: "endpoints",
        namespaced: true,
        short_names: &["ep"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        storage: "endpoints",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "PersistentVolumeClaim",
        plural: "persistentvolumeclaims",
        singular: "persistentvolumeclaim",
        namespaced: true,
        short_names: &["pvc"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &["status"],
        storage: "persistentvolumeclaims",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "PersistentVolume",
        plural: "persistentvolumes",
        singular: "persistentvolume",
        namespaced: false,
        short_names: &["pv"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &["status"],
        storage: "persistentvolumes",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        storage: "events",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        singular: "configmap",
        namespaced: true,
        short_names: &["cm"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        storage: "configmaps",
        has_generation: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        namespaced: true,
        short_names: &["sa"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        storage: "serviceaccounts",
        has_generation: false,
    },
    ResourceType {
        group: "apps",
        version: "v1",
        kind: "StatefulSet",
        plural: "statefulsets",
        singular: "statefulset",
        namespaced: true,
        short_names: &["sts"],
        categories: &["all"],
        verbs: ALL_VERBS,
        subresources: &["status", "scale"],
        storage: "statefulsets.apps",
        has_generation: true,
    },
    ResourceType {
        group: "apps",
        version: "v1",
        kind: "ControllerRevision",
        plural: "controllerrevisions",
        singular: "controllerrevision",
        namespaced: true,
        short_names: &[],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        storage: "controllerrevisions.apps",
        has_generation: false,
    },
    ResourceType {
        group: "storage.k8s.io",
        version: "v1",
        kind: "StorageClass",
        plural: "storageclasses",
        singular: "storageclass",
        namespaced: false,
        short_names: &["sc"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        storage: "storageclasses.storage.k8s.io",
        has_generation: false,
    },
    ResourceType {
        group: "discovery.k8s.io",
        version: "v1",
        kind: "EndpointSlice",
        plural: "endpointslices",
        singular: "endpointslice",
        namespaced: true,
        short_names: &[],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        storage: "endpointslices.discovery.k8s.io",
        has_generation: false,
    },
    ResourceType {
        group: "events.k8s.io",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        verbs: READ_VERBS,
        subresources: &[],
        storage: "events",
        has_generation: false,
    },
];

/// The resource served at `group/version/plural`.
pub(crate) fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
}

#[cfg(test)]
/// The resource for an object's `apiVersion` and `kind`.
pub(crate) fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|r| r.api_version() == api_version && r.kind == kind)
}

/// The resource type that owns a storage key (the first one registered for it).
pub(crate) fn by_storage(storage: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|r| r.storage == storage)
}

/// Well-known types by short Rust names, for controllers.
pub(crate) mod kinds {
    use super::{find, ResourceType};

    macro_rules! lookup {
        ($name:ident, $group:expr, $plural:expr) => {
            pub(crate) fn $name() -> &'static ResourceType {
                find($group, "v1", $plural).expect("registered resource")
            }
        };
    }
    lookup!(namespaces, "", "namespaces");
    lookup!(nodes, "", "nodes");
    lookup!(pods, "", "pods");
    lookup!(services, "", "services");
    lookup!(endpoints, "", "endpoints");
    lookup!(pvcs, "", "persistentvolumeclaims");
    lookup!(pvs, "", "persistentvolumes");
    lookup!(events, "", "events");
    lookup!(configmaps, "", "configmaps");
    lookup!(serviceaccounts, "", "serviceaccounts");
    lookup!(statefulsets, "apps", "statefulsets");
    lookup!(controllerrevisions, "apps", "controllerrevisions");
    lookup!(storageclasses, "storage.k8s.io", "storageclasses");
    lookup!(endpointslices, "discovery.k8s.io", "endpointslices");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_agree() {
        let sts = find("apps", "v1", "statefulsets").unwrap();
        assert_eq!(sts.api_version(), "apps/v1");
        assert_eq!(sts.qualified(), "statefulsets.apps");
        assert_eq!(by_kind("apps/v1", "StatefulSet"), Some(sts));
        assert_eq!(by_kind("v1", "Pod").unwrap().plural, "pods");
        assert!(by_kind("apps/v1", "Pod").is_none());
        assert_eq!(by_storage("events").unwrap().group, "");
    }

    #[test]
    fn every_kind_helper_resolves() {
        for f in [kinds::pods, kinds::statefulsets, kinds::endpointslices, kinds::storageclasses] {
            assert_eq!(f().version, "v1");
        }
    }
}
