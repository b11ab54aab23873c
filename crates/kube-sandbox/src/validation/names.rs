//! Name, label and quantity rules, with upstream's messages word for word (learners see them in
//! `kubectl` errors and search for them).

use serde_json::{json, Value};

use crate::error::Cause;

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| lower_alnum(c) || c == '-')
        && s.starts_with(lower_alnum)
        && s.ends_with(lower_alnum)
}

fn too_long(max: usize) -> String {
    format!("must be no more than {max} characters")
}

pub(crate) fn dns1123_label(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 63 {
        out.push(too_long(63));
    }
    if !is_label(s) {
        out.push(LABEL_MSG.to_string());
    }
    out
}

pub(crate) fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 253 {
        out.push(too_long(253));
    }
    if !s.split('.').all(is_label) {
        out.push(SUBDOMAIN_MSG.to_string());
    }
    out
}

pub(crate) fn dns1035_label(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 63 {
        out.push(too_long(63));
    }
    if !is_label(s) || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.push(DNS1035_MSG.to_string());
    }
    out
}

fn is_name_part(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    !s.is_empty()
        && s.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        && s.starts_with(alnum)
        && s.ends_with(alnum)
}

/// Problems with a label key (`prefix/name` or `name`).
fn qualified_name(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            out.push("prefix part must be non-empty".to_string());
        } else {
            out.extend(dns1123_subdomain(p).into_iter().map(|m| format!("prefix part {m}")));
        }
    }
    if name.is_empty() {
        out.push("name part must be non-empty".to_string());
    } else {
        if name.len() > 63 {
            out.push(format!("name part {}", too_long(63)));
        }
        if !is_name_part(name) {
            out.push(QUALIFIED_NAME_MSG.to_string());
        }
    }
    out
}

/// Check a label map's keys and values.
pub(crate) fn labels(map: &Value, path: &str, causes: &mut Vec<Cause>) {
    let Some(m) = map.as_object() else { return };
    for (k, v) in m {
        for p in qualified_name(k) {
            causes.push(Cause::invalid(path, &json!(k), p));
        }
        let value = v.as_str().unwrap_or("");
        if value.len() > 63 {
            causes.push(Cause::invalid(path, &json!(value), too_long(63)));
        }
        if !value.is_empty() && !is_name_part(value) {
            causes.push(Cause::invalid(path, &json!(value), LABEL_VALUE_MSG));
        }
    }
}

/// Whether `s` is a resource quantity (`1Gi`, `500m`, `1e3`).
pub(crate) fn is_quantity(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return false;
    }
    matches!(suffix, "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E")
        || suffix.strip_prefix(['e', 'E']).is_some_and(|e| {
            !e.is_empty() && e.strip_prefix(['+', '-']).unwrap_or(e).chars().all(|c| c.is_ascii_digit())
        })
}

/// A quantity in bytes (`1Gi`, `500M`, `1e9`), rounded down; `None` if it is not one or is
/// negative. Fractions of the binary and decimal suffixes are allowed (`1.5Gi`).
pub(crate) fn quantity_bytes(s: &str) -> Option<u64> {
    if !is_quantity(s) || s.starts_with('-') {
        return None;
    }
    let s = s.trim_start_matches('+');
    let digits = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits);
    let number: f64 = number.parse().ok()?;
    let scale: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        e => 10f64.powi(e[1..].parse::<i32>().ok()?.clamp(-400, 400)),
    };
    Some((number * scale).min(u64::MAX as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_in_bytes() {
        assert_eq!(quantity_bytes("1Gi"), Some(1 << 30));
        assert_eq!(quantity_bytes("1.5Mi"), Some(3 << 19));
        assert_eq!(quantity_bytes("500M"), Some(500_000_000));
        assert_eq!(quantity_bytes("1e3"), Some(1000));
        assert_eq!(quantity_bytes("-1Gi"), None);
        assert_eq!(quantity_bytes("1GB"), None);
    }

    #[test]
    fn names() {
        assert!(dns1123_subdomain("web-0.nginx").is_empty());
        assert_eq!(dns1123_subdomain("Web"), [SUBDOMAIN_MSG]);
        assert!(dns1123_label("nginx").is_empty());
        assert_eq!(dns1123_label("a.b"), [LABEL_MSG]);
        assert_eq!(dns1035_label("1abc"), [DNS1035_MSG]);
        assert_eq!(dns1123_label(&"a".repeat(64)), [too_long(63)]);
    }

    #[test]
    fn label_keys_and_values() {
        let mut c = Vec::new();
        labels(
            &json!({"app": "nginx", "kubernetes.io/name": "x", "bad key": "v", "k": "-v"}),
            "metadata.labels",
            &mut c,
        );
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].display(), format!("metadata.labels: Invalid value: \"bad key\": {QUALIFIED_NAME_MSG}"));
        assert!(c[1].display().contains("\"-v\""), "{}", c[1].display());
    }

    #[test]
    fn quantities() {
        for ok in ["1Gi", "500m", "1", "1.5G", "1e3"] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "Gi", "1GB", "one", "1.2.3"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
