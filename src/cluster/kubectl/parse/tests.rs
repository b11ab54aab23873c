//! Unit tests of the command-line parser: quoting, every command, errors and suggestions.

use super::super::{Command, Kind, Output, PatchType, Targets};
use super::*;

fn words(line: &str) -> Vec<String> {
    tokenize(line).unwrap()
}

#[test]
fn tokenizes_like_a_shell() {
    assert_eq!(words("  get   pods  "), ["get", "pods"]);
    assert_eq!(words(r#"-p '{"spec":{"replicas":3}}'"#), ["-p", r#"{"spec":{"replicas":3}}"#]);
    assert_eq!(words(r#"-p "{\"a\": \"b c\"}""#), ["-p", r#"{"a": "b c"}"#]);
    assert_eq!(words(r"a\ b 'it'\''s'"), ["a b", "it's"]);
    assert_eq!(words(r#"--type='json' -p='[1]'"#), ["--type=json", "-p=[1]"]);
    assert_eq!(words(r#""""#), [""]);
    assert_eq!(words(r#""a\nb""#), [r"a\nb"]);
    assert!(tokenize("get 'pods").unwrap_err().message.contains("unterminated single quote"));
    assert!(tokenize("get \"pods").unwrap_err().message.contains("unterminated double quote"));
}

#[test]
fn get_in_all_its_forms() {
    let get = |line| parse(line).unwrap();
    assert_eq!(
        get("kubectl get pods"),
        Command::Get {
            kind: Kind::Pod,
            names: vec![],
            selector: None,
            output: Output::Table,
            show_labels: false,
            label_columns: vec![]
        }
    );
    assert_eq!(
        get("get po web-0 web-1 -o wide"),
        Command::Get {
            kind: Kind::Pod,
            names: vec!["web-0".into(), "web-1".into()],
            selector: None,
            output: Output::Wide,
            show_labels: false,
            label_columns: vec![]
        }
    );
    assert_eq!(
        get("get -l app=nginx pods -owide --show-labels"),
        Command::Get {
            kind: Kind::Pod,
            names: vec![],
            selector: Some("app=nginx".into()),
            output: Output::Wide,
            show_labels: true,
            label_columns: vec![]
        }
    );
    match get("get pods -L controller-revision-hash --label-columns=a,b -Lc") {
        Command::Get { label_columns, .. } => assert_eq!(label_columns, ["controller-revision-hash", "a", "b", "c"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        get("get pods -L controller-revision-hash").kubectl_line(),
        "kubectl get pods -L controller-revision-hash"
    );
    assert!(matches!(get("get sts/web -o=yaml"), Command::Get { kind: Kind::StatefulSet, output: Output::Yaml, .. }));
    assert!(matches!(get("get svc --output json"), Command::Get { kind: Kind::Service, output: Output::Json, .. }));
    assert!(matches!(
        get("get pvc -o name"),
        Command::Get { kind: Kind::PersistentVolumeClaim, output: Output::Name, .. }
    ));
    assert!(matches!(get("get ev"), Command::Get { kind: Kind::Event, .. }));
    match get("kubectl get pod web-2 -o jsonpath='{.spec.containers[0].image}'") {
        Command::Get { output: Output::JsonPath(t), names, .. } => {
            assert_eq!(t, "{.spec.containers[0].image}");
            assert_eq!(names, ["web-2"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(get("get controllerrevisions"), Command::Get { kind: Kind::ControllerRevision, .. }));
    assert!(matches!(get("get persistentvolumeclaims"), Command::Get { kind: Kind::PersistentVolumeClaim, .. }));
    match get("get pod/web-0 pod/web-1") {
        Command::Get { kind: Kind::Pod, names, .. } => assert_eq!(names, ["web-0", "web-1"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn get_errors() {
    let err = |line| parse(line).unwrap_err().message;
    assert!(err("get").contains("say what to get"));
    assert!(err("get deployments").contains("\"deployments\""));
    assert!(err("get pds").contains("did you mean pods?"), "{}", err("get pds"));
    assert!(err("get pods -o table").contains("allowed formats are"));
    assert!(err("get pods -o jsonpath='{.items[*'").contains("error parsing jsonpath"));
    assert!(err("get pods web-0 -l app=nginx").contains("selector"));
    assert!(err("get pod/web-0 sts/web").contains("one kind at a time"));
    assert!(err("get pods,sts").contains("one kind at a time"));
    assert!(err("get pods -w").contains("unknown shorthand flag: 'w' in -w"));
    assert!(err("get pods -n kube-system").contains("namespace"));
    assert!(err("get pods --all-namespaces").contains("namespace"));
    assert!(err("get pods -o").contains("flag needs an argument: -o"));
    assert!(err("get pods --show-lables").contains("did you mean --show-labels?"));
}

#[test]
fn describe_and_delete() {
    assert_eq!(parse("describe pod web-0").unwrap(), Command::Describe { kind: Kind::Pod, name: "web-0".into() });
    assert_eq!(parse("describe sts/web").unwrap(), Command::Describe { kind: Kind::StatefulSet, name: "web".into() });
    assert!(parse("describe pod").unwrap_err().message.contains("which Pod"));
    assert!(parse("describe pod a b").unwrap_err().message.contains("one Pod name"));

    assert_eq!(
        parse("delete pod web-0").unwrap(),
        Command::Delete { kind: Kind::Pod, targets: Targets::Names(vec!["web-0".into()]), grace_period: None }
    );
    assert_eq!(
        parse("delete pod -l app=nginx").unwrap(),
        Command::Delete { kind: Kind::Pod, targets: Targets::Selector("app=nginx".into()), grace_period: None }
    );
    assert_eq!(
        parse("delete pods --all --now").unwrap(),
        Command::Delete { kind: Kind::Pod, targets: Targets::All, grace_period: Some(1) }
    );
    assert_eq!(
        parse("delete sts web --grace-period=0").unwrap(),
        Command::Delete { kind: Kind::StatefulSet, targets: Targets::Names(vec!["web".into()]), grace_period: Some(0) }
    );
    assert!(matches!(parse("delete svc nginx").unwrap(), Command::Delete { kind: Kind::Service, .. }));
    assert!(matches!(
        parse("delete pvc www-web-0").unwrap(),
        Command::Delete { kind: Kind::PersistentVolumeClaim, .. }
    ));
    assert!(parse("delete pods").unwrap_err().message.contains("no name was specified"));
    assert!(parse("delete pods web-0 --all").unwrap_err().message.contains("only one"));
    assert!(parse("delete pods web-0 --grace-period=soon").unwrap_err().message.contains("--grace-period"));
}

#[test]
fn scale_patch_logs_rollout() {
    assert_eq!(parse("scale sts web --replicas=5").unwrap(), Command::Scale { name: "web".into(), replicas: 5 });
    assert_eq!(
        parse("scale --replicas 0 statefulset/web").unwrap(),
        Command::Scale { name: "web".into(), replicas: 0 }
    );
    assert!(parse("scale sts web").unwrap_err().message.contains("replicas"));
    assert!(parse("scale sts web --replicas=-1").unwrap_err().message.contains("0 or more"));
    assert!(parse("scale deploy web --replicas=1").unwrap_err().message.contains("\"deploy\""));
    assert!(parse("scale pod web-0 --replicas=1").unwrap_err().message.contains("StatefulSets"));

    let partition = r#"kubectl patch statefulset web -p '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}'"#;
    assert_eq!(
        parse(partition).unwrap(),
        Command::Patch {
            kind: Kind::StatefulSet,
            name: "web".into(),
            patch: r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}"#.into(),
            patch_type: PatchType::Strategic
        }
    );
    let image = r#"kubectl patch statefulset web --type='json' -p='[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"nginx:1.13.12"}]'"#;
    match parse(image).unwrap() {
        Command::Patch { patch_type: PatchType::Json, patch, .. } => assert!(patch.starts_with(r#"[{"op": "replace""#)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse("patch sts web --type merge -p '{}'").unwrap(),
        Command::Patch { patch_type: PatchType::Merge, .. }
    ));
    assert!(parse("patch sts web").unwrap_err().message.contains("must specify -p"));
    assert!(parse("patch sts web --type=xml -p x").unwrap_err().message.contains("json merge strategic"));

    assert_eq!(parse("logs web-0").unwrap(), Command::Logs { pod: "web-0".into(), container: None });
    assert_eq!(
        parse("logs pod/web-0 -c init").unwrap(),
        Command::Logs { pod: "web-0".into(), container: Some("init".into()) }
    );
    assert!(parse("logs web-0 -f").unwrap_err().message.contains("following"));
    assert!(parse("logs web-0 nginx").unwrap_err().message.contains("-c nginx"));

    assert_eq!(parse("rollout status sts/web").unwrap(), Command::RolloutStatus { name: "web".into() });
    assert_eq!(parse("rollout status statefulset web").unwrap(), Command::RolloutStatus { name: "web".into() });
    assert!(parse("rollout undo sts/web").unwrap_err().message.contains("rollout undo"));
    assert!(parse("rollout status pod/web-0").unwrap_err().message.contains("StatefulSets"));
}

#[test]
fn apply_and_probes() {
    assert_eq!(parse("apply").unwrap(), Command::Apply { file: None, dry_run: false, force: false });
    assert_eq!(
        parse("kubectl apply -f web.yaml --dry-run=server --force-conflicts --server-side").unwrap(),
        Command::Apply { file: Some("web.yaml".into()), dry_run: true, force: true }
    );
    assert!(parse("apply web.yaml").unwrap_err().message.contains("unexpected argument"));
    assert!(parse("apply --dry-run=maybe").unwrap_err().message.contains("dry-run"));
    assert!(parse("apply --field-manager=me").unwrap_err().message.contains("kubetutor"));

    assert_eq!(parse("nslookup web-0.nginx").unwrap(), Command::Nslookup { name: "web-0.nginx".into() });
    assert!(parse("nslookup").unwrap_err().message.contains("which name"));
    for line in ["wget -q -O - web-0.nginx", "wget -qO- web-0.nginx", "wget -O- -q web-0.nginx", "wget web-0.nginx"] {
        assert_eq!(parse(line).unwrap(), Command::Wget { url: "web-0.nginx".into() }, "{line}");
    }
    assert!(parse("wget -O index.html web-0.nginx").unwrap_err().message.contains("-O -"));
}

#[test]
fn unknown_words_are_named_with_suggestions() {
    let err = parse("kubectl run dns-test --generator=run-pod/v1 --image=alpine:3.8 -it --rm -- sh").unwrap_err();
    assert_eq!(err.message, "unknown flag: --generator (removed from kubectl in 1.21)");
    assert_eq!(err.word.as_deref(), Some("--generator"));
    assert!(parse("run dns-test --image=alpine:3.8 -it --rm -- sh").unwrap_err().message.contains(":nslookup"));
    let err = parse("gte pods").unwrap_err();
    assert_eq!(err.message, "unknown command: gte (did you mean get?)");
    assert_eq!(parse("frobnicate").unwrap_err().message, "unknown command: frobnicate");
    assert!(parse("exec -it web-0 -- sh").unwrap_err().message.contains("not available"));
    assert!(parse("scale sts web --replica=3").unwrap_err().message.contains("did you mean --replicas?"));
    assert!(parse("").unwrap_err().message.contains("empty command"));
    assert!(parse("get pods --export").unwrap_err().message.contains("removed from kubectl in 1.18"));
}

#[test]
fn edit_distance_suggestions_stay_close() {
    assert_eq!(closest("delet", &COMMANDS), Some("delete"));
    assert_eq!(closest("scael", &COMMANDS), Some("scale"));
    assert_eq!(closest("xyz", &COMMANDS), None);
}
