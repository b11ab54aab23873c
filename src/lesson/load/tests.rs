//! Loader tests: the built-in lesson loads whole; each kind of mistake in a lesson folder is
//! reported with its file, step and field.

use super::*;

#[test]
fn the_builtin_statefulset_lesson_loads() {
    let lessons = builtin().unwrap();
    let l = lessons.iter().find(|l| l.slug == "statefulset").expect("statefulset lesson is embedded");
    assert_eq!(l.steps.len(), 5);
    let ids: Vec<&str> = l.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["headless-service", "statefulset", "ordered-creation", "stable-identity", "canary"]);
    let web = l.steps[1].starter.as_ref().unwrap();
    assert_eq!(web.file_name, "web.yaml");
    assert_eq!(web.blanks.len(), 9);
    assert_eq!(web.objects, ["StatefulSet/web"]);
    assert_eq!(web.blanks[0].fills, ["spec.serviceName"]);
    assert!(l.steps[1].solution[0].contains("serviceName: \"nginx\""));
    assert_eq!(l.steps[1].solution_files, ["solution/web.yaml"]);
    assert!(l.steps[0].text.starts_with("# Step 0"));
    assert!(l.recap.contains("What a StatefulSet guarantees"));
    assert!(l.links.iter().all(|k| k.url.starts_with("https://kubernetes.io/")));
    assert_eq!(l.dir, PathBuf::from("lessons/statefulset"));
    assert!(solution_for(l, 0).starts_with("apiVersion: v1\nkind: Service"));
    assert_eq!(solution_for(l, 2), "");
    assert_eq!(find("statefulset").unwrap().title, l.title);
}

#[test]
fn an_unknown_slug_names_the_known_ones() {
    let e = find_in("deployments", None).unwrap_err();
    assert_eq!(e.to_string(), "there is no lesson called \"deployments\" (known: statefulset)");
}

/// A small valid lesson in a temp folder, with `edit` applied to lesson.yaml's text.
fn lesson_dir(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mini");
    std::fs::create_dir_all(dir.join("steps")).unwrap();
    std::fs::write(dir.join("steps/00-svc.md"), "# Make a Service\n").unwrap();
    std::fs::write(dir.join("recap.md"), "Done.\n").unwrap();
    std::fs::write(dir.join("svc.yaml"), "kind: Service\nmetadata:\n  name: nginx\nspec:\n  clusterIP: ???\n").unwrap();
    std::fs::write(dir.join("solution.yaml"), "kind: Service\nmetadata:\n  name: nginx\nspec:\n  clusterIP: None\n")
        .unwrap();
    let yaml = r#"format_version: 1
title: Mini
summary: A Service.
steps:
  - id: svc
    title: A Service
    text: steps/00-svc.md
    editor:
      file: svc.yaml
      blanks:
        - label: clusterIP
          fills: [spec.clusterIP]
          hints: ["None"]
    checks:
      - name: headless
        kind: headless_service
        params: {statefulset: web}
    solution: [solution.yaml]
    solution_actions: ["wait for headless"]
recap: recap.md
links:
  - {title: Services, url: "https://kubernetes.io/docs/concepts/services-networking/service/"}
"#;
    std::fs::write(dir.join("lesson.yaml"), edit(yaml.to_string())).unwrap();
    (tmp, dir)
}

fn error_of(edit: impl Fn(String) -> String) -> String {
    let (_tmp, dir) = lesson_dir(edit);
    let e = load_dir(&dir).unwrap_err();
    let file = dir.join("lesson.yaml").display().to_string();
    e.to_string().strip_prefix(&format!("{file}: ")).unwrap_or_else(|| panic!("{e} names {file}")).to_string()
}

#[test]
fn a_lesson_folder_loads() {
    let (_tmp, dir) = lesson_dir(|s| s);
    let l = load_dir(&dir).unwrap();
    assert_eq!(l.slug, "mini");
    assert_eq!(l.steps[0].starter.as_ref().unwrap().objects, ["Service/nginx"]);
    let all = catalog(Some(dir.parent().unwrap())).unwrap();
    let slugs: Vec<&str> = all.iter().map(|l| l.slug.as_str()).collect();
    assert_eq!(slugs, ["statefulset", "mini"]);
}

#[test]
fn blank_count_mismatch() {
    let e = error_of(|s| {
        s.replace(
            "        - label: clusterIP\n          fills: [spec.clusterIP]\n          hints: [\"None\"]\n",
            "        []\n",
        )
        .replace("blanks:\n        []", "blanks: []")
    });
    assert_eq!(e, "step 0 (svc): editor.blanks: the starter has 1 blanks (???) but 0 are described");
}

#[test]
fn unknown_check_kind_and_bad_params() {
    let e = error_of(|s| s.replace("kind: headless_service", "kind: headless"));
    assert!(e.starts_with("step 0 (svc): checks[0] (headless): unknown check kind \"headless\"; known kinds: "), "{e}");
    let e = error_of(|s| s.replace("{statefulset: web}", "{svc: nginx}"));
    assert!(e.starts_with("step 0 (svc): checks[0] (headless): unknown field `svc`"), "{e}");
    // The Service's name is the learner's: no check takes it as a parameter.
    let e = error_of(|s| s.replace("{statefulset: web}", "{service: nginx}"));
    assert_eq!(e, "step 0 (svc): checks[0] (headless): unknown field `service`, expected `statefulset`");
    let e = error_of(|s| s.replace("kind: headless_service", "kind: pods_ready").replace("{statefulset: web}", "{}"));
    assert_eq!(e, "step 0 (svc): checks[0] (headless): missing field `statefulset`");
}

#[test]
fn placeholders_are_known_and_filled_with_the_reference_names() {
    let (_tmp, dir) = lesson_dir(|s| s.replace("[\"wait for headless\"]", "[\"delete pod -l {{selector}}\"]"));
    std::fs::write(dir.join("steps/00-svc.md"), "# Look up web-0.{{service}}\n").unwrap();
    std::fs::write(
        dir.join("solution.yaml"),
        "kind: Service\nmetadata:\n  name: front\nspec:\n  clusterIP: None\n  selector: {tier: edu}\n",
    )
    .unwrap();
    let l = load_dir(&dir).unwrap();
    assert_eq!(l.names, Names { statefulset: "web".into(), service: "front".into(), selector: "tier=edu".into() });
    assert_eq!(l.names.fill(&l.steps[0].text), "# Look up web-0.front\n");
    assert_eq!(l.names.fill(&l.steps[0].solution_actions[0]), "delete pod -l tier=edu");
    std::fs::write(dir.join("steps/00-svc.md"), "# Look up web-0.{{servce}}\n").unwrap();
    let e = load_dir(&dir).unwrap_err().to_string();
    assert!(
        e.ends_with(
            "step 0 (svc): text: unknown placeholder {{servce}}; known: {{statefulset}}, {{service}}, {{selector}}"
        ),
        "{e}"
    );
}

#[test]
fn missing_files() {
    let e = error_of(|s| s.replace("text: steps/00-svc.md", "text: steps/00-nope.md"));
    assert!(e.starts_with("step 0 (svc): text: cannot read "), "{e}");
    assert!(e.contains("steps/00-nope.md"), "{e}");
    let e = error_of(|s| s.replace("recap: recap.md", "recap: ../recap.md"));
    assert_eq!(e, "recap: \"../recap.md\" must be a relative path inside the lesson folder");
    let e = error_of(|s| s.replace("file: svc.yaml", "file: web.yaml"));
    assert!(e.starts_with("step 0 (svc): editor.file: cannot read "), "{e}");
}

#[test]
fn version_and_structure() {
    let e = error_of(|s| s.replace("format_version: 1", "format_version: 2"));
    assert_eq!(e, "format_version: 2, but this kubetutor reads format_version 1");
    let e = error_of(|s| s.replace("format_version: 1\n", ""));
    assert_eq!(e, "format_version: missing; this kubetutor reads format_version 1");
    let e = error_of(|s| s.replace("    title: A Service\n", "    titel: A Service\n"));
    assert!(e.starts_with("steps[0]: unknown field `titel`"), "{e}");
    let e = error_of(|s| s.replace("id: svc", "id: My Step"));
    assert_eq!(e, "step 0 (My Step): id: \"My Step\" must be lower case letters, digits and '-'");
}

#[test]
fn solutions_and_actions() {
    let e = error_of(|s| s.replace("wait for headless", "wait for headles"));
    assert_eq!(
        e,
        "step 0 (svc): solution_actions[0]: waits for \"headles\", which is not a check of this step (headless)"
    );
    let (_tmp, dir) = lesson_dir(|s| s);
    std::fs::write(dir.join("solution.yaml"), "kind: Service\nspec:\n  clusterIP: ???\n").unwrap();
    let e = load_dir(&dir).unwrap_err().to_string();
    let want = format!("step 0 (svc): solution[0]: {} still has ??? blanks", dir.join("solution.yaml").display());
    assert!(e.ends_with(&want), "{e}");
    let e = error_of(|s| s.replace("[\"wait for headless\"]", "[\"scale sts web --replicas three\"]"));
    assert_eq!(
        e,
        "step 0 (svc): solution_actions[0]: `scale sts web --replicas three`: invalid argument \"three\" for \"--replicas\" flag: a number, 0 or more"
    );
    let e = error_of(|s| s.replace("url: \"https://", "url: \"ftp://"));
    assert!(e.starts_with("links[0].url: \"ftp://"), "{e}");
}

#[test]
fn steps_and_checks_must_be_told_apart() {
    let two_steps = |s: String| {
        let step = s[s.find("  - id: svc").unwrap()..s.find("recap:").unwrap()].to_string();
        s.replace("recap:", &format!("{step}recap:"))
    };
    let e = error_of(two_steps);
    assert_eq!(e, "step 1 (svc): id: \"svc\" is already the id of an earlier step");
    let e = error_of(|s| {
        s.replace(
            "        params: {statefulset: web}\n",
            "        params: {statefulset: web}\n      - name: headless\n        kind: headless_service\n        params: {statefulset: web}\n",
        )
    });
    assert_eq!(e, "step 0 (svc): checks[1] (headless): two checks of a step cannot have the same name");
    let e = error_of(|s| {
        let start = s.find("    checks:").unwrap();
        let end = s.find("    solution:").unwrap();
        format!("{}    checks: []\n{}", &s[..start], &s[end..]).replace("[\"wait for headless\"]", "[]")
    });
    assert_eq!(e, "step 0 (svc): checks: a step needs at least one check");
}

/// The mini lesson with a quiz question whose lines are `question`.
fn with_quiz(question: &str) -> impl Fn(String) -> String + '_ {
    move |s| {
        s.replace("    solution: [solution.yaml]\n", &format!("    quiz:\n{question}    solution: [solution.yaml]\n"))
    }
}

const GOOD_QUESTION: &str = "      - question: What makes {{service}} headless?
        choices: [\"clusterIP: None\", \"type: NodePort\"]
        answer: 1
        explain: No virtual IP.
";

#[test]
fn quiz_questions_load_with_their_step() {
    let (_tmp, dir) = lesson_dir(with_quiz(GOOD_QUESTION));
    let l = load_dir(&dir).unwrap();
    let q = &l.steps[0].quiz;
    assert_eq!(q.len(), 1);
    assert_eq!((q[0].answer, q[0].choices.len()), (0, 2));
    assert_eq!(l.names.fill(&q[0].question), "What makes nginx headless?");
    // A step without a quiz has none.
    let (_tmp, dir) = lesson_dir(|s| s);
    assert!(load_dir(&dir).unwrap().steps[0].quiz.is_empty());
}

#[test]
fn quiz_mistakes_name_the_step_question_and_field() {
    let e = error_of(with_quiz(&GOOD_QUESTION.replace("answer: 1", "answer: 3")));
    assert_eq!(
        e,
        "step 0 (svc): quiz[0].answer: 3 is not one of the choices: answer counts from 1 (the key the learner presses) to 2"
    );
    let e = error_of(with_quiz(&GOOD_QUESTION.replace("\"type: NodePort\"", "\"clusterIP: None\"")));
    assert_eq!(e, "step 0 (svc): quiz[0].choices[1]: \"clusterIP: None\" is already an earlier choice");
    let e = error_of(with_quiz(&GOOD_QUESTION.replace("[\"clusterIP: None\", \"type: NodePort\"]", "[only]")));
    assert!(e.starts_with("step 0 (svc): quiz[0].choices: has 1 choices; a question has 2 to 4"), "{e}");
    let e = error_of(with_quiz(&GOOD_QUESTION.replace("explain: No virtual IP.", "explain: \"\"")));
    assert_eq!(e, "step 0 (svc): quiz[0].explain: is empty: say why the answer is right");
    let e = error_of(with_quiz(&GOOD_QUESTION.replace("{{service}}", "{{svc}}")));
    assert!(e.starts_with("step 0 (svc): quiz[0]: unknown placeholder {{svc}}"), "{e}");
    // Unknown keys are errors, like everywhere in the file (parse errors carry the line).
    let (_tmp, dir) = lesson_dir(with_quiz(&GOOD_QUESTION.replace("answer: 1", "answer: 1\n        hint: x")));
    let e = load_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("unknown field `hint`"), "{e}");
}
