//! Running a parsed [`Command`] through kube-rs, answering with the text kubectl would print:
//! server-side Tables for `get`, kubectl's confirmation lines for writes, the StatefulSet
//! status viewer's wording for `rollout status`, probe pods for `nslookup` and `wget`.

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::{json, Value};

use super::print::{columns, fetch_table, header, table_rows, visible_columns, Labels};
use super::{describe, quote, Command, CommandError, Kind, Output, PatchType, Targets};
use crate::cluster::apply::{self, ApplyOptions};
use crate::cluster::probe::{self, PROBE_IMAGE};
use crate::cluster::Cluster;

/// How long `nslookup` and `wget` wait for their probe pod.
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// The image `nslookup` runs in: the exercise's own. Its busybox (1.28) applies the search
/// path to `web-0.nginx`; busybox 1.29 and newer (PROBE_IMAGE) send a name with a dot as it
/// is and answer NXDOMAIN, on real clusters as in the sandbox.
pub const NSLOOKUP_IMAGE: &str = "alpine:3.8";

/// What a command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    pub text: String,
}

fn out(text: impl Into<String>) -> Result<CommandOutput, CommandError> {
    Ok(CommandOutput { text: text.into() })
}

/// Run `cmd` in the cluster's namespace; `editor_text` is what `apply` applies.
pub async fn execute(
    cluster: &Cluster,
    cmd: &Command,
    editor_text: Option<&str>,
) -> Result<CommandOutput, CommandError> {
    match cmd {
        Command::Get { kind, names, selector, output, show_labels, label_columns } => {
            let labels = Labels { columns: label_columns, all: *show_labels };
            get(cluster, *kind, names, selector.as_deref(), output, labels).await
        }
        Command::Describe { kind, name } => out(describe::describe(cluster, *kind, name).await?),
        Command::Delete { kind, targets, grace_period } => delete(cluster, *kind, targets, *grace_period).await,
        Command::Scale { name, replicas } => {
            let api: Api<StatefulSet> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
            let pp = PatchParams { field_manager: Some("kubectl-scale".into()), ..Default::default() };
            api.patch_scale(name, &pp, &Patch::Merge(json!({"spec": {"replicas": replicas}}))).await?;
            out(format!("statefulset.apps/{name} scaled\n"))
        }
        Command::Patch { kind, name, patch, patch_type } => {
            patch_object(cluster, *kind, name, patch, *patch_type).await
        }
        Command::Logs { pod, container } => logs(cluster, pod, container.as_deref()).await,
        Command::RolloutStatus { name } => {
            let api: Api<StatefulSet> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
            rollout_status(&api.get(name).await?).map(|text| CommandOutput { text })
        }
        Command::Apply { dry_run, force, .. } => {
            let Some(text) = editor_text.filter(|t| !t.trim().is_empty()) else {
                return Err(CommandError::Usage("nothing to apply: the editor is empty".into()));
            };
            let applied = apply::apply_manifests(cluster, text, ApplyOptions { dry_run: *dry_run, force: *force })
                .await
                .map_err(|e| CommandError::Apply(Box::new(e)))?;
            let suffix = if *dry_run { " (server dry run)" } else { "" };
            out(applied.iter().map(|a| format!("{a}{suffix}\n")).collect::<String>())
        }
        Command::Nslookup { name } => run_probe(cluster, NSLOOKUP_IMAGE, &format!("nslookup {}", quote(name))).await,
        Command::Wget { url } => run_probe(cluster, PROBE_IMAGE, &format!("wget -q -O - {}", quote(url))).await,
    }
}

async fn run_probe(cluster: &Cluster, image: &str, script: &str) -> Result<CommandOutput, CommandError> {
    let result = probe::run(cluster, image, script, PROBE_TIMEOUT).await.map_err(CommandError::Probe)?;
    let mut text = result.log;
    if let Some(code) = result.exit_code.filter(|c| *c != 0) {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("(exit code {code})\n"));
    }
    out(text)
}

fn dynamic(cluster: &Cluster, kind: Kind) -> Api<DynamicObject> {
    Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &kind.api_resource())
}

fn list_params(selector: Option<&str>) -> ListParams {
    match selector {
        Some(s) => ListParams::default().labels(s),
        None => ListParams::default(),
    }
}

fn no_resources(cluster: &Cluster) -> String {
    format!("No resources found in {} namespace.\n", cluster.namespace)
}

/// Join what was found and kubectl's error lines for what was not; all missing is an error.
fn found_and_missing(text: String, errors: Vec<CommandError>) -> Result<CommandOutput, CommandError> {
    match (text.is_empty(), errors.len()) {
        (true, 1) => Err(errors.into_iter().next().expect("one error")),
        _ => {
            let mut text = text;
            for e in errors {
                text.push_str(&format!("{e}\n"));
            }
            out(text)
        }
    }
}

async fn get(
    cluster: &Cluster,
    kind: Kind,
    names: &[String],
    selector: Option<&str>,
    output: &Output,
    labels: Labels<'_>,
) -> Result<CommandOutput, CommandError> {
    let lp = list_params(selector);
    match output {
        Output::Table | Output::Wide => {
            let mut tables = Vec::new();
            let mut errors = Vec::new();
            if names.is_empty() {
                tables.push(fetch_table(cluster, kind, None, &lp, false).await?);
            }
            for n in names {
                match fetch_table(cluster, kind, Some(n), &lp, false).await {
                    Ok(t) => tables.push(t),
                    Err(e) => errors.push(e.into()),
                }
            }
            let Some(first) = tables.first() else { return found_and_missing(String::new(), errors) };
            let cols = visible_columns(first, *output == Output::Wide);
            let rows: Vec<Vec<String>> = tables.iter().flat_map(|t| table_rows(t, &cols, labels)).collect();
            if rows.is_empty() {
                return out(no_resources(cluster));
            }
            let mut all = vec![header(&cols, labels)];
            all.extend(rows);
            found_and_missing(columns(&all), errors)
        }
        Output::Name | Output::Yaml | Output::Json | Output::JsonPath(_) => {
            let api = dynamic(cluster, kind);
            let mut objects = Vec::new();
            let mut errors = Vec::new();
            if names.is_empty() {
                objects = api.list(&lp).await?.items;
            }
            for n in names {
                match api.get(n).await {
                    Ok(o) => objects.push(o),
                    Err(e) => errors.push(e.into()),
                }
            }
            if objects.is_empty() && errors.is_empty() {
                return out(no_resources(cluster));
            }
            let text = match output {
                Output::Name => objects.iter().map(|o| format!("{}/{}\n", kind.qualified(), o.name_any())).collect(),
                Output::JsonPath(template) => {
                    let doc = document(kind, objects, names.len() == 1);
                    super::jsonpath::render(template, &doc).map_err(CommandError::Usage)?
                }
                _ => print_objects(document(kind, objects, names.len() == 1), *output == Output::Yaml)?,
            };
            found_and_missing(text, errors)
        }
    }
}

/// What `-o yaml|json|jsonpath` print: one object as itself, several as a `List`, without
/// managedFields (kubectl hides them).
fn document(kind: Kind, objects: Vec<DynamicObject>, single: bool) -> Value {
    let ar = kind.api_resource();
    let mut items: Vec<Value> = objects
        .into_iter()
        .map(|o| {
            let mut v = serde_json::to_value(&o).unwrap_or_default();
            if let Some(map) = v.as_object_mut() {
                map.insert("apiVersion".into(), json!(ar.api_version));
                map.insert("kind".into(), json!(ar.kind));
            }
            if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            v
        })
        .collect();
    if single && items.len() == 1 {
        items.remove(0)
    } else {
        json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
    }
}

fn print_objects(doc: Value, yaml: bool) -> Result<String, CommandError> {
    if yaml {
        return serde_yaml::to_string(&doc).map_err(|e| CommandError::Usage(e.to_string()));
    }
    let mut s = serde_json::to_string_pretty(&doc).map_err(|e| CommandError::Usage(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

async fn delete(
    cluster: &Cluster,
    kind: Kind,
    targets: &Targets,
    grace_period: Option<i64>,
) -> Result<CommandOutput, CommandError> {
    let api = dynamic(cluster, kind);
    let names: Vec<String> = match targets {
        Targets::Names(names) => names.clone(),
        Targets::Selector(s) => {
            api.list(&ListParams::default().labels(s)).await?.items.iter().map(ResourceExt::name_any).collect()
        }
        Targets::All => api.list(&ListParams::default()).await?.items.iter().map(ResourceExt::name_any).collect(),
    };
    if names.is_empty() {
        return out("No resources found\n");
    }
    let dp = DeleteParams { grace_period_seconds: grace_period.map(|g| g.max(0) as u32), ..Default::default() };
    let mut text = String::new();
    if grace_period == Some(0) {
        text.push_str("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n");
    }
    let mut errors = Vec::new();
    for n in &names {
        match api.delete(n, &dp).await {
            Ok(_) => text.push_str(&format!("{} \"{n}\" deleted\n", kind.qualified())),
            Err(e) => errors.push(CommandError::from(e)),
        }
    }
    if errors.len() == names.len() && errors.len() == 1 {
        return Err(errors.remove(0));
    }
    found_and_missing(text, errors)
}

async fn patch_object(
    cluster: &Cluster,
    kind: Kind,
    name: &str,
    patch: &str,
    patch_type: PatchType,
) -> Result<CommandOutput, CommandError> {
    // kubectl reads -p as YAML, of which JSON is a part.
    let value: Value = serde_json::from_str(patch)
        .or_else(|_| serde_yaml::from_str::<Value>(patch))
        .map_err(|e| CommandError::Usage(format!("unable to parse \"{patch}\": {e}")))?;
    let api = dynamic(cluster, kind);
    let before = api.get(name).await?;
    let pp = PatchParams { field_manager: Some("kubectl-patch".into()), ..Default::default() };
    let after = match patch_type {
        PatchType::Strategic => api.patch(name, &pp, &Patch::Strategic(value)).await?,
        PatchType::Merge => api.patch(name, &pp, &Patch::Merge(value)).await?,
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(value)
                .map_err(|e| CommandError::Usage(format!("unable to parse \"{patch}\" as a JSON patch: {e}")))?;
            api.patch(name, &pp, &Patch::<Value>::Json(ops)).await?
        }
    };
    let unchanged = apply::comparable(&before) == apply::comparable(&after);
    out(format!("{}/{name} patched{}\n", kind.qualified(), if unchanged { " (no change)" } else { "" }))
}

async fn logs(cluster: &Cluster, pod: &str, container: Option<&str>) -> Result<CommandOutput, CommandError> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let mut text = String::new();
    let container = match container {
        Some(c) => c.to_string(),
        None => {
            // kubectl's default: the annotated default container, else the first one.
            let p = api.get(pod).await?;
            let spec = p.spec.clone().unwrap_or_default();
            let chosen = p
                .annotations()
                .get("kubectl.kubernetes.io/default-container")
                .cloned()
                .or_else(|| spec.containers.first().map(|c| c.name.clone()))
                .unwrap_or_default();
            let mut all: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
            all.extend(spec.init_containers.iter().flatten().map(|c| format!("{} (init)", c.name)));
            if all.len() > 1 {
                text.push_str(&format!("Defaulted container \"{chosen}\" out of: {}\n", all.join(", ")));
            }
            chosen
        }
    };
    let lp = LogParams { container: Some(container), ..Default::default() };
    text.push_str(&api.logs(pod, &lp).await?);
    out(text)
}

/// One look at the rollout, worded as kubectl's StatefulSetStatusViewer words it.
pub(super) fn rollout_status(sts: &StatefulSet) -> Result<String, CommandError> {
    let spec = sts.spec.clone().unwrap_or_default();
    let status = sts.status.clone().unwrap_or_default();
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if strategy.type_.as_deref().unwrap_or("RollingUpdate") != "RollingUpdate" {
        return Err(CommandError::Usage("rollout status is only available for RollingUpdate strategy type".into()));
    }
    let observed = status.observed_generation.unwrap_or(0);
    if observed == 0 || sts.metadata.generation.unwrap_or(0) > observed {
        return Ok("Waiting for statefulset spec update to be observed...\n".into());
    }
    let replicas = spec.replicas;
    let ready = status.ready_replicas.unwrap_or(0);
    if let Some(r) = replicas.filter(|r| ready < *r) {
        return Ok(format!("Waiting for {} pods to be ready...\n", r - ready));
    }
    let updated = status.updated_replicas.unwrap_or(0);
    if let Some(rolling) = strategy.rolling_update {
        if let (Some(r), Some(p)) = (replicas, rolling.partition) {
            if updated < r - p {
                return Ok(format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...\n",
                    r - p
                ));
            }
        }
        return Ok(format!("partitioned roll out complete: {updated} new pods have been updated...\n"));
    }
    let update_revision = status.update_revision.unwrap_or_default();
    if Some(&update_revision) != status.current_revision.as_ref() {
        return Ok(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}...\n"
        ));
    }
    Ok(format!(
        "statefulset rolling update complete {} pods at revision {update_revision}...\n",
        status.current_replicas.unwrap_or(0)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(spec: Value, status: Value, generation: i64) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "generation": generation},
            "spec": spec, "status": status
        }))
        .unwrap()
    }

    #[test]
    fn rollout_status_words_each_stage_like_kubectl() {
        let partitioned = |partition: i32| {
            json!({"replicas": 3, "selector": {}, "template": {}, "serviceName": "nginx",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}}})
        };
        let s = sts(partitioned(0), json!({"replicas": 0, "observedGeneration": 1}), 2);
        assert_eq!(rollout_status(&s).unwrap(), "Waiting for statefulset spec update to be observed...\n");
        let s = sts(partitioned(0), json!({"replicas": 3, "readyReplicas": 1, "observedGeneration": 2}), 2);
        assert_eq!(rollout_status(&s).unwrap(), "Waiting for 2 pods to be ready...\n");
        let s = sts(
            partitioned(2),
            json!({"replicas": 3, "readyReplicas": 3, "updatedReplicas": 0, "observedGeneration": 2}),
            2,
        );
        assert_eq!(
            rollout_status(&s).unwrap(),
            "Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...\n"
        );
        let s = sts(
            partitioned(2),
            json!({"replicas": 3, "readyReplicas": 3, "updatedReplicas": 1, "observedGeneration": 2}),
            2,
        );
        assert_eq!(rollout_status(&s).unwrap(), "partitioned roll out complete: 1 new pods have been updated...\n");

        let plain = json!({"replicas": 3, "selector": {}, "template": {}, "serviceName": "nginx", "updateStrategy": {"type": "RollingUpdate"}});
        let s = sts(
            plain.clone(),
            json!({"replicas": 3, "readyReplicas": 3, "updatedReplicas": 1, "currentReplicas": 2,
            "currentRevision": "web-a", "updateRevision": "web-b", "observedGeneration": 1}),
            1,
        );
        assert_eq!(
            rollout_status(&s).unwrap(),
            "waiting for statefulset rolling update to complete 1 pods at revision web-b...\n"
        );
        let s = sts(
            plain,
            json!({"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "currentReplicas": 3,
            "currentRevision": "web-b", "updateRevision": "web-b", "observedGeneration": 1}),
            1,
        );
        assert_eq!(rollout_status(&s).unwrap(), "statefulset rolling update complete 3 pods at revision web-b...\n");

        let on_delete = json!({"replicas": 1, "selector": {}, "template": {}, "serviceName": "nginx", "updateStrategy": {"type": "OnDelete"}});
        let err = rollout_status(&sts(on_delete, json!({"replicas": 1}), 1)).unwrap_err();
        assert_eq!(err.to_string(), "error: rollout status is only available for RollingUpdate strategy type");
    }

    #[test]
    fn api_errors_read_like_kubectls() {
        let status = kube::core::Status::failure("pods \"web-9\" not found", "NotFound").with_code(404);
        let e = CommandError::from(kube::Error::Api(status.boxed()));
        assert_eq!(e.to_string(), "Error from server (NotFound): pods \"web-9\" not found");
    }
}
