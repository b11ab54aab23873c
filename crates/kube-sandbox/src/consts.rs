//! The sandbox cluster's fixed facts: its Kubernetes version, its one node, the cluster DNS
//! Service's address and domain, the default StorageClass and its provisioner, the context
//! name of its kubeconfigs. A leaf module: it imports nothing, so every other module may use it.

/// The Kubernetes version the sandbox reports; it decides which kubectl the gcloud dispatcher runs.
pub const KUBE_VERSION: &str = "v1.33.4";

/// The simulated node every pod runs on.
pub const NODE_NAME: &str = "kubetutor-node";

/// The cluster DNS service address (busybox nslookup prints it as the server).
pub const DNS_SERVICE_IP: &str = "10.96.0.10";

/// The cluster's DNS domain (`web-0.nginx.default.svc.cluster.local`).
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The default StorageClass.
pub const STORAGE_CLASS: &str = "standard";

/// The simulated provisioner; the name says it is not real storage.
pub const PROVISIONER: &str = "sandbox.kubetutor.dev/simulated";

/// The context (and cluster and user) name of the kubeconfigs a sandbox writes.
pub const KUBECONFIG_CONTEXT: &str = "kubetutor-sandbox";
