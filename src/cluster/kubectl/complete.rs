//! Tab completion for the command line: command names, kinds, flags, and the names of the
//! objects in the watch snapshot for the kind already given.

use super::parse::{flags_of, tokenize, COMMANDS};
use super::Kind;
use crate::cluster::Snapshot;

/// Candidates for the last word of `line` (whole words, sorted, no duplicates); the caller
/// replaces the last word with one of them. A line ending in a space completes a new word.
pub fn complete(line: &str, snapshot: &Snapshot) -> Vec<String> {
    let Ok(mut words) = tokenize(line) else { return Vec::new() };
    let current = if line.is_empty() || line.ends_with(char::is_whitespace) {
        String::new()
    } else {
        words.pop().unwrap_or_default()
    };
    if words.first().is_some_and(|w| w == "kubectl") {
        words.remove(0);
    }
    let mut out: Vec<String> = match words.split_first() {
        None => COMMANDS.iter().map(ToString::to_string).collect(),
        Some((command, rest)) => {
            if current.starts_with('-') {
                flags_of(command).iter().map(|f| format!("--{}", f.long)).collect()
            } else {
                let positionals = positionals(command, rest);
                arguments(command, &positionals, &current, snapshot)
            }
        }
    };
    out.retain(|c| c.starts_with(current.as_str()));
    out.sort();
    out.dedup();
    out
}

/// The words of `rest` that are not flags or flag values.
fn positionals(command: &str, rest: &[String]) -> Vec<String> {
    let flags = flags_of(command);
    let mut out = Vec::new();
    let mut skip = false;
    for w in rest {
        if std::mem::take(&mut skip) {
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            skip = !long.contains('=') && flags.iter().any(|f| f.long == long && f.takes_value);
        } else if let Some(short) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            let c = short.chars().last();
            skip = short.len() == 1 && flags.iter().any(|f| f.short == c && f.takes_value);
        } else {
            out.push(w.clone());
        }
    }
    out
}

fn names_of(kind: Kind, snapshot: &Snapshot) -> Vec<String> {
    match kind {
        Kind::Pod => snapshot.pods.keys().cloned().collect(),
        Kind::StatefulSet => snapshot.statefulsets.keys().cloned().collect(),
        Kind::Service => snapshot.services.keys().cloned().collect(),
        Kind::PersistentVolumeClaim => snapshot.pvcs.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn kind_words(kinds: &[Kind]) -> Vec<String> {
    kinds.iter().flat_map(|k| k.words().iter().map(ToString::to_string)).collect()
}

/// `kind/name` for every object of the kind the word starts with.
fn slash_forms(current: &str, kinds: &[Kind], snapshot: &Snapshot) -> Vec<String> {
    let Some((k, _)) = current.split_once('/') else { return Vec::new() };
    match Kind::from_word(k).filter(|kind| kinds.contains(kind)) {
        Some(kind) => names_of(kind, snapshot).into_iter().map(|n| format!("{k}/{n}")).collect(),
        None => Vec::new(),
    }
}

fn arguments(command: &str, positionals: &[String], current: &str, snapshot: &Snapshot) -> Vec<String> {
    let kind_then_names = |kinds: &[Kind]| -> Vec<String> {
        match positionals.first() {
            None if current.contains('/') => slash_forms(current, kinds, snapshot),
            None => kind_words(kinds),
            Some(first) if first.contains('/') => slash_forms(current, kinds, snapshot),
            Some(first) => Kind::from_word(first).map(|k| names_of(k, snapshot)).unwrap_or_default(),
        }
    };
    match command {
        "get" | "describe" | "delete" | "patch" => kind_then_names(&Kind::ALL),
        "scale" => kind_then_names(&[Kind::StatefulSet]),
        "logs" if positionals.is_empty() => names_of(Kind::Pod, snapshot),
        "rollout" => match positionals {
            [] => vec!["status".into()],
            [_] => {
                let mut c = kind_words(&[Kind::StatefulSet]);
                c.extend(snapshot.statefulsets.keys().map(|n| format!("sts/{n}")));
                c.extend(slash_forms(current, &[Kind::StatefulSet], snapshot));
                c
            }
            [_, kind] if !kind.contains('/') => names_of(Kind::StatefulSet, snapshot),
            _ => Vec::new(),
        },
        "nslookup" | "wget" if positionals.is_empty() => {
            let mut hosts: Vec<String> = snapshot.services.keys().cloned().collect();
            hosts.extend(snapshot.pods.values().filter_map(|p| {
                let spec = p.spec.as_ref()?;
                Some(format!("{}.{}", spec.hostname.as_ref()?, spec.subdomain.as_ref()?))
            }));
            if command == "wget" {
                let urls: Vec<String> = hosts.iter().map(|h| format!("http://{h}")).collect();
                hosts.extend(urls);
            }
            hosts
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSet;
    use k8s_openapi::api::core::v1::{Pod, Service};
    use serde_json::json;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::default();
        for (name, ord) in [("web-0", 0), ("web-1", 1)] {
            let p: Pod = serde_json::from_value(json!({
                "metadata": {"name": name},
                "spec": {"hostname": name, "subdomain": "nginx", "containers": []},
                "status": {"podIP": format!("10.0.0.{ord}")}
            }))
            .unwrap();
            s.pods.insert(name.into(), p);
        }
        s.pods.insert("other".into(), serde_json::from_value(json!({"metadata": {"name": "other"}})).unwrap());
        let sts: StatefulSet = serde_json::from_value(json!({"metadata": {"name": "web"}})).unwrap();
        s.statefulsets.insert("web".into(), sts);
        let svc: Service = serde_json::from_value(json!({"metadata": {"name": "nginx"}})).unwrap();
        s.services.insert("nginx".into(), svc);
        s
    }

    #[test]
    fn completes_commands_kinds_and_names() {
        let s = snapshot();
        assert_eq!(complete("", &s).len(), COMMANDS.len());
        assert_eq!(complete("de", &s), ["delete", "describe"]);
        assert_eq!(complete("kubectl sc", &s), ["scale"]);
        assert_eq!(complete("get st", &s), ["statefulset", "statefulsets", "sts"]);
        assert_eq!(complete("get pods ", &s), ["other", "web-0", "web-1"]);
        assert_eq!(complete("delete pod web-", &s), ["web-0", "web-1"]);
        assert_eq!(complete("describe sts/", &s), ["sts/web"]);
        assert_eq!(complete("get pod/w", &s), ["pod/web-0", "pod/web-1"]);
        assert_eq!(complete("get -l app=nginx pods w", &s), ["web-0", "web-1"]);
        assert_eq!(complete("scale ", &s), ["statefulset", "statefulsets", "sts"]);
        assert_eq!(complete("scale sts ", &s), ["web"]);
        assert_eq!(complete("logs w", &s), ["web-0", "web-1"]);
        assert_eq!(complete("rollout ", &s), ["status"]);
        assert_eq!(complete("rollout status sts/", &s), ["sts/web"]);
        assert_eq!(complete("nslookup web", &s), ["web-0.nginx", "web-1.nginx"]);
        assert_eq!(complete("wget -q -O - http://n", &s), ["http://nginx"]);
        assert_eq!(complete("scale sts web --rep", &s), ["--replicas"]);
        assert!(complete("get 'unterminated", &s).is_empty());
        assert!(complete("frob ", &s).is_empty());
    }
}
