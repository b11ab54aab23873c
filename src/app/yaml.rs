//! Checks of the editor's YAML before anything reaches the cluster: parse errors with line and
//! column, a schema check against the k8s-openapi types (wrong types and unknown fields, with
//! their field path), and the mapping of a field path (`spec.template.spec.containers[0].name`)
//! to the editor line that holds it, so server errors land next to the field they name.

use serde::Deserialize;
use serde_json::Value;

/// A problem at a place in the editor (0-based line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
}

/// One `---`-separated document: its first line in the buffer and its parsed value.
#[derive(Debug, Clone)]
pub struct Document {
    pub first_line: usize,
    pub value: serde_yaml::Value,
}

/// Parse every document; the first syntax error comes back as a mark at its line and column.
pub fn parse(text: &str) -> Result<Vec<Document>, Mark> {
    let starts = document_starts(text);
    let mut docs = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        match serde_yaml::Value::deserialize(de) {
            Ok(value) => docs.push(Document { first_line: starts.get(i).copied().unwrap_or(0), value }),
            Err(e) => {
                let (line, column) = e.location().map(|l| (l.line().saturating_sub(1), l.column())).unwrap_or((0, 1));
                let message = e.to_string();
                let message = message.split(" at line ").next().unwrap_or(&message).to_string();
                return Err(Mark { line, column: Some(column.saturating_sub(1)), message });
            }
        }
    }
    Ok(docs)
}

/// The first line of each document (0 for the first; after each `---` line).
pub fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            if i == 0 || text.lines().take(i).all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
                starts[0] = i + 1;
            } else {
                starts.push(i + 1);
            }
        }
    }
    starts
}

/// Check each document against the k8s-openapi type of its kind. Returns marks for wrong
/// types and unknown fields, placed on the line of the field.
pub fn schema_check(text: &str, docs: &[Document]) -> Vec<Mark> {
    let mut marks = Vec::new();
    for (index, doc) in docs.iter().enumerate() {
        if doc.value.is_null() {
            continue;
        }
        let json: Value = match serde_json::to_value(&doc.value) {
            Ok(v) => v,
            Err(e) => {
                marks.push(Mark { line: doc.first_line, column: None, message: e.to_string() });
                continue;
            }
        };
        let kind = json.get("kind").and_then(Value::as_str).unwrap_or("");
        let problems = match kind {
            "StatefulSet" => check_as::<k8s_openapi::api::apps::v1::StatefulSet>(&json),
            "Service" => check_as::<k8s_openapi::api::core::v1::Service>(&json),
            "Pod" => check_as::<k8s_openapi::api::core::v1::Pod>(&json),
            "PersistentVolumeClaim" => check_as::<k8s_openapi::api::core::v1::PersistentVolumeClaim>(&json),
            "ConfigMap" => check_as::<k8s_openapi::api::core::v1::ConfigMap>(&json),
            "Secret" => check_as::<k8s_openapi::api::core::v1::Secret>(&json),
            "Deployment" => check_as::<k8s_openapi::api::apps::v1::Deployment>(&json),
            "" => vec![(String::new(), "this document has no `kind:`".to_string())],
            // Other kinds are left to the server's own validation.
            _ => Vec::new(),
        };
        for (path, message) in problems {
            let line = line_of_path(text, index, &path).unwrap_or(doc.first_line);
            let message = if path.is_empty() { message } else { format!("{path}: {message}") };
            marks.push(Mark { line, column: None, message });
        }
    }
    marks
}

/// Deserialise into `K`; on success, report every field of the input that `K` dropped
/// (k8s-openapi ignores unknown fields, the API server's strict validation does not).
fn check_as<K: serde::de::DeserializeOwned + serde::Serialize>(json: &Value) -> Vec<(String, String)> {
    match serde_path_to_error::deserialize::<_, K>(json.clone()) {
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            vec![(path, e.into_inner().to_string())]
        }
        Ok(typed) => {
            let back = serde_json::to_value(&typed).unwrap_or(Value::Null);
            let mut unknown = Vec::new();
            dropped_fields(json, &back, String::new(), &mut unknown);
            unknown.into_iter().map(|p| (p, "unknown field".to_string())).collect()
        }
    }
}

fn dropped_fields(original: &Value, kept: &Value, path: String, out: &mut Vec<String>) {
    match (original, kept) {
        (Value::Object(o), Value::Object(k)) => {
            for (key, v) in o {
                let p = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match k.get(key) {
                    Some(kv) => dropped_fields(v, kv, p, out),
                    None if !v.is_null() => out.push(p),
                    None => {}
                }
            }
        }
        (Value::Array(o), Value::Array(k)) => {
            for (i, (v, kv)) in o.iter().zip(k).enumerate() {
                dropped_fields(v, kv, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key.to_string()));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(n) = rest[1..close].parse() {
                out.push(Segment::Index(n));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

/// Leading spaces plus any `- ` sequence markers: the column where a line's key starts.
fn key_column(line: &str) -> usize {
    let mut col = 0;
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        col += rest.len() - trimmed.len();
        if let Some(after) = trimmed.strip_prefix("- ") {
            col += 2;
            rest = after;
        } else {
            return col;
        }
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && t != "---"
}

fn key_of(line: &str) -> Option<&str> {
    let rest = &line[key_column(line).min(line.len())..];
    let colon = rest.find(':')?;
    let key = rest[..colon].trim();
    Some(key.trim_matches('"').trim_matches('\''))
}

/// The 0-based buffer line of the field `path` in document `doc` (best effort: the deepest
/// part of the path that can be found).
pub fn line_of_path(text: &str, doc: usize, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let starts = document_starts(text);
    let start = *starts.get(doc)?;
    let end = starts.get(doc + 1).map(|s| s - 1).unwrap_or(lines.len());
    let mut range = start..end;
    let mut found = None;
    for seg in segments(path) {
        let (line, next) = match seg {
            Segment::Key(k) => {
                let cols: Vec<usize> =
                    range.clone().filter(|&i| is_content(lines[i])).map(|i| key_column(lines[i])).collect();
                let col = *cols.iter().min()?;
                let Some(l) = range
                    .clone()
                    .find(|&i| is_content(lines[i]) && key_column(lines[i]) == col && key_of(lines[i]) == Some(&k))
                else {
                    return found;
                };
                let child_end = (l + 1..range.end)
                    .find(|&i| {
                        let line = lines[i];
                        is_content(line)
                            && (indent(line) < col
                                || (indent(line) == col && !line.trim_start().starts_with('-'))
                                || key_column(line) < col)
                    })
                    .unwrap_or(range.end);
                (l, l + 1..child_end)
            }
            Segment::Index(n) => {
                let dash = |i: usize| lines[i].trim_start().starts_with('-') && is_content(lines[i]);
                let d = range.clone().filter(|&i| dash(i)).map(|i| indent(lines[i])).min()?;
                let items: Vec<usize> = range.clone().filter(|&i| dash(i) && indent(lines[i]) == d).collect();
                let Some(&l) = items.get(n) else { return found };
                let item_end = items.get(n + 1).copied().unwrap_or(range.end);
                (l, l..item_end)
            }
        };
        found = Some(line);
        range = next;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const STS: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  template:
    spec:
      containers:
      - name: nginx
        image: nginx:mainline
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
      - name: sidecar
        image: busybox
";

    #[test]
    fn field_paths_map_to_their_lines() {
        assert_eq!(line_of_path(STS, 0, "metadata.name"), Some(3));
        assert_eq!(line_of_path(STS, 1, "metadata.name"), Some(8));
        assert_eq!(line_of_path(STS, 1, "spec.serviceName"), Some(10));
        assert_eq!(line_of_path(STS, 1, "spec.template.spec.containers[0].ports[0].name"), Some(18));
        assert_eq!(line_of_path(STS, 1, "spec.template.spec.containers[0].volumeMounts[0].mountPath"), Some(21));
        assert_eq!(line_of_path(STS, 1, "spec.template.spec.containers[1].image"), Some(23));
        // Missing tail: the deepest part found.
        assert_eq!(line_of_path(STS, 1, "spec.template.spec.containers[0].resources"), Some(14));
        assert_eq!(line_of_path(STS, 1, "spec.template.spec.containers[5]"), Some(13));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse("kind: Service\nmetadata:\n  name: [oops\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("flow sequence") || !err.message.is_empty(), "{}", err.message);
        let docs = parse(STS).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].first_line, 5);
    }

    #[test]
    fn schema_check_names_unknown_fields_and_wrong_types_on_their_lines() {
        let text = STS
            .replace("          name: web", "          nme: web")
            .replace("containerPort: 80", "containerPort: eighty");
        let marks = schema_check(&text, &parse(&text).unwrap());
        assert_eq!(marks.len(), 1, "{marks:?}");
        assert_eq!(marks[0].line, 17);
        assert!(marks[0].message.starts_with("spec.template.spec.containers[0].ports[0].containerPort: invalid type"));
        let text = STS.replace("          name: web", "          nme: web");
        let marks = schema_check(&text, &parse(&text).unwrap());
        assert_eq!(
            marks,
            vec![Mark {
                line: 18,
                column: None,
                message: "spec.template.spec.containers[0].ports[0].nme: unknown field".into()
            }]
        );
        assert!(schema_check(STS, &parse(STS).unwrap()).is_empty());
    }
}
