//! ControllerRevisions of a StatefulSet: the revision data (the pod template as a replace
//! patch), its hash (FNV-1 32-bit, then the collision count, in upstream's safe alphabet) and
//! the revision object. Equal templates give equal names; any template change a new one.

use serde_json::{json, Value};

use crate::store::{name_of, namespace_of, uid_of};

/// The revision's `data`: `{"spec":{"template":{...,"$patch":"replace"}}}`.
pub(crate) fn revision_data(sts: &Value) -> Value {
    let mut template = sts.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    template["$patch"] = json!("replace");
    json!({"spec": {"template": template}})
}

/// Serialize with object keys sorted at every level, so equal data hashes equally whatever the
/// order fields arrived in.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canonical(&m[*k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// FNV-1 (not 1a), 32-bit.
fn fnv1_32(data: &[u8], mut h: u32) -> u32 {
    for b in data {
        h = h.wrapping_mul(16_777_619);
        h ^= u32::from(*b);
    }
    h
}

/// upstream's SafeEncodeString: each character mapped into an alphabet without vowels or
/// look-alikes, so hashes never spell words.
fn safe_encode(s: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes().map(|b| ALPHABET[b as usize % ALPHABET.len()] as char).collect()
}

/// The revision hash of `data` with an optional collision count.
pub(crate) fn hash(data: &Value, collision_count: Option<i64>) -> String {
    let mut s = String::new();
    canonical(data, &mut s);
    let mut h = fnv1_32(s.as_bytes(), 2_166_136_261);
    if let Some(c) = collision_count {
        h = fnv1_32(c.to_string().as_bytes(), h);
    }
    safe_encode(&h.to_string())
}

/// A new ControllerRevision object for `sts` at revision number `revision`.
pub(crate) fn new_revision(sts: &Value, revision: i64, collision_count: Option<i64>) -> Value {
    let data = revision_data(sts);
    let h = hash(&data, collision_count);
    let mut labels = sts.pointer("/spec/template/metadata/labels").cloned().unwrap_or_else(|| json!({}));
    labels["controller.kubernetes.io/hash"] = json!(h);
    json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": format!("{}-{h}", name_of(sts)),
            "namespace": namespace_of(sts),
            "labels": labels,
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "StatefulSet", "name": name_of(sts),
                "uid": uid_of(sts), "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "data": data,
        "revision": revision,
    })
}

/// The pod template a revision holds.
pub(crate) fn template_of(revision: &Value) -> Value {
    let mut t = revision.pointer("/data/spec/template").cloned().unwrap_or_else(|| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(image: &str) -> Value {
        json!({"metadata": {"name": "web", "namespace": "default", "uid": "u"},
               "spec": {"template": {"metadata": {"labels": {"app": "nginx"}},
                                      "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
    }

    #[test]
    fn equal_templates_hash_equally_and_changes_do_not() {
        let a = hash(&revision_data(&sts("nginx:mainline")), None);
        assert_eq!(a, hash(&revision_data(&sts("nginx:mainline")), None));
        assert_ne!(a, hash(&revision_data(&sts("nginx:1.13.12")), None));
        assert_ne!(a, hash(&revision_data(&sts("nginx:mainline")), Some(1)));
        assert!(a.len() >= 8 && a.len() <= 10, "{a}");
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }

    #[test]
    fn key_order_does_not_matter() {
        let x: Value = serde_json::from_str(r#"{"a":1,"b":{"c":2,"d":3}}"#).unwrap();
        let y: Value = serde_json::from_str(r#"{"b":{"d":3,"c":2},"a":1}"#).unwrap();
        assert_eq!(hash(&x, None), hash(&y, None));
    }

    #[test]
    fn revision_object_round_trips_the_template() {
        let s = sts("nginx:mainline");
        let r = new_revision(&s, 1, None);
        assert!(r["metadata"]["name"].as_str().unwrap().starts_with("web-"));
        assert_eq!(r["metadata"]["labels"]["app"], "nginx");
        assert_eq!(template_of(&r), s["spec"]["template"]);
        assert_eq!(r["data"]["spec"]["template"]["$patch"], "replace");
    }

    #[test]
    fn fnv1_matches_reference_values() {
        // FNV-1 32-bit test vectors.
        assert_eq!(fnv1_32(b"", 2_166_136_261), 0x811c9dc5);
        assert_eq!(fnv1_32(b"a", 2_166_136_261), 0x050c5d7e);
    }
}
