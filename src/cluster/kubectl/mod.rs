//! The tutor's `:` command line and the lessons' solution actions, in kubectl's own syntax,
//! executed through kube-rs (no host process): [`parse`] a line into a [`Command`],
//! [`execute`] it against the [`Cluster`](super::Cluster), [`complete`] the last word. The app
//! calls all three; the lesson runner replays solution actions through [`parse`] and
//! [`execute`].

mod complete;
mod describe;
mod error;
mod exec;
mod jsonpath;
mod parse;
mod print;

use std::fmt;

use kube::discovery::ApiResource;

pub use complete::complete;
pub use error::CommandError;
pub use exec::{execute, CommandOutput, NSLOOKUP_IMAGE};
pub use parse::{parse, tokenize, ParseError};

/// The kinds the command line knows, with kubectl's names for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pod,
    StatefulSet,
    Service,
    PersistentVolumeClaim,
    Event,
    ControllerRevision,
    ConfigMap,
    Endpoints,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Pod,
        Kind::StatefulSet,
        Kind::Service,
        Kind::PersistentVolumeClaim,
        Kind::Event,
        Kind::ControllerRevision,
        Kind::ConfigMap,
        Kind::Endpoints,
    ];

    /// The kind as the API names it (`StatefulSet`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::StatefulSet => "StatefulSet",
            Kind::Service => "Service",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::Event => "Event",
            Kind::ControllerRevision => "ControllerRevision",
            Kind::ConfigMap => "ConfigMap",
            Kind::Endpoints => "Endpoints",
        }
    }

    /// The resource's plural (`statefulsets`), as in URLs and kubectl's canonical spelling.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::StatefulSet => "statefulsets",
            Kind::Service => "services",
            Kind::PersistentVolumeClaim => "persistentvolumeclaims",
            Kind::Event => "events",
            Kind::ControllerRevision => "controllerrevisions",
            Kind::ConfigMap => "configmaps",
            Kind::Endpoints => "endpoints",
        }
    }

    /// Every word kubectl accepts for the kind: plural, singular, short names.
    pub fn words(self) -> &'static [&'static str] {
        match self {
            Kind::Pod => &["pods", "pod", "po"],
            Kind::StatefulSet => &["statefulsets", "statefulset", "sts"],
            Kind::Service => &["services", "service", "svc"],
            Kind::PersistentVolumeClaim => &["persistentvolumeclaims", "persistentvolumeclaim", "pvc"],
            Kind::Event => &["events", "event", "ev"],
            Kind::ControllerRevision => &["controllerrevisions", "controllerrevision"],
            Kind::ConfigMap => &["configmaps", "configmap", "cm"],
            Kind::Endpoints => &["endpoints", "ep"],
        }
    }

    pub fn from_word(word: &str) -> Option<Kind> {
        let w = word.to_ascii_lowercase();
        let w = w.strip_suffix(".apps").unwrap_or(&w);
        Kind::ALL.into_iter().find(|k| k.words().contains(&w))
    }

    pub fn group(self) -> &'static str {
        match self {
            Kind::StatefulSet | Kind::ControllerRevision => "apps",
            _ => "",
        }
    }

    /// `statefulset.apps` / `pod`: how kubectl names the resource in its messages.
    pub fn qualified(self) -> String {
        let singular = self.name().to_ascii_lowercase();
        match self.group() {
            "" => singular,
            g => format!("{singular}.{g}"),
        }
    }

    pub fn api_resource(self) -> ApiResource {
        let (group, version) = (self.group(), "v1");
        let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version,
            kind: self.name().into(),
            plural: self.plural().into(),
        }
    }
}

/// `-o` of `get`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Output {
    #[default]
    Table,
    Wide,
    Yaml,
    Json,
    Name,
    /// `jsonpath=TEMPLATE`.
    JsonPath(String),
}

impl Output {
    fn flag(&self) -> Option<String> {
        match self {
            Output::Table => None,
            Output::Wide => Some("wide".into()),
            Output::Yaml => Some("yaml".into()),
            Output::Json => Some("json".into()),
            Output::Name => Some("name".into()),
            Output::JsonPath(t) => Some(format!("jsonpath={t}")),
        }
    }
}

/// `--type` of `patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchType {
    #[default]
    Strategic,
    Merge,
    Json,
}

impl PatchType {
    fn flag(self) -> &'static str {
        match self {
            PatchType::Strategic => "strategic",
            PatchType::Merge => "merge",
            PatchType::Json => "json",
        }
    }
}

/// Which objects a `delete` means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    Names(Vec<String>),
    Selector(String),
    All,
}

/// One parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Get {
        kind: Kind,
        names: Vec<String>,
        selector: Option<String>,
        output: Output,
        show_labels: bool,
        /// `-L key`: a column per label key.
        label_columns: Vec<String>,
    },
    Describe {
        kind: Kind,
        name: String,
    },
    Delete {
        kind: Kind,
        targets: Targets,
        grace_period: Option<i64>,
    },
    Scale {
        name: String,
        replicas: i32,
    },
    Patch {
        kind: Kind,
        name: String,
        patch: String,
        patch_type: PatchType,
    },
    Logs {
        pod: String,
        container: Option<String>,
    },
    RolloutStatus {
        name: String,
    },
    /// Apply the editor's text; `file` is the name the learner gave after `-f`, if any.
    Apply {
        file: Option<String>,
        dry_run: bool,
        force: bool,
    },
    Nslookup {
        name: String,
    },
    Wget {
        url: String,
    },
}

impl Command {
    /// The real kubectl command line that does the same (probes as `kubectl run`).
    pub fn kubectl_line(&self) -> String {
        let mut w: Vec<String> = vec!["kubectl".into()];
        let mut push = |s: &str| w.push(quote(s));
        match self {
            Command::Get { kind, names, selector, output, show_labels, label_columns } => {
                push("get");
                push(kind.plural());
                names.iter().for_each(|n| push(n));
                if let Some(s) = selector {
                    push("-l");
                    push(s);
                }
                if let Some(o) = output.flag() {
                    push("-o");
                    push(&o);
                }
                for key in label_columns {
                    push("-L");
                    push(key);
                }
                if *show_labels {
                    push("--show-labels");
                }
            }
            Command::Describe { kind, name } => {
                push("describe");
                push(kind.plural());
                push(name);
            }
            Command::Delete { kind, targets, grace_period } => {
                push("delete");
                push(kind.plural());
                match targets {
                    Targets::Names(names) => names.iter().for_each(|n| push(n)),
                    Targets::Selector(s) => {
                        push("-l");
                        push(s);
                    }
                    Targets::All => push("--all"),
                }
                if let Some(g) = grace_period {
                    push(&format!("--grace-period={g}"));
                }
            }
            Command::Scale { name, replicas } => {
                push("scale");
                push(&format!("statefulset/{name}"));
                push(&format!("--replicas={replicas}"));
            }
            Command::Patch { kind, name, patch, patch_type } => {
                push("patch");
                push(&kind.name().to_ascii_lowercase());
                push(name);
                if *patch_type != PatchType::Strategic {
                    push(&format!("--type={}", patch_type.flag()));
                }
                push("-p");
                push(patch);
            }
            Command::Logs { pod, container } => {
                push("logs");
                push(pod);
                if let Some(c) = container {
                    push("-c");
                    push(c);
                }
            }
            Command::RolloutStatus { name } => {
                push("rollout");
                push("status");
                push(&format!("statefulset/{name}"));
            }
            Command::Apply { file, dry_run, force } => {
                push("apply");
                push("--server-side");
                push("--field-manager=kubetutor");
                if *force {
                    push("--force-conflicts");
                }
                if *dry_run {
                    push("--dry-run=server");
                }
                push("-f");
                push(file.as_deref().unwrap_or("-"));
            }
            Command::Nslookup { name } => probe_line(&mut push, NSLOOKUP_IMAGE, &["nslookup", name]),
            Command::Wget { url } => probe_line(&mut push, super::probe::PROBE_IMAGE, &["wget", "-q", "-O", "-", url]),
        }
        w.join(" ")
    }

    /// Whether the command changes or removes existing objects (the app asks first when
    /// they are not the lesson's).
    pub fn is_destructive(&self) -> bool {
        matches!(self, Command::Delete { .. } | Command::Scale { .. } | Command::Patch { .. })
    }

    /// The objects the command names, as (kind, name): `("StatefulSet", "web")`. A selector
    /// or `--all` names none.
    pub fn object_names(&self) -> Vec<(String, String)> {
        let one = |k: Kind, n: &str| vec![(k.name().to_string(), n.to_string())];
        match self {
            Command::Get { kind, names, .. } => names.iter().map(|n| (kind.name().to_string(), n.clone())).collect(),
            Command::Delete { kind, targets: Targets::Names(names), .. } => {
                names.iter().map(|n| (kind.name().to_string(), n.clone())).collect()
            }
            Command::Delete { .. } => Vec::new(),
            Command::Describe { kind, name } | Command::Patch { kind, name, .. } => one(*kind, name),
            Command::Scale { name, .. } | Command::RolloutStatus { name } => one(Kind::StatefulSet, name),
            Command::Logs { pod, .. } => one(Kind::Pod, pod),
            Command::Apply { .. } | Command::Nslookup { .. } | Command::Wget { .. } => Vec::new(),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kubectl_line())
    }
}

fn probe_line(push: &mut impl FnMut(&str), image: &str, args: &[&str]) {
    let image = format!("--image={image}");
    for w in ["run", "kubetutor-probe", "-i", "--rm", "--restart=Never", image.as_str(), "--"] {
        push(w);
    }
    args.iter().for_each(|a| push(a));
}

/// Quote `word` for a POSIX shell when it needs it (single quotes, `'\''` inside).
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_found_by_every_word() {
        assert_eq!(Kind::from_word("sts"), Some(Kind::StatefulSet));
        assert_eq!(Kind::from_word("StatefulSets"), Some(Kind::StatefulSet));
        assert_eq!(Kind::from_word("statefulset.apps"), Some(Kind::StatefulSet));
        assert_eq!(Kind::from_word("po"), Some(Kind::Pod));
        assert_eq!(Kind::from_word("pvc"), Some(Kind::PersistentVolumeClaim));
        assert_eq!(Kind::from_word("ev"), Some(Kind::Event));
        assert_eq!(Kind::from_word("deployments"), None);
        assert_eq!(Kind::StatefulSet.qualified(), "statefulset.apps");
        assert_eq!(Kind::StatefulSet.api_resource().api_version, "apps/v1");
        assert_eq!(Kind::Pod.api_resource().api_version, "v1");
    }

    #[test]
    fn quoting_is_minimal_and_safe() {
        assert_eq!(quote("web-0"), "web-0");
        assert_eq!(quote("app=nginx"), "app=nginx");
        assert_eq!(quote(r#"{"spec":{"replicas":3}}"#), r#"'{"spec":{"replicas":3}}'"#);
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn kubectl_lines_round_trip_through_the_parser() {
        let lines = [
            "get pods -l app=nginx -o wide",
            "get pod web-2 -o jsonpath='{.spec.containers[0].image}'",
            "delete pods -l app=nginx",
            "delete pod web-0 web-1 --grace-period=0",
            "scale sts web --replicas=5",
            r#"patch statefulset web -p '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}'"#,
            r#"patch statefulset web --type='json' -p='[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"nginx:1.13.12"}]'"#,
            "logs web-0 -c init",
            "rollout status sts/web",
            "describe pod web-0",
            "apply -f web.yaml",
        ];
        for line in lines {
            let cmd = parse(line).unwrap();
            let echoed = cmd.kubectl_line();
            assert!(echoed.starts_with("kubectl "), "{echoed}");
            assert_eq!(parse(&echoed).unwrap(), cmd, "{line} → {echoed}");
        }
    }

    #[test]
    fn probes_echo_as_kubectl_run() {
        let cmd = parse("nslookup web-0.nginx").unwrap();
        assert_eq!(
            cmd.kubectl_line(),
            "kubectl run kubetutor-probe -i --rm --restart=Never --image=alpine:3.8 -- nslookup web-0.nginx"
        );
        let cmd = parse("wget -q -O - http://web-0.nginx").unwrap();
        assert!(cmd.kubectl_line().ends_with("-- wget -q -O - http://web-0.nginx"));
    }

    #[test]
    fn destructive_and_named_objects() {
        assert!(parse("delete pod web-0").unwrap().is_destructive());
        assert!(parse("scale sts web --replicas=1").unwrap().is_destructive());
        assert!(parse("patch sts web -p '{}'").unwrap().is_destructive());
        assert!(!parse("get pods").unwrap().is_destructive());
        assert!(!parse("apply").unwrap().is_destructive());
        assert_eq!(
            parse("delete pod web-0 web-1").unwrap().object_names(),
            [("Pod".to_string(), "web-0".to_string()), ("Pod".to_string(), "web-1".to_string())]
        );
        assert_eq!(
            parse("scale statefulset/web --replicas=2").unwrap().object_names(),
            [("StatefulSet".into(), "web".into())]
        );
        assert!(parse("delete pods -l app=nginx").unwrap().object_names().is_empty());
        assert_eq!(parse("logs web-1").unwrap().object_names(), [("Pod".into(), "web-1".into())]);
    }
}
