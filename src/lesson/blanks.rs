//! The `???` blanks of an editor starter: where they are (for the editor to highlight and jump
//! between), and which blank a grading concern points at (through each blank's `fills`).

use super::model::{Starter, BLANK};

/// One `???` in a text: 0-based line, 0-based column in characters, length in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlankPos {
    pub line: usize,
    pub column: usize,
    pub len: usize,
}

/// Every `???` in `text`, in order. A run of more than three `?` counts once (`????` is still
/// one blank the learner has not filled).
pub fn find_blanks(text: &str) -> Vec<BlankPos> {
    let mut found = Vec::new();
    for (line, content) in text.lines().enumerate() {
        let chars: Vec<char> = content.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '?' {
                let start = i;
                while i < chars.len() && chars[i] == '?' {
                    i += 1;
                }
                if i - start >= BLANK.len() {
                    found.push(BlankPos { line, column: start, len: i - start });
                }
            } else {
                i += 1;
            }
        }
    }
    found
}

/// Whether `field` is `prefix` itself or lies inside it (`spec.a[0].b` is inside `spec.a`).
fn within(field: &str, prefix: &str) -> bool {
    field == prefix || field.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// The blank of `starter` that a concern about `object` (`StatefulSet/web`) at `field`
/// (`spec.serviceName`) points at: a blank that fills exactly that field, else one that fills
/// a field inside it, else one whose field contains it. `None` when the starter does not
/// describe that object.
pub fn blank_for_field(starter: &Starter, object: Option<&str>, field: &str) -> Option<usize> {
    if let Some(object) = object {
        // A starter whose name is a blank (`Service/???`) describes that kind's object, whatever
        // the learner called it.
        let kind = object.split_once('/').map_or(object, |(k, _)| k);
        let describes =
            |o: &String| o == object || o.split_once('/').is_some_and(|(k, name)| k == kind && name.contains(BLANK));
        if !starter.objects.iter().any(describes) {
            return None;
        }
    }
    let fills = |pred: &dyn Fn(&str) -> bool| starter.blanks.iter().position(|b| b.fills.iter().any(|f| pred(f)));
    fills(&|f| f == field).or_else(|| fills(&|f| within(f, field))).or_else(|| fills(&|f| within(field, f)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::model::Blank;

    #[test]
    fn finds_each_blank_with_its_position() {
        let text = "a: ???\n  ???: ???\nname: \"???\"\nq: what?\nr: ????\n";
        let found = find_blanks(text);
        assert_eq!(
            found,
            [
                BlankPos { line: 0, column: 3, len: 3 },
                BlankPos { line: 1, column: 2, len: 3 },
                BlankPos { line: 1, column: 7, len: 3 },
                BlankPos { line: 2, column: 7, len: 3 },
                BlankPos { line: 4, column: 3, len: 4 },
            ]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(find_blanks("é: ???"), [BlankPos { line: 0, column: 3, len: 3 }]);
    }

    fn starter() -> Starter {
        let blank =
            |fills: &[&str]| Blank { fills: fills.iter().map(ToString::to_string).collect(), ..Default::default() };
        Starter {
            file_name: "web.yaml".into(),
            text: String::new(),
            blanks: vec![
                blank(&["spec.serviceName"]),
                blank(&["spec.selector.matchLabels"]),
                blank(&["spec.selector.matchLabels.app"]),
                blank(&["spec.template.spec.containers[0].ports[0].name"]),
            ],
            objects: vec!["StatefulSet/web".into()],
        }
    }

    #[test]
    fn maps_a_concern_to_its_blank() {
        let s = starter();
        let sts = Some("StatefulSet/web");
        assert_eq!(blank_for_field(&s, sts, "spec.serviceName"), Some(0));
        assert_eq!(blank_for_field(&s, sts, "spec.selector.matchLabels.app"), Some(2));
        assert_eq!(blank_for_field(&s, sts, "spec.selector"), Some(1));
        assert_eq!(blank_for_field(&s, sts, "spec.template.spec.containers[0].ports[0].name"), Some(3));
        assert_eq!(blank_for_field(&s, sts, "spec.template.spec.containers[0].ports[0].containerPort"), None);
        assert_eq!(blank_for_field(&s, sts, "spec.serviceNameX"), None);
        assert_eq!(blank_for_field(&s, Some("Service/nginx"), "spec.serviceName"), None);
    }

    #[test]
    fn a_starter_named_by_a_blank_describes_any_name_of_its_kind() {
        let mut s = starter();
        s.objects = vec!["Service/???".into()];
        s.blanks[0].fills = vec!["spec.clusterIP".into()];
        assert_eq!(blank_for_field(&s, Some("Service/frontend"), "spec.clusterIP"), Some(0));
        assert_eq!(blank_for_field(&s, Some("StatefulSet/frontend"), "spec.clusterIP"), None);
    }
}
