//! Workshop progress: the tutor publishes where its learner is into a ConfigMap of the learner's
//! namespace (`kubetutor-progress`) as grading changes, and `kubetutor progress` shows the
//! instructor a live table of every attendee found that way, on the shared sandbox or on a
//! real cluster alike (it needs only read access to ConfigMaps in all namespaces).

use std::collections::BTreeMap;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::json;

use super::{probe, Cluster};

/// The ConfigMap's name in each learner's namespace.
pub const CONFIGMAP: &str = "kubetutor-progress";
/// The label that marks progress ConfigMaps (its value is the lesson's slug).
pub const LABEL: &str = "kubetutor.dev/progress";

/// Where one learner is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub lesson: String,
    /// Index of the step being worked on; equal to `steps` when the lesson is finished.
    pub step: usize,
    pub steps: usize,
    pub step_title: String,
    /// `pass`, `not_yet` or `waiting` for the current step.
    pub status: String,
    /// The first check of the current step that does not pass, and what it says.
    pub check: Option<String>,
    pub message: Option<String>,
    /// Since when the learner has been on this step and in this state.
    pub since: jiff::Timestamp,
    pub updated: jiff::Timestamp,
}

/// One row of the instructor's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub namespace: String,
    pub progress: Published,
}

/// Write `p` into the learner's namespace (server-side apply, so repeated publishing is cheap).
pub async fn publish(cluster: &Cluster, p: &Published) -> Result<(), kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let mut data = BTreeMap::from([
        ("lesson", p.lesson.clone()),
        ("step", p.step.to_string()),
        ("steps", p.steps.to_string()),
        ("stepTitle", p.step_title.clone()),
        ("status", p.status.clone()),
        ("since", p.since.to_string()),
        ("updated", p.updated.to_string()),
    ]);
    if let Some(c) = &p.check {
        data.insert("check", c.clone());
    }
    if let Some(m) = &p.message {
        data.insert("message", m.clone());
    }
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": CONFIGMAP, "labels": {probe::MANAGED_BY.0: probe::MANAGED_BY.1, LABEL: p.lesson}},
        "data": data,
    });
    api.patch(CONFIGMAP, &PatchParams::apply("kubetutor").force(), &Patch::Apply(&cm)).await?;
    Ok(())
}

fn parse(cm: &ConfigMap) -> Option<Row> {
    let data = cm.data.as_ref()?;
    let get = |k: &str| data.get(k).cloned();
    let time = |k: &str| get(k).and_then(|v| v.parse::<jiff::Timestamp>().ok());
    Some(Row {
        namespace: cm.namespace()?,
        progress: Published {
            lesson: get("lesson")?,
            step: get("step")?.parse().ok()?,
            steps: get("steps")?.parse().ok()?,
            step_title: get("stepTitle").unwrap_or_default(),
            status: get("status").unwrap_or_default(),
            check: get("check"),
            message: get("message"),
            since: time("since")?,
            updated: time("updated")?,
        },
    })
}

/// Every learner's progress in the cluster, by namespace.
pub async fn collect(client: &kube::Client) -> Result<Vec<Row>, kube::Error> {
    let api: Api<ConfigMap> = Api::all(client.clone());
    let list = api.list(&ListParams::default().labels(LABEL)).await?;
    let mut rows: Vec<Row> = list.items.iter().filter_map(parse).collect();
    rows.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    Ok(rows)
}

/// Call `show` with the full table now and after every change, until the watch ends.
pub async fn follow(client: &kube::Client, mut show: impl FnMut(&[Row])) -> Result<(), watcher::Error> {
    let api: Api<ConfigMap> = Api::all(client.clone());
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut relist: Option<BTreeMap<String, Row>> = None;
    let mut stream = watcher(api, watcher::Config::default().labels(LABEL)).boxed();
    while let Some(ev) = stream.next().await {
        let changed = match ev? {
            watcher::Event::Apply(cm) => {
                if let Some(r) = parse(&cm) {
                    rows.insert(r.namespace.clone(), r);
                }
                true
            }
            watcher::Event::Delete(cm) => {
                rows.remove(&cm.namespace().unwrap_or_default());
                true
            }
            watcher::Event::Init => {
                relist = Some(BTreeMap::new());
                false
            }
            watcher::Event::InitApply(cm) => {
                if let Some(r) = parse(&cm) {
                    relist.get_or_insert_with(BTreeMap::new).insert(r.namespace.clone(), r);
                }
                false
            }
            watcher::Event::InitDone => {
                rows = relist.take().unwrap_or_default();
                true
            }
        };
        if changed {
            show(&rows.values().cloned().collect::<Vec<_>>());
        }
    }
    Ok(())
}

fn minutes(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// The instructor's table at time `now`: who is done, who is stuck on which check and for how long.
pub fn render(rows: &[Row], now: jiff::Timestamp) -> String {
    if rows.is_empty() {
        return "No learner has published progress yet (the tutor does so in its namespace as soon as it grades).\n"
            .into();
    }
    let mut table = vec![["NAMESPACE", "STEP", "STATE", "FOR", "DETAIL"].map(String::from)];
    for r in rows {
        let p = &r.progress;
        let step =
            if p.step >= p.steps { format!("all {} done", p.steps) } else { format!("{} {}", p.step, p.step_title) };
        let state = match (p.step >= p.steps, p.status.as_str()) {
            (true, _) => "finished".to_string(),
            (false, "not_yet") => "stuck".to_string(),
            (false, "waiting") => "waiting".to_string(),
            (false, other) => other.replace('_', " "),
        };
        let detail = match (&p.check, &p.message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        // Attendees write these ConfigMaps: nothing in them may drive the instructor's terminal.
        let cells = [r.namespace.clone(), step, state, minutes(now.duration_since(p.since)), detail];
        table.push(cells.map(|c| crate::sanitize::escape(&c, false).into_owned()));
    }
    let widths: Vec<usize> =
        (0..4).map(|i| table.iter().map(|row| row[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &table {
        for (i, cell) in row.iter().enumerate() {
            if i < 4 {
                out.push_str(&format!("{cell:<w$}   ", w = widths[i]));
            } else {
                out.push_str(cell);
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ns: &str, step: usize, status: &str, check: Option<&str>, mins_ago: i64) -> Row {
        let now: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        Row {
            namespace: ns.into(),
            progress: Published {
                lesson: "statefulset".into(),
                step,
                steps: 5,
                step_title: ["A headless Service", "The StatefulSet web", "", "", ""]
                    .get(step)
                    .unwrap_or(&"")
                    .to_string(),
                status: status.into(),
                check: check.map(str::to_string),
                message: check.map(|_| "spec.serviceName is \"ngnix\"".to_string()),
                since: now - jiff::SignedDuration::from_mins(mins_ago),
                updated: now,
            },
        }
    }

    #[test]
    fn control_characters_in_a_progress_configmap_are_shown_escaped() {
        let now: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let mut evil = row("attendee-01", 1, "not_yet", Some("check"), 2);
        evil.progress.step_title = "web\x1b]52;c;ZXZpbA==\x07".into();
        evil.progress.message = Some("\x1b[2J\u{9b}31mcleared\nsecond line\r".into());
        let out = render(&[evil], now);
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert_eq!(out.lines().count(), 2, "one header and one row: {out}");
        assert!(out.contains("web^[]52;c;ZXZpbA==^G"), "{out}");
        assert!(out.contains("check: ^[[2JM-^[31mcleared^Jsecond line^M"), "{out}");
    }

    #[test]
    fn the_table_says_who_is_stuck_where_and_for_how_long() {
        let now: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let rows = [
            row("attendee-01", 5, "pass", None, 3),
            row("attendee-02", 1, "not_yet", Some("StatefulSet web agrees with the Service"), 12),
            row("attendee-03", 0, "waiting", None, 0),
        ];
        let text = render(&rows, now);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAMESPACE     STEP                    STATE      FOR   DETAIL");
        assert_eq!(lines[1], "attendee-01   all 5 done              finished   3m");
        assert_eq!(
            lines[2],
            "attendee-02   1 The StatefulSet web   stuck      12m   StatefulSet web agrees with the Service: spec.serviceName is \"ngnix\""
        );
        assert_eq!(lines[3], "attendee-03   0 A headless Service    waiting    0s");
        assert!(render(&[], now).starts_with("No learner"));
    }
}
