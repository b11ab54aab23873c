//! Printing as kubectl prints: the server's `Table` answers (kubectl asks for them too) laid
//! out with kubectl's tabwriter settings (minimum width 6, padding 3, the last column
//! unpadded), and the Table request itself.

use http::header::{HeaderValue, ACCEPT};
use kube::api::{Api, DynamicObject, GetParams, ListParams};
use serde_json::Value;

use super::Kind;
use crate::cluster::Cluster;

/// The Accept header kubectl sends for `get`.
pub(super) const TABLE_ACCEPT: &str =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/// Lay out rows as kubectl's tabwriter does: each column but the last is as wide as its
/// widest cell plus 3 (at least 6).
pub(super) fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; n];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let width = (widths[i] + 3).max(6);
                out.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

/// Ask for `kind` as a Table: one object by name, or a list (optionally by selector).
pub(super) async fn fetch_table(
    cluster: &Cluster,
    kind: Kind,
    name: Option<&str>,
    lp: &ListParams,
    include_object: bool,
) -> Result<Value, kube::Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &kind.api_resource());
    let request = kube::core::Request::new(api.resource_url());
    let mut req = match name {
        Some(n) => request.get(n, &GetParams::default()),
        None => request.list(lp),
    }
    .map_err(kube::Error::BuildRequest)?;
    if include_object {
        let uri = req.uri().to_string();
        let sep = if uri.contains('?') { '&' } else { '?' };
        *req.uri_mut() = format!("{uri}{sep}includeObject=Object").parse().map_err(|e: http::uri::InvalidUri| {
            kube::Error::BuildRequest(kube::core::request::Error::Validation(e.to_string()))
        })?;
    }
    req.headers_mut().insert(ACCEPT, HeaderValue::from_static(TABLE_ACCEPT));
    cluster.client.request::<Value>(req).await
}

/// The columns a Table shows: priority 0, or all with `wide`.
pub(super) fn visible_columns(table: &Value, wide: bool) -> Vec<(usize, String)> {
    table["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, c)| wide || c["priority"].as_i64().unwrap_or(0) == 0)
        .map(|(i, c)| (i, c["name"].as_str().unwrap_or_default().to_string()))
        .collect()
}

/// A cell as kubectl prints it.
pub(super) fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<none>".into(),
        other => other.to_string(),
    }
}

/// The label columns asked for: one per `-L key`, then LABELS for `--show-labels`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Labels<'a> {
    pub columns: &'a [String],
    pub all: bool,
}

/// The rows of a Table as text cells of the visible columns, then the label columns.
pub(super) fn table_rows(table: &Value, cols: &[(usize, String)], labels: Labels) -> Vec<Vec<String>> {
    table["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let mut cells: Vec<String> = cols.iter().map(|(i, _)| cell_text(&row["cells"][*i])).collect();
            let own = &row["object"]["metadata"]["labels"];
            // kubectl leaves the cell empty when the object lacks the label.
            cells.extend(labels.columns.iter().map(|k| own[k.as_str()].as_str().unwrap_or_default().to_string()));
            if labels.all {
                cells.push(format_labels(own));
            }
            cells
        })
        .collect()
}

/// `a=b,c=d` sorted by key, or `<none>`.
pub(super) fn format_labels(labels: &Value) -> String {
    let Some(map) = labels.as_object().filter(|m| !m.is_empty()) else { return "<none>".into() };
    let mut pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    pairs.sort();
    pairs.join(",")
}

/// The header row: column names upper-cased; a label column is headed by the last part of
/// its key (`app.kubernetes.io/name` gives NAME), as kubectl does.
pub(super) fn header(cols: &[(usize, String)], labels: Labels) -> Vec<String> {
    let mut h: Vec<String> = cols.iter().map(|(_, n)| n.to_uppercase()).collect();
    h.extend(labels.columns.iter().map(|k| k.rsplit('/').next().unwrap_or(k).to_uppercase()));
    if labels.all {
        h.push("LABELS".into());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_are_padded_like_kubectls_tabwriter() {
        let rows = vec![
            vec!["NAME".to_string(), "READY".into(), "STATUS".into(), "RESTARTS".into(), "AGE".into()],
            vec!["web-0".to_string(), "1/1".into(), "Running".into(), "0".into(), "10s".into()],
        ];
        assert_eq!(
            columns(&rows),
            "NAME    READY   STATUS    RESTARTS   AGE\nweb-0   1/1     Running   0          10s\n"
        );
        // Narrow columns are still 6 wide.
        let narrow = vec![vec!["A".to_string(), "B".into()]];
        assert_eq!(columns(&narrow), "A     B\n");
    }

    #[test]
    fn tables_give_visible_columns_and_labels() {
        let t = json!({
            "columnDefinitions": [{"name": "Name", "priority": 0}, {"name": "IP", "priority": 1}, {"name": "Age", "priority": 0}],
            "rows": [{"cells": ["web-0", "10.0.0.5", "3s"], "object": {"metadata": {"labels": {"b": "2", "a": "1"}}}}]
        });
        let narrow = visible_columns(&t, false);
        let all = Labels { columns: &[], all: true };
        assert_eq!(header(&narrow, all), ["NAME", "AGE", "LABELS"]);
        assert_eq!(table_rows(&t, &narrow, all), [vec!["web-0", "3s", "a=1,b=2"]]);
        let wide = visible_columns(&t, true);
        assert_eq!(table_rows(&t, &wide, Labels::default()), [vec!["web-0", "10.0.0.5", "3s"]]);
        let keys = ["example.com/b".to_string(), "missing".to_string()];
        let cols = Labels { columns: &keys, all: false };
        assert_eq!(header(&narrow, cols), ["NAME", "AGE", "B", "MISSING"]);
        let t2 = json!({
            "columnDefinitions": [{"name": "Name", "priority": 0}],
            "rows": [{"cells": ["web-0"], "object": {"metadata": {"labels": {"example.com/b": "x"}}}}]
        });
        assert_eq!(table_rows(&t2, &visible_columns(&t2, false), cols), [vec!["web-0", "x", ""]]);
        assert_eq!(format_labels(&json!({})), "<none>");
    }
}
