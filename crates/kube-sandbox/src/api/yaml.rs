//! YAML request bodies decoded at a bounded cost. `request::decode` calls in here. Two costs
//! are not bounded by the 3 MiB body limit alone: libyaml's scanner does work proportional to
//! the flow nesting level for every token, so a body of nothing but `[` takes minutes; and
//! aliases expand, so a small body can name a large anchor thousands of times. The first is
//! refused by a scan before libyaml sees the body, the second by a budget of values while the
//! document is built.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Deepest nesting of flow collections (`[`, `{`) a YAML body may have. Kubernetes objects
/// need fewer than 20 levels; serde_json and serde_yaml refuse more than 128 levels of any kind.
pub(super) const MAX_FLOW_DEPTH: usize = 100;

/// Values a document may expand to beyond one per byte of its body (aliases repeat their anchor).
const SPARE_VALUES: usize = 10_000;

/// Why a YAML body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(super) enum YamlError {
    #[error("yaml: exceeded max depth of {MAX_FLOW_DEPTH}")]
    TooDeep,
    #[error("yaml: document contains excessive aliasing")]
    TooManyValues,
    #[error("{0}")]
    Syntax(String),
}

/// Decode one YAML document into JSON, refusing deep flow nesting and alias bombs.
pub(super) fn decode(body: &[u8]) -> Result<Value, YamlError> {
    if flow_depth_exceeds(body, MAX_FLOW_DEPTH) {
        return Err(YamlError::TooDeep);
    }
    let budget = Budget { left: Cell::new(body.len() + SPARE_VALUES), exceeded: Cell::new(false) };
    match (&budget).deserialize(serde_yaml::Deserializer::from_slice(body)) {
        Ok(v) => Ok(v),
        Err(_) if budget.exceeded.get() => Err(YamlError::TooManyValues),
        Err(e) => Err(YamlError::Syntax(e.to_string())),
    }
}

/// Whether the flow collections of a YAML text may nest deeper than `limit`. Errs towards yes:
/// every `[` and `{` counts as an opening, wherever it is (in a string or a comment too), and a
/// closing bracket counts only where it surely is one: inside a flow collection, outside
/// quotes and comments. A wrong guess can only make the count too high, never too low, so a
/// body that passes cannot make libyaml's scanner slow. Real manifests pass by far: their
/// brackets balance.
pub(super) fn flow_depth_exceeds(body: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut prev = b'\n';
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        i += 1;
        if matches!(c, b'[' | b'{') {
            depth += 1;
            if depth > limit {
                return true;
            }
        }
        match quote {
            // An escaped character; counted like any other if it is an opening bracket.
            Some(b'"') if c == b'\\' => {
                if matches!(body.get(i), Some(b'[' | b'{')) {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                i += 1;
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if depth == 0 => {}
            None => match c {
                b']' | b'}' => depth -= 1,
                // A quote opens a quoted scalar at the start of a token; after other text it is
                // part of a plain scalar. Anything that may start a token counts as one.
                b'"' | b'\'' if prev.is_ascii_whitespace() || b"[{,:]}\"'".contains(&prev) => quote = Some(c),
                b'#' if prev.is_ascii_whitespace() => {
                    while i < body.len() && body[i] != b'\n' {
                        if matches!(body[i], b'[' | b'{') {
                            depth += 1;
                            if depth > limit {
                                return true;
                            }
                        }
                        i += 1;
                    }
                }
                _ => {}
            },
        }
        prev = c;
    }
    false
}

/// Builds a JSON value from any deserializer, spending one unit per value.
struct Budget {
    left: Cell<usize>,
    exceeded: Cell<bool>,
}

impl Budget {
    fn spend<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(n) => {
                self.left.set(n);
                Ok(())
            }
            None => {
                self.exceeded.set(true);
                Err(E::custom("document contains excessive aliasing"))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for &Budget {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &Budget {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.spend()?;
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.spend()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.spend()?;
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            self.spend()?;
            let v = map.next_value_seed(self)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn manifests_decode_as_before() {
        let text = "a: 1\nb: [x, 'y]', \"z}\", {c: d}]\n# [ comment\nd: |\n  f() { [ x ] }\ne: ~\nf: 1.5\n";
        assert_eq!(decode(text.as_bytes()).unwrap(), serde_yaml::from_str::<Value>(text).unwrap());
        assert_eq!(decode(b"[1, [2, [3]]]").unwrap(), json!([1, [2, [3]]]));
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        assert!(flow_depth_exceeds("[".repeat(101).as_bytes(), 100));
        assert!(!flow_depth_exceeds(format!("{}{}", "[".repeat(100), "]".repeat(100)).as_bytes(), 100));
        assert_eq!(decode("[".repeat(200_000).as_bytes()), Err(YamlError::TooDeep));
        assert_eq!(decode(format!("a: {}", "{a: ".repeat(200)).as_bytes()), Err(YamlError::TooDeep));
    }

    #[test]
    fn closing_brackets_in_quotes_and_comments_do_not_hide_nesting() {
        // libyaml sees 150 levels here: each `]` is inside a quoted scalar or a comment.
        for piece in ["[ \"]\" ", "['a]' ", "[ # ]\n ", "[\"\\\"]\" ", "[[]\"]\" "] {
            let body = piece.repeat(150);
            assert!(flow_depth_exceeds(body.as_bytes(), 100), "{piece:?}");
        }
    }

    #[test]
    fn alias_bombs_are_refused() {
        let bomb = format!("a: &a [{}]\nb: [{}]\n", "x, ".repeat(1000), "*a, ".repeat(1000));
        assert_eq!(decode(bomb.as_bytes()), Err(YamlError::TooManyValues));
        // A few aliases of a small anchor are fine.
        let ok = decode(b"a: &a {k: v}\nb: *a\nc: *a\n").unwrap();
        assert_eq!(ok["c"], json!({"k": "v"}));
    }
}
