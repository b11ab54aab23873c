//! The tutor's command line (`cluster::kubectl`) against the sandbox: each exercise command,
//! parsed from kubectl syntax and run through kube-rs, answers as kubectl would.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kubetutor::cluster::kubectl::{execute, parse, CommandError};
use kubetutor::cluster::Cluster;

use super::apply::{cluster_of, ready_pods, EXERCISE};
use super::support::{eventually, serve};

async fn run(cluster: &Cluster, line: &str) -> String {
    let cmd = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    execute(cluster, &cmd, Some(&EXERCISE.replace("replicas: 2", "replicas: 3")))
        .await
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .text
}

async fn fails(cluster: &Cluster, line: &str) -> CommandError {
    let cmd = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    match execute(cluster, &cmd, None).await {
        Ok(out) => panic!("{line} should have failed, printed:\n{}", out.text),
        Err(e) => e,
    }
}

/// The cells of each line (kubectl separates columns by at least three spaces).
fn lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split("   ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect())
        .collect()
}

/// The pod's first image; empty while the pod does not exist (between deletion and re-creation).
async fn image_of(pods: &Api<Pod>, name: &str) -> String {
    let pod = pods.get_opt(name).await.unwrap();
    pod.and_then(|p| p.spec).and_then(|s| s.containers[0].image.clone()).unwrap_or_default()
}

#[tokio::test]
async fn get_describe_logs_and_probes() {
    let s = serve().await;
    let cluster = cluster_of(&s).await;
    let applied = run(&cluster, "kubectl apply -f web.yaml").await;
    assert_eq!(applied, "service/nginx created\nstatefulset.apps/web created\n");
    ready_pods(&cluster, 3).await;

    let pods = run(&cluster, "get pods").await;
    let table = lines(&pods);
    assert_eq!(table[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], "{pods}");
    assert_eq!(table.len(), 4, "{pods}");
    for (i, row) in table[1..].iter().enumerate() {
        assert_eq!(row[..4], [format!("web-{i}").as_str(), "1/1", "Running", "0"], "{pods}");
    }
    // Columns line up: each header starts where its cells start.
    let header = pods.lines().next().unwrap();
    let first = pods.lines().nth(1).unwrap();
    assert_eq!(header.find("STATUS"), first.find("Running"), "{pods}");

    let wide = run(&cluster, "get po -l app=nginx -o wide").await;
    let header = wide.lines().next().unwrap();
    assert!(header.contains("IP") && header.contains("NODE") && header.contains("NOMINATED NODE"), "{wide}");
    let ip = Api::<Pod>::default_namespaced(cluster.client.clone())
        .get("web-1")
        .await
        .unwrap()
        .status
        .unwrap()
        .pod_ip
        .unwrap();
    assert!(wide.lines().nth(2).unwrap().contains(&ip), "{wide}");

    let sts = lines(&run(&cluster, "get sts").await);
    assert_eq!(sts[0], ["NAME", "READY", "AGE"]);
    assert_eq!(sts[1][..2], ["web", "3/3"]);
    assert_eq!(run(&cluster, "get pods -o name").await, "pod/web-0\npod/web-1\npod/web-2\n");
    assert_eq!(run(&cluster, "get statefulset/web -o name").await, "statefulset.apps/web\n");
    let pvc = lines(&run(&cluster, "get pvc").await);
    assert_eq!(pvc[0][..3], ["NAME", "STATUS", "VOLUME"]);
    assert_eq!(pvc[1][..2], ["www-web-0", "Bound"]);
    let labels = run(&cluster, "get pods web-0 --show-labels").await;
    assert!(labels.lines().next().unwrap().ends_with("LABELS"), "{labels}");
    assert!(labels.contains("app=nginx") && labels.contains("statefulset.kubernetes.io/pod-name=web-0"), "{labels}");
    let yaml = run(&cluster, "get sts web -o yaml").await;
    assert!(yaml.starts_with("apiVersion: apps/v1\n") && yaml.contains("\nkind: StatefulSet\n"), "{yaml}");
    assert!(!yaml.contains("managedFields"), "{yaml}");
    let json: serde_json::Value = serde_json::from_str(&run(&cluster, "get svc -o json").await).unwrap();
    assert_eq!(json["kind"], "List");
    let nginx = json["items"].as_array().unwrap().iter().find(|i| i["metadata"]["name"] == "nginx").unwrap();
    assert_eq!(nginx["spec"]["clusterIP"], "None");
    assert_eq!(nginx["kind"], "Service");
    let events = run(&cluster, "get events").await;
    assert!(events.lines().next().unwrap().starts_with("LAST SEEN"), "{events}");
    assert!(
        events.contains("statefulset/web") && events.contains("create Pod web-0 in StatefulSet web successful"),
        "{events}"
    );
    let revisions = lines(&run(&cluster, "get controllerrevisions").await);
    assert_eq!(revisions[0], ["NAME", "CONTROLLER", "REVISION", "AGE"]);
    assert!(revisions[1][0].starts_with("web-") && revisions[1][1] == "statefulset.apps/web", "{revisions:?}");

    let missing = fails(&cluster, "get pod web-9").await;
    assert_eq!(missing.to_string(), "Error from server (NotFound): pods \"web-9\" not found");
    let some = run(&cluster, "get pods web-0 web-9").await;
    assert!(
        some.contains("web-0") && some.ends_with("Error from server (NotFound): pods \"web-9\" not found\n"),
        "{some}"
    );
    assert_eq!(run(&cluster, "get pods -l app=none").await, "No resources found in default namespace.\n");

    let pod = run(&cluster, "describe pod web-0").await;
    for want in [
        "Name:             web-0\n",
        "Namespace:        default\n",
        "Status:           Running\n",
        &format!("IP:               {}\n", run_ip(&cluster, "web-0").await),
        "Controlled By:    StatefulSet/web\n",
        "Init Containers:\n  init:\n",
        "    Image:          alpine:3.8\n",
        "      Reason:       Completed\n",
        "Containers:\n  nginx:\n",
        "    State:          Running\n",
        "      /usr/share/nginx/html from www (rw)\n",
        "    ClaimName:      www-web-0\n",
        "Conditions:\n",
        "Events:\n",
    ] {
        assert!(pod.contains(want), "missing {want:?} in\n{pod}");
    }
    assert!(pod.lines().any(|l| l.trim_start().starts_with("Ready") && l.trim_end().ends_with("True")), "{pod}");

    let set = run(&cluster, "describe sts web").await;
    for want in [
        "Name:               web\n",
        "Selector:           app=nginx\n",
        "Replicas:           3 desired | 3 total\n",
        "Pods Status:        3 Running / 0 Waiting / 0 Succeeded / 0 Failed\n",
        "Service Name:       nginx\n",
        "Update Strategy:    RollingUpdate\n",
        "  Partition:        0\n",
        "Volume Claims:\n  Name:             www\n",
        "SuccessfulCreate",
        "create Claim www-web-0 Pod web-0 in StatefulSet web success",
    ] {
        assert!(set.contains(want), "missing {want:?} in\n{set}");
    }
    let revision =
        serde_json::to_value(Api::<StatefulSet>::default_namespaced(cluster.client.clone()).get("web").await.unwrap())
            .unwrap()["status"]["currentRevision"]
            .as_str()
            .unwrap()
            .to_string();
    assert!(set.contains(&format!("Current Revision:   {revision} (3 pods)\n")), "{set}");
    let svc = run(&cluster, "describe svc nginx").await;
    assert!(svc.contains("IP:               None\n") && svc.contains("Selector:         app=nginx\n"), "{svc}");
    assert!(fails(&cluster, "describe pod web-9").await.to_string().contains("NotFound"));

    let log = run(&cluster, "logs web-0").await;
    assert!(log.starts_with("Defaulted container \"nginx\" out of: nginx, init (init)\n"), "{log}");
    let init_log = run(&cluster, "logs web-0 -c init").await;
    assert!(!init_log.contains("Defaulted"), "{init_log}");

    let lookup = run(&cluster, "nslookup web-0.nginx").await;
    let ip0 = run_ip(&cluster, "web-0").await;
    assert!(lookup.contains("web-0.nginx") && lookup.contains(&ip0), "{lookup}");
    let page = run(&cluster, "wget -q -O - web-0.nginx").await;
    assert_eq!(page, "web-0\n");
    let page = run(&cluster, "wget -qO- http://web-2.nginx.default.svc.cluster.local").await;
    assert_eq!(page, "web-2\n");
    let nx = run(&cluster, "nslookup web-9.nginx").await;
    assert!(nx.contains("web-9.nginx") && nx.contains("(exit code 1)"), "{nx}");
    // Probe pods are gone afterwards.
    let left = Api::<Pod>::default_namespaced(cluster.client.clone())
        .list(&ListParams::default().labels("kubetutor.dev/role=probe"))
        .await
        .unwrap();
    assert!(left.items.iter().all(|p| p.metadata.deletion_timestamp.is_some()), "{:?}", left.items.len());
}

async fn run_ip(cluster: &Cluster, pod: &str) -> String {
    Api::<Pod>::default_namespaced(cluster.client.clone()).get(pod).await.unwrap().status.unwrap().pod_ip.unwrap()
}

#[tokio::test]
async fn delete_scale_patch_and_rollout() {
    let s = serve().await;
    let cluster = cluster_of(&s).await;
    run(&cluster, "apply").await;
    ready_pods(&cluster, 3).await;
    let pods: Api<Pod> = Api::default_namespaced(cluster.client.clone());
    let uid0 = pods.get("web-0").await.unwrap().metadata.uid;

    let deleted = run(&cluster, "delete pod -l app=nginx").await;
    assert_eq!(deleted, "pod \"web-0\" deleted\npod \"web-1\" deleted\npod \"web-2\" deleted\n");
    eventually(30, "web-0 re-created", || async {
        let p = pods.get_opt("web-0").await.unwrap()?;
        (p.metadata.uid != uid0).then_some(())
    })
    .await;
    ready_pods(&cluster, 3).await;
    assert_eq!(run(&cluster, "delete pod web-2").await, "pod \"web-2\" deleted\n");
    let err = fails(&cluster, "delete pod web-7").await;
    assert_eq!(err.to_string(), "Error from server (NotFound): pods \"web-7\" not found");
    assert_eq!(run(&cluster, "delete pods -l app=nothing").await, "No resources found\n");
    ready_pods(&cluster, 3).await;

    assert_eq!(run(&cluster, "scale sts web --replicas=5").await, "statefulset.apps/web scaled\n");
    ready_pods(&cluster, 5).await;
    assert_eq!(run(&cluster, "kubectl scale statefulset/web --replicas=3").await, "statefulset.apps/web scaled\n");
    ready_pods(&cluster, 3).await;

    let partition = r#"kubectl patch statefulset web -p '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}'"#;
    assert_eq!(run(&cluster, partition).await, "statefulset.apps/web patched\n");
    let sts: Api<StatefulSet> = Api::default_namespaced(cluster.client.clone());
    let spec = sts.get("web").await.unwrap().spec.unwrap();
    assert_eq!(spec.update_strategy.unwrap().rolling_update.unwrap().partition, Some(2));
    assert_eq!(run(&cluster, partition).await, "statefulset.apps/web patched (no change)\n");

    let image = r#"kubectl patch statefulset web --type='json' -p='[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"nginx:1.13.12"}]'"#;
    assert_eq!(run(&cluster, image).await, "statefulset.apps/web patched\n");
    eventually(30, "web-2 at the new image", || async {
        // web-2 is deleted and comes back: between the two it does not exist.
        let pod = pods.get_opt("web-2").await.unwrap()?;
        let image = pod.spec.as_ref()?.containers[0].image.clone().unwrap_or_default();
        (image == "nginx:1.13.12" && kubetutor::cluster::snapshot::is_ready(&pod)).then_some(())
    })
    .await;
    let status = eventually(30, "the partitioned rollout to finish", || async {
        let out = run(&cluster, "rollout status sts/web").await;
        out.starts_with("partitioned roll out complete").then_some(out)
    })
    .await;
    assert_eq!(status, "partitioned roll out complete: 1 new pods have been updated...\n");
    assert_eq!(image_of(&pods, "web-0").await, "nginx:1.30", "below the partition: unchanged");
    let images = run(&cluster, r#"get pods -l app=nginx -o jsonpath='{range .items[*]}{.metadata.name} {.spec.containers[0].image}{"\n"}{end}'"#).await;
    assert_eq!(images, "web-0 nginx:1.30\nweb-1 nginx:1.30\nweb-2 nginx:1.13.12\n");
    assert_eq!(run(&cluster, "get pod web-2 -o jsonpath='{.spec.containers[0].image}'").await, "nginx:1.13.12");
    assert_eq!(image_of(&pods, "web-1").await, "nginx:1.30");

    // A merge patch drops the partition: the rest follows, and rollout status says so.
    run(&cluster, r#"patch sts web --type merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}'"#)
        .await;
    eventually(30, "every pod at the new image", || async {
        for n in ["web-0", "web-1"] {
            if image_of(&pods, n).await != "nginx:1.13.12" {
                return None;
            }
        }
        Some(())
    })
    .await;
    let status = eventually(30, "the rollout to finish", || async {
        let out = run(&cluster, "rollout status statefulset web").await;
        (out == "partitioned roll out complete: 3 new pods have been updated...\n").then_some(out)
    })
    .await;
    assert!(status.contains("3 new pods"));

    let bad = fails(&cluster, r#"patch sts web -p '{"spec":{"replicas":"many"}}'"#).await;
    assert!(bad.to_string().starts_with("Error from server"), "{bad}");
    let unparsable = fails(&cluster, "patch sts web -p '{not json'").await;
    assert!(unparsable.to_string().starts_with("error: unable to parse"), "{unparsable}");
    let nothing = fails(&cluster, "apply").await;
    assert_eq!(nothing.to_string(), "error: nothing to apply: the editor is empty");

    assert_eq!(run(&cluster, "delete sts web").await, "statefulset.apps \"web\" deleted\n");
    assert_eq!(run(&cluster, "delete svc nginx").await, "service \"nginx\" deleted\n");
    assert_eq!(run(&cluster, "delete pvc www-web-0").await, "persistentvolumeclaim \"www-web-0\" deleted\n");
}

#[tokio::test]
async fn apply_errors_and_dry_runs_through_the_command_line() {
    let s = serve().await;
    let cluster = cluster_of(&s).await;
    let cmd = parse("apply --dry-run=server").unwrap();
    let out = execute(&cluster, &cmd, Some(EXERCISE)).await.unwrap().text;
    assert_eq!(out, "service/nginx created (server dry run)\nstatefulset.apps/web created (server dry run)\n");
    assert!(Api::<StatefulSet>::default_namespaced(cluster.client.clone()).get_opt("web").await.unwrap().is_none());

    let typo = EXERCISE.replace("serviceName", "servicename");
    let err = execute(&cluster, &parse("apply").unwrap(), Some(&typo)).await.unwrap_err();
    match &err {
        CommandError::Apply(e) => assert!(e.causes.iter().any(|c| c.field == "spec.servicename"), "{e}"),
        other => panic!("{other}"),
    }
}

/// Every command the lesson names: the lines of its `sh` blocks and the inline code that starts
/// with `kubectl ` or `:`, in reading order (steps, then the recap).
fn lesson_commands(lesson: &kubetutor::lesson::Lesson) -> Vec<String> {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    // In the names of the reference solution, which the cluster below has.
    let texts = lesson.steps.iter().map(|s| s.text.as_str()).chain(std::iter::once(lesson.recap.as_str()));
    for text in texts.map(|t| lesson.names.fill(t)) {
        let mut in_sh = false;
        for event in Parser::new(&text) {
            match event {
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) => in_sh = &*lang == "sh",
                Event::End(TagEnd::CodeBlock) => in_sh = false,
                Event::Text(t) if in_sh => out.extend(t.lines().map(str::to_string)),
                Event::Code(c) if c.starts_with("kubectl ") || c.starts_with(':') => {
                    out.extend(c.trim_start_matches(':').split("; ").map(str::to_string));
                }
                _ => {}
            }
        }
    }
    out
}

/// The lesson's own commands, run through the tutor's command line in reading order on a
/// cluster where the lesson's objects exist: each works, or (only for an interactive shell or
/// a watch, which the command line cannot be) says what to use instead.
#[tokio::test]
async fn every_command_the_lesson_names_works_in_the_command_line() {
    let lesson = kubetutor::lesson::load::find("statefulset").unwrap();
    let commands = lesson_commands(&lesson);
    assert!(commands.iter().any(|c| c == "kubectl get pods -L controller-revision-hash"), "{commands:?}");
    assert!(commands.len() > 15, "{commands:?}");
    let s = serve().await;
    let cluster = cluster_of(&s).await;
    run(&cluster, "apply -f web.yaml").await;
    ready_pods(&cluster, 3).await;
    // -L adds a column per label key, filled from each pod's labels.
    let labels = run(&cluster, "get pods -L controller-revision-hash").await;
    let rows = lines(&labels);
    assert_eq!(rows[0].last().unwrap(), "CONTROLLER-REVISION-HASH", "{labels}");
    assert!(rows[1][0] == "web-0" && rows[1].last().unwrap().starts_with("web-"), "{labels}");
    let mut ran = 0;
    for line in &commands {
        if line == "exit" {
            continue; // leaves the shell of `kubectl run -it`
        }
        let cmd = match parse(line) {
            Ok(cmd) => cmd,
            Err(e) if line.contains(" run ") && line.contains("-it") => {
                assert!(e.message.contains(":nslookup"), "{line}: {e}");
                continue;
            }
            Err(e) if line.contains(" -w") => {
                assert!(e.message.contains("pods pane"), "{line}: {e}");
                continue;
            }
            Err(e) => panic!("the lesson names `{line}`, the command line refuses it: {e}"),
        };
        let manifests = EXERCISE.replace("replicas: 2", "replicas: 3");
        // A pod the update is replacing is briefly gone: ask again, as a reader would.
        let mut tries = 0;
        loop {
            let result =
                tokio::time::timeout(std::time::Duration::from_secs(30), execute(&cluster, &cmd, Some(&manifests)))
                    .await;
            match result {
                Ok(Ok(_)) => break,
                Ok(Err(e)) if e.to_string().contains("NotFound") && tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Ok(Err(e)) => panic!("`{line}` failed: {e}"),
                Err(_) => panic!("`{line}` did not finish in 30 s"),
            }
        }
        ran += 1;
        // The text's way out of a field that cannot change: delete, then apply again.
        if ["delete statefulset ", "delete service "].iter().any(|c| line.contains(c)) {
            let cmd = parse("apply -f web.yaml").unwrap();
            execute(&cluster, &cmd, Some(&manifests)).await.unwrap();
        }
        if ["delete pod ", "scale ", "patch ", "delete statefulset ", "delete service "]
            .iter()
            .any(|c| line.contains(c))
        {
            ready_pods(&cluster, 3).await;
        }
    }
    assert!(ran > 12, "ran {ran} of {commands:?}");
}
