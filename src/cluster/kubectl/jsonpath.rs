//! `get -o jsonpath=TEMPLATE`: the part of kubectl's JSONPath templates learners use —
//! literal text, `{.a.b[0].c}`, `[*]` wildcards, `{"\n"}` string literals and
//! `{range EXPR}...{end}` loops. Missing fields print nothing (kubectl's default
//! `--allow-missing-template-keys`).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    All,
}

/// Check a template without running it (the parser calls this so typos fail early).
pub(super) fn validate(template: &str) -> Result<(), String> {
    parse(template).map(|_| ())
}

/// Render `template` over `data`.
pub(super) fn render(template: &str, data: &Value) -> Result<String, String> {
    let nodes = parse(template)?;
    let mut out = String::new();
    run(&nodes, data, &mut out);
    Ok(out)
}

fn parse(template: &str) -> Result<Vec<Node>, String> {
    let mut stack: Vec<(Vec<Step>, Vec<Node>)> = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let Some(open) = rest.find('{') else {
            nodes.push(Node::Text(rest.to_string()));
            break;
        };
        if open > 0 {
            nodes.push(Node::Text(rest[..open].to_string()));
        }
        let body_start = &rest[open + 1..];
        let close = closing_brace(body_start).ok_or_else(|| format!("unclosed action in template {template:?}"))?;
        let body = body_start[..close].trim();
        rest = &body_start[close + 1..];
        if let Some(expr) = body.strip_prefix("range ") {
            stack.push((path(expr)?, std::mem::take(&mut nodes)));
        } else if body == "end" {
            let (steps, outer) = stack.pop().ok_or("{end} without {range}")?;
            let inner = std::mem::replace(&mut nodes, outer);
            nodes.push(Node::Range(steps, inner));
        } else if let Some(lit) = body.strip_prefix('"').and_then(|b| b.strip_suffix('"')) {
            nodes.push(Node::Text(unescape(lit)));
        } else {
            nodes.push(Node::Path(path(body)?));
        }
    }
    if !stack.is_empty() {
        return Err("{range} without {end}".into());
    }
    Ok(nodes)
}

/// The index of the `}` ending an action, skipping any inside a string literal.
fn closing_brace(s: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '}' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn path(expr: &str) -> Result<Vec<Step>, String> {
    let e = expr.trim();
    let e = e.strip_prefix('$').unwrap_or(e);
    let e = e.strip_prefix('@').unwrap_or(e);
    let mut steps = Vec::new();
    let mut rest = e;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(format!("unrecognized identifier in {expr:?}"));
            }
            steps.push(Step::Field(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| format!("unterminated [ in {expr:?}"))?;
            let inside = r[..end].trim();
            steps.push(match inside {
                "*" => Step::All,
                quoted if quoted.starts_with('\'') && quoted.ends_with('\'') && quoted.len() >= 2 => {
                    Step::Field(quoted[1..quoted.len() - 1].replace("\\.", "."))
                }
                n => Step::Index(n.parse().map_err(|_| format!("invalid array index {n:?} in {expr:?}"))?),
            });
            rest = &r[end + 1..];
        } else {
            return Err(format!(
                "unrecognized character in action: {expr:?} (paths start with a dot, like {{.metadata.name}})"
            ));
        }
    }
    Ok(steps)
}

fn select<'a>(data: &'a Value, steps: &[Step]) -> Vec<&'a Value> {
    let mut current = vec![data];
    for step in steps {
        current = current
            .into_iter()
            .flat_map(|v| -> Vec<&Value> {
                match (step, v) {
                    (Step::Field(f), Value::Object(m)) => m.get(f).into_iter().collect(),
                    (Step::Index(i), Value::Array(a)) => {
                        let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                        usize::try_from(idx).ok().and_then(|i| a.get(i)).into_iter().collect()
                    }
                    (Step::All, Value::Array(a)) => a.iter().collect(),
                    (Step::All, Value::Object(m)) => m.values().collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    current
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn run(nodes: &[Node], data: &Value, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(steps) => {
                let found: Vec<String> = select(data, steps).into_iter().map(text).collect();
                out.push_str(&found.join(" "));
            }
            Node::Range(steps, body) => {
                for item in select(data, steps) {
                    let items: Vec<&Value> = match item {
                        Value::Array(a) if steps.last() != Some(&Step::All) => a.iter().collect(),
                        other => vec![other],
                    };
                    for i in items {
                        run(body, i, out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_fields_indexes_wildcards_and_ranges() {
        let pod = json!({"metadata": {"name": "web-2", "labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.13.12"}, {"name": "side", "image": "busybox"}]}});
        assert_eq!(render("{.spec.containers[0].image}", &pod).unwrap(), "nginx:1.13.12");
        assert_eq!(render("{.spec.containers[*].name}", &pod).unwrap(), "nginx side");
        assert_eq!(render("{.spec.containers[-1].image}", &pod).unwrap(), "busybox");
        assert_eq!(render("name={.metadata.name}{\"\\n\"}", &pod).unwrap(), "name=web-2\n");
        assert_eq!(render("{.metadata.labels['app\\.kubernetes\\.io/name']}", &pod).unwrap(), "web");
        assert_eq!(render("{.spec.missing}", &pod).unwrap(), "");
        let list = json!({"items": [pod.clone(), {"metadata": {"name": "web-3"}, "spec": {"containers": [{"image": "nginx:1.30"}]}}]});
        assert_eq!(
            render("{range .items[*]}{.metadata.name}{\"\\t\"}{.spec.containers[0].image}{\"\\n\"}{end}", &list)
                .unwrap(),
            "web-2\tnginx:1.13.12\nweb-3\tnginx:1.30\n"
        );
        assert_eq!(render("{$.items[1].metadata.name}", &list).unwrap(), "web-3");
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(validate("{.spec").unwrap_err().contains("unclosed"));
        assert!(validate("{range .items[*]}{.a}").unwrap_err().contains("without {end}"));
        assert!(validate("{end}").unwrap_err().contains("without {range}"));
        assert!(validate("{spec.x}").unwrap_err().contains("start with a dot"));
        assert!(validate("{.items[x]}").unwrap_err().contains("invalid array index"));
    }
}
