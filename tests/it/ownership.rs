//! Ownership as upstream's controller-ref manager: a StatefulSet deleted with
//! `--cascade=orphan` leaves its pods and revisions without any ownerReferences; applied again,
//! it adopts them (same pods, same revision); a pod relabelled out of the selector is released.

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, PropagationPolicy};
use serde_json::json;

use super::support::{eventually, serve};

fn set() -> StatefulSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
        "spec": {"serviceName": "nginx", "replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:mainline"}]}}}
    }))
    .unwrap()
}

async fn ready(sets: &Api<StatefulSet>, n: i32) -> StatefulSet {
    eventually(20, &format!("{n} Ready replicas"), || {
        let sets = sets.clone();
        async move {
            let s = sets.get_opt("web").await.unwrap()?;
            (s.status.as_ref()?.ready_replicas == Some(n)).then_some(s)
        }
    })
    .await
}

fn uids(pods: &[Pod]) -> Vec<String> {
    pods.iter().map(|p| p.metadata.uid.clone().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphaned_set_is_adopted_again_and_a_relabelled_pod_released() {
    let s = serve().await;
    let c = s.client().await;
    let sets: Api<StatefulSet> = Api::default_namespaced(c.clone());
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    let revs: Api<ControllerRevision> = Api::default_namespaced(c);
    sets.create(&PostParams::default(), &set()).await.unwrap();
    ready(&sets, 2).await;
    let before = pods.list(&ListParams::default().labels("app=nginx")).await.unwrap().items;
    assert_eq!(before.len(), 2);

    // kubectl delete statefulset web --cascade=orphan
    let orphan = DeleteParams { propagation_policy: Some(PropagationPolicy::Orphan), ..Default::default() };
    sets.delete("web", &orphan).await.unwrap();
    let left = eventually(10, "the set gone and its pods orphaned", || {
        let (sets, pods) = (sets.clone(), pods.clone());
        async move {
            if sets.get_opt("web").await.unwrap().is_some() {
                return None;
            }
            let left = pods.list(&ListParams::default().labels("app=nginx")).await.unwrap().items;
            left.iter().all(|p| p.metadata.owner_references.is_none()).then_some(left)
        }
    })
    .await;
    assert_eq!(uids(&left), uids(&before), "the pods stay");
    let orphaned = revs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(orphaned.len(), 1);
    assert!(orphaned[0].metadata.owner_references.is_none(), "{:?}", orphaned[0].metadata.owner_references);

    // kubectl apply -f web.yaml: the new set adopts the same pods and the same revision.
    let again = sets.create(&PostParams::default(), &set()).await.unwrap();
    let new_uid = again.metadata.uid.clone().unwrap();
    let adopted = ready(&sets, 2).await;
    let owned =
        |p: &Pod| p.metadata.owner_references.iter().flatten().any(|r| r.uid == new_uid && r.controller == Some(true));
    let after = eventually(10, "the pods adopted", || {
        let pods = pods.clone();
        async move {
            let after = pods.list(&ListParams::default().labels("app=nginx")).await.unwrap().items;
            after.iter().all(owned).then_some(after)
        }
    })
    .await;
    assert_eq!(uids(&after), uids(&before), "adopted, not re-created");
    let revisions = revs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(revisions.len(), 1, "the old revision is adopted, not made again");
    assert!(revisions[0].metadata.owner_references.iter().flatten().any(|r| r.uid == new_uid));
    assert_eq!(adopted.status.as_ref().unwrap().current_revision.as_deref(), revisions[0].metadata.name.as_deref());

    // kubectl label pod web-1 app=debug --overwrite: released, no reference left behind.
    let relabel = json!({"metadata": {"labels": {"app": "debug"}}});
    pods.patch("web-1", &PatchParams::default(), &Patch::Merge(relabel)).await.unwrap();
    eventually(10, "web-1 released", || {
        let pods = pods.clone();
        async move {
            let p = pods.get("web-1").await.unwrap();
            (p.metadata.labels.as_ref().unwrap()["app"] == "debug" && p.metadata.owner_references.is_none())
                .then_some(())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_and_slices_go_with_their_service() {
    use k8s_openapi::api::core::v1::{Endpoints, Service};
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    let s = serve().await;
    let c = s.client().await;
    let services: Api<Service> = Api::default_namespaced(c.clone());
    let endpoints: Api<Endpoints> = Api::default_namespaced(c.clone());
    let slices: Api<EndpointSlice> = Api::default_namespaced(c);
    let svc: Service = serde_json::from_value(json!({"metadata": {"name": "nginx"},
        "spec": {"clusterIP": "None", "selector": {"app": "nginx"}, "ports": [{"port": 80}]}}))
    .unwrap();
    services.create(&PostParams::default(), &svc).await.unwrap();
    let of_nginx = ListParams::default().labels("kubernetes.io/service-name=nginx");
    eventually(10, "the Endpoints and the EndpointSlice", || {
        let (endpoints, slices, of_nginx) = (endpoints.clone(), slices.clone(), of_nginx.clone());
        async move {
            let ep = endpoints.get_opt("nginx").await.unwrap();
            let n = slices.list(&of_nginx).await.unwrap().items.len();
            (ep.is_some() && n == 1).then_some(())
        }
    })
    .await;
    services.delete("nginx", &DeleteParams::default()).await.unwrap();
    eventually(10, "the Endpoints and the EndpointSlice gone", || {
        let (endpoints, slices, of_nginx) = (endpoints.clone(), slices.clone(), of_nginx.clone());
        async move {
            let ep = endpoints.get_opt("nginx").await.unwrap();
            let n = slices.list(&of_nginx).await.unwrap().items.len();
            (ep.is_none() && n == 0).then_some(())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_namespace_has_a_default_service_account_and_pods_mount_its_token() {
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
    // At 20 times real speed: the pod's `sleep 3600` lasts three minutes, long enough to exec in.
    let s = super::support::serve_with(kube_sandbox::SandboxConfig { speed: 20.0, ..Default::default() }).await;
    let c = s.client().await;
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "team"}})).unwrap();
    Api::<Namespace>::all(c.clone()).create(&PostParams::default(), &ns).await.unwrap();
    let sas: Api<ServiceAccount> = Api::namespaced(c.clone(), "team");
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "team");
    eventually(10, "team's default ServiceAccount and CA bundle", || {
        let (sas, cms) = (sas.clone(), cms.clone());
        async move {
            let sa = sas.get_opt("default").await.unwrap()?;
            let ca = cms.get_opt("kube-root-ca.crt").await.unwrap()?;
            ca.data?.get("ca.crt")?.starts_with("-----BEGIN CERTIFICATE-----").then_some(sa)
        }
    })
    .await;
    // Deleted, it comes back.
    sas.delete("default", &DeleteParams::default()).await.unwrap();
    eventually(10, "the default ServiceAccount made again", || {
        let sas = sas.clone();
        async move { sas.get_opt("default").await.unwrap().filter(|sa| sa.metadata.deletion_timestamp.is_none()) }
    })
    .await;

    // A pod gets the token volume, mounted read-only in each container, with the files in it.
    let pods: Api<Pod> = Api::namespaced(c.clone(), "team");
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}}))
    .unwrap();
    let made = pods.create(&PostParams::default(), &pod).await.unwrap();
    let spec = made.spec.unwrap();
    let volume = &spec.volumes.as_ref().unwrap()[0];
    assert!(volume.name.starts_with("kube-api-access-") && volume.name.len() == "kube-api-access-".len() + 5);
    let sources = volume.projected.as_ref().unwrap().sources.as_ref().unwrap();
    assert_eq!(sources[0].service_account_token.as_ref().unwrap().path, "token");
    let mount = &spec.containers[0].volume_mounts.as_ref().unwrap()[0];
    assert_eq!(
        (mount.mount_path.as_str(), mount.read_only),
        ("/var/run/secrets/kubernetes.io/serviceaccount", Some(true))
    );
    assert_eq!(spec.service_account_name.as_deref(), Some("default"));
    eventually(20, "p running", || {
        let pods = pods.clone();
        async move {
            let status = pods.get("p").await.unwrap().status?;
            status.container_statuses?.first()?.state.as_ref()?.running.as_ref().map(|_| ())
        }
    })
    .await;
    let mut attached = pods
        .exec(
            "p",
            vec!["sh", "-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; head -n 1 /var/run/secrets/kubernetes.io/serviceaccount/ca.crt"],
            &kube::api::AttachParams::default().stdin(false).stderr(false),
        )
        .await
        .unwrap();
    let mut out = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut attached.stdout().unwrap(), &mut out).await.unwrap();
    attached.join().await.unwrap();
    assert_eq!(out, "team\n-----BEGIN CERTIFICATE-----\n");

    // automountServiceAccountToken: false mounts nothing.
    let quiet: Pod = serde_json::from_value(json!({"metadata": {"name": "q"},
        "spec": {"automountServiceAccountToken": false, "containers": [{"name": "c", "image": "busybox:1.36"}]}}))
    .unwrap();
    let made = pods.create(&PostParams::default(), &quiet).await.unwrap();
    assert!(made.spec.unwrap().volumes.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_name_taken_by_another_object_bumps_the_collision_count() {
    let s = serve().await;
    let c = s.client().await;
    let sets: Api<StatefulSet> = Api::default_namespaced(c.clone());
    let revs: Api<ControllerRevision> = Api::default_namespaced(c);
    sets.create(&PostParams::default(), &set()).await.unwrap();
    let first = ready(&sets, 2).await.status.unwrap().update_revision.unwrap();
    // The set goes (its revision stays, orphaned), and the revision stops matching any selector:
    // nothing adopts it, but its name is the one the same template hashes to.
    let orphan = DeleteParams { propagation_policy: Some(PropagationPolicy::Orphan), ..Default::default() };
    sets.delete("web", &orphan).await.unwrap();
    eventually(10, "the set gone", || {
        let sets = sets.clone();
        async move { sets.get_opt("web").await.unwrap().is_none().then_some(()) }
    })
    .await;
    let relabel = json!({"metadata": {"labels": {"app": "archived"}}});
    revs.patch(&first, &PatchParams::default(), &Patch::Merge(relabel)).await.unwrap();
    sets.create(&PostParams::default(), &set()).await.unwrap();
    let status = eventually(10, "a revision under another name", || {
        let (sets, first) = (sets.clone(), first.clone());
        async move {
            let st = sets.get("web").await.unwrap().status?;
            // The taken name is not reused.
            (st.collision_count == Some(1) && st.update_revision.as_ref().is_some_and(|u| *u != first)).then_some(st)
        }
    })
    .await;
    let update = status.update_revision.unwrap();
    assert!(revs.get_opt(&update).await.unwrap().is_some());
    assert_eq!(revs.get(&first).await.unwrap().metadata.owner_references, None, "the other object is left alone");
}
