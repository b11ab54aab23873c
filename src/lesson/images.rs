//! The container images a lesson uses: from its reference manifests and from the patches of
//! its solution actions. The doctor checks that a cluster can pull each of them.

use serde_json::Value;

use super::Lesson;

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            // A JSON patch operation that sets an image.
            if let (Some(Value::String(path)), Some(Value::String(value))) = (m.get("path"), m.get("value")) {
                if path.ends_with("/image") {
                    out.push(value.clone());
                }
            }
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("image", Value::String(s)) => out.push(s.clone()),
                    _ => collect(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// The JSON of a `-p` argument in a kubectl-syntax line: from the first `{` or `[` to the last `}` or `]`.
fn patch_json(line: &str) -> Option<Value> {
    let start = line.find(['{', '['])?;
    let end = line.rfind(['}', ']'])?;
    serde_json::from_str(line.get(start..=end)?).ok()
}

/// Every image the lesson's pods run, in order of first use, without repeats.
pub fn of_lesson(lesson: &Lesson) -> Vec<String> {
    let mut out = Vec::new();
    for step in &lesson.steps {
        for text in &step.solution {
            for doc in serde_yaml::Deserializer::from_str(text) {
                if let Ok(v) = <Value as serde::Deserialize>::deserialize(doc) {
                    collect(&v, &mut out);
                }
            }
        }
        for action in &step.solution_actions {
            if let Some(v) = patch_json(action) {
                collect(&v, &mut out);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|i| seen.insert(i.clone()));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_statefulset_lesson_uses_nginx_alpine_and_the_canary_image() {
        let lesson = super::super::load::find("statefulset").unwrap();
        assert_eq!(super::of_lesson(&lesson), ["nginx:mainline", "alpine:3.8", "nginx:1.13.12"]);
    }
}
