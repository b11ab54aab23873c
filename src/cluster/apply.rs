//! Applying the learner's manifests and resetting the lesson: multi-document YAML is parsed
//! here (positions of syntax errors relative to the whole text), each object gets the
//! MANAGED_BY label and is server-side applied (field manager `kubetutor`, strict field
//! validation) in the cluster's namespace. The editor's apply key and the `:apply` command
//! call [`apply_manifests`]; the reset key calls [`reset_lesson_objects`].

// ApplyError is the shared interface's error type, returned once per apply: its size is fine.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Service};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy};
use kube::core::{GroupVersionKind, Status};
use kube::discovery::{ApiResource, Scope};
use kube::runtime::wait::{await_condition, conditions};
use kube::ResourceExt;
use serde_json::Value;

use super::probe::MANAGED_BY;
use super::Cluster;

/// The field manager the tutor's writes are recorded under.
pub const FIELD_MANAGER: &str = "kubetutor";
/// How long [`reset_lesson_objects`] waits for deleted objects to disappear.
pub const RESET_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Ask the server to validate and default, without storing anything.
    pub dry_run: bool,
    /// Take over fields another manager owns (answer to a conflict).
    pub force: bool,
}

/// One object applied, as kubectl reports it (`statefulset.apps/web configured`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub kind: String,
    pub name: String,
    /// `created`, `configured` or `unchanged`.
    pub action: &'static str,
    /// The API group (`apps`), empty for the core group.
    pub group: String,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.to_lowercase();
        match self.group.as_str() {
            "" => write!(f, "{kind}/{} {}", self.name, self.action),
            g => write!(f, "{kind}.{g}/{} {}", self.name, self.action),
        }
    }
}

/// One field the server (or the parser) found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldCause {
    /// A path like `spec.template.spec.containers[0].ports[0].name`; empty when none is known.
    pub field: String,
    pub message: String,
}

/// Why a document could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    /// 0-based index among the text's non-empty documents.
    pub document: usize,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub message: String,
    pub causes: Vec<FieldCause>,
    /// 1-based (line, column) in the whole text, for YAML syntax errors.
    pub position: Option<(usize, usize)>,
    /// A server-side apply conflict (409): applying again with `force` takes the fields over.
    pub conflict: bool,
}

impl ApplyError {
    fn new(document: usize, message: impl Into<String>) -> ApplyError {
        ApplyError {
            document,
            kind: None,
            name: None,
            message: message.into(),
            causes: Vec::new(),
            position: None,
            conflict: false,
        }
    }

    fn about(mut self, doc: &Document) -> ApplyError {
        self.kind = Some(doc.kind.clone());
        self.name = Some(doc.name.clone());
        self
    }
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.document + 1)?;
        match (&self.kind, &self.name) {
            (Some(k), Some(n)) => write!(f, " ({k} {n})")?,
            (Some(k), None) => write!(f, " ({k})")?,
            _ => {}
        }
        if let Some((line, column)) = self.position {
            write!(f, ", line {line} column {column}")?;
        }
        write!(f, ": {}", self.message)?;
        // Upstream's Invalid messages already list their causes; show only the others.
        for c in &self.causes {
            let line = match c.field.as_str() {
                "" => c.message.clone(),
                field => format!("{field}: {}", c.message),
            };
            if !self.message.contains(&line) {
                write!(f, "\n  {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {}

/// One parsed document, ready to send.
#[derive(Debug)]
struct Document {
    index: usize,
    api_version: String,
    kind: String,
    name: String,
    object: Value,
}

/// Apply every document of `yaml` in the cluster's namespace. Nothing is stored unless every
/// document passes: the objects are first sent as a dry run, then for real.
pub async fn apply_manifests(cluster: &Cluster, yaml: &str, opts: ApplyOptions) -> Result<Vec<Applied>, ApplyError> {
    let docs = parse_documents(yaml, &cluster.namespace)?;
    if docs.is_empty() {
        return Err(ApplyError::new(0, "no objects to apply: the text has no YAML documents"));
    }
    let mut resources: HashMap<(String, String), ApiResource> = HashMap::new();
    for doc in &docs {
        let key = (doc.api_version.clone(), doc.kind.clone());
        if let std::collections::hash_map::Entry::Vacant(slot) = resources.entry(key) {
            slot.insert(resolve(cluster, doc).await?);
        }
    }
    let api_for = |doc: &Document| {
        let ar = &resources[&(doc.api_version.clone(), doc.kind.clone())];
        (Api::<DynamicObject>::namespaced_with(cluster.client.clone(), &cluster.namespace, ar), ar.group.clone())
    };
    if !opts.dry_run {
        for doc in &docs {
            let (api, _) = api_for(doc);
            apply_one(&api, doc, ApplyOptions { dry_run: true, ..opts }).await?;
        }
    }
    let mut applied = Vec::with_capacity(docs.len());
    for doc in &docs {
        let (api, group) = api_for(doc);
        let action = apply_one(&api, doc, opts).await?;
        applied.push(Applied { kind: doc.kind.clone(), name: doc.name.clone(), action, group });
    }
    Ok(applied)
}

async fn resolve(cluster: &Cluster, doc: &Document) -> Result<ApiResource, ApplyError> {
    let (group, version) = match doc.api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", doc.api_version.as_str()),
    };
    let gvk = GroupVersionKind::gvk(group, version, &doc.kind);
    match kube::discovery::pinned_kind(&cluster.client, &gvk).await {
        Ok((_, caps)) if caps.scope == Scope::Cluster => Err(ApplyError::new(
            doc.index,
            format!(
                "{} is not a namespaced kind; the tutor only creates objects in namespace {}",
                doc.kind, cluster.namespace
            ),
        )
        .about(doc)),
        Ok((ar, _)) => Ok(ar),
        Err(kube::Error::Discovery(_)) => Err(no_match(doc)),
        Err(kube::Error::Api(s)) if s.code == 404 => Err(no_match(doc)),
        Err(e) => {
            Err(ApplyError::new(doc.index, format!("cannot ask the cluster which kinds it serves: {e}")).about(doc))
        }
    }
}

fn no_match(doc: &Document) -> ApplyError {
    let mut e = ApplyError::new(
        doc.index,
        format!("resource mapping not found: no matches for kind \"{}\" in version \"{}\"", doc.kind, doc.api_version),
    )
    .about(doc);
    e.causes = vec![FieldCause { field: "kind".into(), message: format!("check apiVersion and kind: {}", doc.kind) }];
    e
}

async fn apply_one(api: &Api<DynamicObject>, doc: &Document, opts: ApplyOptions) -> Result<&'static str, ApplyError> {
    let before = api.get_opt(&doc.name).await.map_err(|e| api_error(doc, e))?;
    let mut pp = PatchParams::apply(FIELD_MANAGER).validation_strict();
    if opts.dry_run {
        pp = pp.dry_run();
    }
    if opts.force {
        pp = pp.force();
    }
    let after = match api.patch(&doc.name, &pp, &Patch::Apply(&doc.object)).await {
        Ok(after) => after,
        Err(e) => {
            let mut err = api_error(doc, e);
            if let Some(live) = before.as_ref().filter(|_| doc.kind == "StatefulSet") {
                let live = serde_json::to_value(live).unwrap_or_default();
                if let Some((why, causes)) = immutable_explanation(&live, &doc.object, &doc.name) {
                    err.message = format!("{}. {why}", err.message.trim_end_matches('.'));
                    err.causes.retain(|c| !c.message.contains("updates to statefulset spec"));
                    err.causes.extend(causes);
                }
            }
            return Err(err);
        }
    };
    let Some(before) = before else { return Ok("created") };
    // Content, not resourceVersion: controllers write status between the two reads, and a
    // dry run does not move the resourceVersion at all.
    Ok(if comparable(&before) != comparable(&after) { "configured" } else { "unchanged" })
}

/// The StatefulSet fields that cannot change once it exists, each with the way out that keeps
/// the StatefulSet (changing the other side instead).
const IMMUTABLE_STS: &[(&str, &str)] = &[
    ("selector", "change the Service's selector to the labels the pods have now (a Service's selector can change)"),
    ("serviceName", "create the headless Service under the name the StatefulSet already has"),
    ("volumeClaimTemplates", "keep the claim templates as they are and name them in the volumeMounts"),
    ("podManagementPolicy", "keep the policy it has"),
];

/// When applying `applied` over the `live` StatefulSet changes fields that cannot change:
/// which, what they are now, and both ways out (change the other side, or delete the
/// StatefulSet and apply again), with a cause per field for the editor to mark.
pub fn immutable_explanation(live: &Value, applied: &Value, name: &str) -> Option<(String, Vec<FieldCause>)> {
    let mut causes = Vec::new();
    let mut outs = Vec::new();
    for (field, other_way) in IMMUTABLE_STS {
        let Some(want) = applied["spec"].get(*field) else { continue };
        let have = &live["spec"][*field];
        if !immutable_field_same(field, have, want) {
            let shown = |v: &Value| match v {
                Value::String(s) => format!("{s:?}"),
                Value::Null => "not set".to_string(),
                other => other.to_string(),
            };
            causes.push(FieldCause {
                field: format!("spec.{field}"),
                message: format!("cannot change on an existing StatefulSet; it is {} there", shown(have)),
            });
            outs.push(*other_way);
        }
    }
    if causes.is_empty() {
        return None;
    }
    let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
    let why = format!(
        "StatefulSet {name} already exists, and {} cannot change. Either {}, or delete the StatefulSet (:delete statefulset {name}; its PersistentVolumeClaims stay, and so does their data) and apply again",
        fields.join(", "),
        outs.join("; or ")
    );
    Some((why, causes))
}

/// Whether an applied immutable field matches the live one. The live claim templates carry
/// what the API server filled in (volumeMode, status), so they compare by what was applied.
fn immutable_field_same(field: &str, have: &Value, want: &Value) -> bool {
    match field {
        "volumeClaimTemplates" => {
            let (Some(have), Some(want)) = (have.as_array(), want.as_array()) else { return have == want };
            have.len() == want.len() && have.iter().zip(want).all(|(h, w)| contained(w, h))
        }
        "podManagementPolicy" => {
            let policy = |v: &Value| v.as_str().unwrap_or("OrderedReady").to_string();
            policy(have) == policy(want)
        }
        _ => have == want,
    }
}

/// Whether every field set in `part` has the same value in `whole`.
fn contained(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p.iter().all(|(k, v)| w.get(k).is_some_and(|wv| contained(v, wv))),
        _ => part == whole,
    }
}

/// The object without status and the fields every write (or dry run) touches.
pub(crate) fn comparable(obj: &DynamicObject) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or_default();
    if let Some(map) = v.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in ["resourceVersion", "managedFields", "generation"] {
            meta.remove(f);
        }
    }
    v
}

/// An API failure as the learner should read it: the server's message, its field causes
/// (with unknown fields of strict validation turned into causes too), conflicts flagged.
fn api_error(doc: &Document, e: kube::Error) -> ApplyError {
    match e {
        kube::Error::Api(status) => from_status(doc, &status),
        other => ApplyError::new(doc.index, format!("cannot reach the cluster: {other}")).about(doc),
    }
}

fn from_status(doc: &Document, status: &Status) -> ApplyError {
    let mut err = ApplyError::new(doc.index, status.message.clone()).about(doc);
    err.conflict = status.code == 409;
    let mut causes: Vec<FieldCause> = Vec::new();
    for c in status.details.iter().flat_map(|d| d.causes.iter()) {
        let cause = if c.field.is_empty() {
            match quoted_field(&c.message) {
                Some(field) => FieldCause { field, message: c.message.clone() },
                None => FieldCause { field: String::new(), message: c.message.clone() },
            }
        } else {
            FieldCause { field: c.field.clone(), message: c.message.clone() }
        };
        if !causes.contains(&cause) {
            causes.push(cause);
        }
    }
    if causes.iter().all(|c| c.field.is_empty()) {
        // Upstream's strict decoding error has no causes: read the fields from the message.
        for part in status.message.split(", ") {
            if let Some(field) = quoted_field(part) {
                let message = part.rsplit(": ").next().unwrap_or(part).to_string();
                causes.retain(|c| !c.field.is_empty() || !message.contains(&c.message));
                causes.push(FieldCause { field, message });
            }
        }
    }
    err.causes = causes;
    err
}

/// `unknown field "spec.replica"` (or `duplicate field`) → `spec.replica`.
fn quoted_field(message: &str) -> Option<String> {
    let rest = ["unknown field \"", "duplicate field \""].iter().find_map(|p| message.split_once(p))?.1;
    let field = rest.split('"').next()?;
    (!field.is_empty()).then(|| field.to_string())
}

/// Split `text` into YAML documents (at `---` lines, as kubectl does), parse each, check
/// the fields apply needs, refuse other namespaces and add the MANAGED_BY label.
fn parse_documents(text: &str, namespace: &str) -> Result<Vec<Document>, ApplyError> {
    let mut docs = Vec::new();
    for (start_line, chunk) in split_documents(text) {
        let index = docs.len();
        // Blank lines in front keep the parser's line numbers those of the whole text.
        let padded = format!("{}{chunk}", "\n".repeat(start_line));
        let yaml: serde_yaml::Value = serde_yaml::from_str(&padded).map_err(|e| {
            let mut err = ApplyError::new(index, format!("YAML syntax error: {e}"));
            err.position = e.location().map(|l| (l.line(), l.column()));
            err
        })?;
        if yaml.is_null() {
            continue;
        }
        let object: Value = serde_json::to_value(&yaml)
            .map_err(|e| ApplyError::new(index, format!("the document is not a Kubernetes object: {e}")))?;
        docs.push(check_document(index, object, namespace)?);
    }
    Ok(docs)
}

/// The documents of `text` with the 0-based line each starts on; separator lines are dropped.
fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (n, line) in text.lines().enumerate() {
        let is_separator = line == "---" || line.starts_with("--- ") || line.trim_end() == "---";
        if is_separator {
            out.push((start, std::mem::take(&mut current)));
            start = n + 1;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    out.push((start, current));
    out
}

fn check_document(index: usize, mut object: Value, namespace: &str) -> Result<Document, ApplyError> {
    let Some(map) = object.as_object() else {
        return Err(ApplyError::new(
            index,
            "the document is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)",
        ));
    };
    let text_of = |field: &str| map.get(field).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let kind = text_of("kind");
    let api_version = text_of("apiVersion");
    let name = map.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).map(str::to_string);
    let mut missing = Vec::new();
    if api_version.is_none() {
        missing.push(FieldCause { field: "apiVersion".into(), message: "Required value".into() });
    }
    if kind.is_none() {
        missing.push(FieldCause { field: "kind".into(), message: "Required value".into() });
    }
    if name.as_deref().is_none_or(str::is_empty) {
        missing.push(FieldCause { field: "metadata.name".into(), message: "Required value".into() });
    }
    if !missing.is_empty() {
        let fields: Vec<&str> = missing.iter().map(|c| c.field.as_str()).collect();
        let mut err = ApplyError::new(index, format!("{} not set", fields.join(", ")));
        err.kind = kind;
        err.name = name;
        err.causes = missing;
        return Err(err);
    }
    let (kind, api_version, name) =
        (kind.unwrap_or_default(), api_version.unwrap_or_default(), name.unwrap_or_default());
    let refuse = |message: String, cause: FieldCause| {
        let mut err = ApplyError::new(index, message);
        err.kind = Some(kind.clone());
        err.name = Some(name.clone());
        err.causes = vec![cause];
        err
    };
    let meta = object["metadata"].as_object_mut().ok_or_else(|| {
        refuse(
            "metadata must be a mapping".into(),
            FieldCause { field: "metadata".into(), message: "expected a mapping".into() },
        )
    })?;
    match meta.get("namespace") {
        None | Some(Value::Null) => {}
        Some(Value::String(ns)) if ns == namespace => {}
        Some(other) => {
            let ns = other.as_str().map(str::to_string).unwrap_or_else(|| other.to_string());
            return Err(refuse(
                format!(
                    "{kind} {name} is in namespace {ns:?}, but the tutor only works in namespace {namespace:?}: remove metadata.namespace or set it to {namespace}"
                ),
                FieldCause { field: "metadata.namespace".into(), message: format!("must be {namespace:?} (or left out)") },
            ));
        }
    }
    let labels = meta.entry("labels").or_insert_with(|| Value::Object(Default::default()));
    if labels.is_null() {
        *labels = Value::Object(Default::default());
    }
    let Some(labels) = labels.as_object_mut() else {
        return Err(refuse(
            "metadata.labels must be a mapping of label names to values".into(),
            FieldCause { field: "metadata.labels".into(), message: "expected a mapping".into() },
        ));
    };
    labels.insert(MANAGED_BY.0.into(), Value::String(MANAGED_BY.1.into()));
    Ok(Document { index, api_version, kind, name, object })
}

/// Delete every StatefulSet, Service, Pod, ConfigMap and PVC labelled MANAGED_BY in the
/// namespace, plus the claims of those StatefulSets' templates (`<claim>-<sts>-<n>`), wait
/// until they are gone, and return them as `kind/name`. Nothing else is touched.
pub async fn reset_lesson_objects(cluster: &Cluster) -> Result<Vec<String>, kube::Error> {
    let client = &cluster.client;
    let ns = &cluster.namespace;
    let managed = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    let sts_api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    let svc_api: Api<Service> = Api::namespaced(client.clone(), ns);
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let cm_api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let pvc_api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);

    let sets = sts_api.list(&managed).await?.items;
    // Claim names of the sets' templates: `<claim>-<sts>-<ordinal>`.
    let prefixes: Vec<String> = sets
        .iter()
        .flat_map(|s| {
            let sts = s.name_any();
            s.spec
                .iter()
                .flat_map(|sp| sp.volume_claim_templates.iter().flatten())
                .map(move |t| format!("{}-{sts}-", t.name_any()))
        })
        .collect();
    let claims: Vec<PersistentVolumeClaim> = pvc_api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|p| {
            let name = p.name_any();
            let labelled = p.labels().get(MANAGED_BY.0).is_some_and(|v| v == MANAGED_BY.1);
            let of_template = prefixes.iter().any(|pre| {
                name.strip_prefix(pre.as_str()).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            });
            labelled || of_template
        })
        .collect();
    let services = svc_api.list(&managed).await?.items;
    let pods = pod_api.list(&managed).await?.items;
    let maps = cm_api.list(&managed).await?.items;

    // Sets go first and in the foreground, so their pods are gone before the set is.
    let foreground = DeleteParams { propagation_policy: Some(PropagationPolicy::Foreground), ..Default::default() };
    let background = DeleteParams::background();
    let mut deleted = Vec::new();
    let mut waits = Vec::new();
    delete_each(&sts_api, &sets, "StatefulSet", &foreground, &mut deleted, &mut waits).await?;
    delete_each(&svc_api, &services, "Service", &background, &mut deleted, &mut waits).await?;
    delete_each(&pod_api, &pods, "Pod", &background, &mut deleted, &mut waits).await?;
    delete_each(&cm_api, &maps, "ConfigMap", &background, &mut deleted, &mut waits).await?;
    delete_each(&pvc_api, &claims, "PersistentVolumeClaim", &background, &mut deleted, &mut waits).await?;
    let results = tokio::time::timeout(RESET_TIMEOUT, join_all(waits)).await.map_err(|_| {
        let status = Status::failure(
            &format!("the lesson's objects were deleted but are still going after {} s", RESET_TIMEOUT.as_secs()),
            "Timeout",
        )
        .with_code(504);
        kube::Error::Api(status.boxed())
    })?;
    for r in results {
        r?;
    }
    Ok(deleted)
}

type Wait = BoxFuture<'static, Result<(), kube::Error>>;

/// Delete each of `objects` (one already gone is skipped), noting `kind/name` and a wait
/// for its disappearance.
async fn delete_each<K>(
    api: &Api<K>,
    objects: &[K],
    kind: &str,
    dp: &DeleteParams,
    deleted: &mut Vec<String>,
    waits: &mut Vec<Wait>,
) -> Result<(), kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + fmt::Debug + Send + 'static,
{
    for o in objects {
        let name = o.name_any();
        match api.delete(&name, dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(e) => return Err(e),
        }
        deleted.push(format!("{kind}/{name}"));
        waits.push(gone(api.clone(), name, o.uid()).boxed());
    }
    Ok(())
}

/// Wait until the object `name` with `uid` no longer exists (a re-created one with a new uid
/// counts as gone).
async fn gone<K>(api: Api<K>, name: String, uid: Option<String>) -> Result<(), kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + fmt::Debug + Send + 'static,
{
    let uid = uid.unwrap_or_default();
    await_condition(api, &name, conditions::is_deleted(&uid))
        .await
        .map(|_| ())
        .map_err(|e| kube::Error::Service(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: nginx\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\n  labels:\n    app: nginx\n";

    #[test]
    fn splits_documents_and_labels_each() {
        let docs = parse_documents(TWO, "default").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].kind.as_str(), docs[0].name.as_str()), ("Service", "nginx"));
        assert_eq!((docs[1].api_version.as_str(), docs[1].index), ("apps/v1", 1));
        assert_eq!(docs[0].object["metadata"]["labels"][MANAGED_BY.0], MANAGED_BY.1);
        assert_eq!(docs[1].object["metadata"]["labels"]["app"], "nginx");
        assert_eq!(docs[1].object["metadata"]["labels"][MANAGED_BY.0], MANAGED_BY.1);
    }

    #[test]
    fn empty_documents_are_skipped() {
        let text = format!("---\n# just a comment\n---\n{TWO}---\n");
        let docs = parse_documents(&text, "default").unwrap();
        assert_eq!(docs.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["nginx", "web"]);
        assert_eq!(docs[1].index, 1);
    }

    #[test]
    fn syntax_error_position_is_relative_to_the_whole_text() {
        // Line 8: a tab-less but badly indented key after a scalar.
        let text = format!("{TWO}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n   bad: [\n");
        let err = parse_documents(&text, "default").unwrap_err();
        assert_eq!(err.document, 2);
        let (line, _) = err.position.unwrap();
        assert!((16..=17).contains(&line), "{err}");
        assert!(err.message.starts_with("YAML syntax error"), "{err}");
    }

    #[test]
    fn missing_fields_are_named() {
        let err = parse_documents("kind: Pod\nmetadata: {}\n", "default").unwrap_err();
        let fields: Vec<&str> = err.causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["apiVersion", "metadata.name"]);
        assert_eq!(err.to_string(), "document 1 (Pod): apiVersion, metadata.name not set\n  apiVersion: Required value\n  metadata.name: Required value");
    }

    #[test]
    fn other_namespaces_are_refused() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: kube-system\n";
        let err = parse_documents(text, "default").unwrap_err();
        assert_eq!(err.causes[0].field, "metadata.namespace");
        assert!(err.message.contains("\"kube-system\""), "{err}");
        let same = text.replace("kube-system", "default");
        assert_eq!(parse_documents(&same, "default").unwrap().len(), 1);
    }

    #[test]
    fn non_mapping_labels_are_refused() {
        let err =
            parse_documents("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: [a]\n", "default").unwrap_err();
        assert_eq!(err.causes[0].field, "metadata.labels");
    }

    #[test]
    fn strict_decoding_message_becomes_causes() {
        let doc = Document {
            index: 0,
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
            name: "web".into(),
            object: Value::Null,
        };
        let status: Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 400, "reason": "BadRequest",
            "message": "StatefulSet in version \"v1\" cannot be handled as a StatefulSet: strict decoding error: unknown field \"spec.replica\", unknown field \"spec.template.spec.containers[0].imagee\""
        }))
        .unwrap();
        let err = from_status(&doc, &status);
        let fields: Vec<&str> = err.causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["spec.replica", "spec.template.spec.containers[0].imagee"]);
        assert_eq!(err.causes[0].message, "unknown field \"spec.replica\"");
        assert!(!err.conflict);
    }

    #[test]
    fn display_of_applied_is_kubectls() {
        let a = Applied { kind: "StatefulSet".into(), name: "web".into(), action: "created", group: "apps".into() };
        assert_eq!(a.to_string(), "statefulset.apps/web created");
        let s = Applied { kind: "Service".into(), name: "nginx".into(), action: "unchanged", group: String::new() };
        assert_eq!(s.to_string(), "service/nginx unchanged");
    }
}
