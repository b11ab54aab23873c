//! How a stored object is shown in the group-version asked for: core Events rewritten as
//! events.k8s.io/v1, everything else as stored. The get, list and watch handlers call it;
//! Tables are built in `crate::table`.

use std::borrow::Cow;

use serde_json::{json, Value};

use crate::resources::ResourceType;

/// The object in the shape of `rt` (only events differ between their two APIs).
pub(super) fn present<'a>(rt: &ResourceType, obj: &'a Value) -> Cow<'a, Value> {
    if rt.group == "events.k8s.io" {
        Cow::Owned(event_v1(obj))
    } else {
        Cow::Borrowed(obj)
    }
}

/// A core/v1 Event as events.k8s.io/v1 names its fields.
fn event_v1(e: &Value) -> Value {
    let mut out = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": e["metadata"],
        "regarding": e["involvedObject"],
        "reason": e["reason"],
        "note": e["message"],
        "type": e["type"],
        "action": e.get("action").cloned().unwrap_or_else(|| e["reason"].clone()),
        "reportingController": e.get("reportingComponent").cloned().unwrap_or_else(|| e["source"]["component"].clone()),
        "reportingInstance": e.get("reportingInstance").cloned().unwrap_or_else(|| e["source"]["host"].clone()),
        "eventTime": e.get("eventTime").cloned().unwrap_or(Value::Null),
        "deprecatedFirstTimestamp": e["firstTimestamp"],
        "deprecatedLastTimestamp": e["lastTimestamp"],
        "deprecatedCount": e["count"],
        "deprecatedSource": e["source"],
    });
    if let Some(m) = out.as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources;

    #[test]
    fn events_v1_renames_fields() {
        let e = json!({"metadata": {"name": "web.1"}, "involvedObject": {"kind": "StatefulSet", "name": "web"},
                       "reason": "SuccessfulCreate", "message": "create Pod web-0 in StatefulSet web successful",
                       "type": "Normal", "source": {"component": "statefulset-controller"}, "count": 1});
        let rt = resources::find("events.k8s.io", "v1", "events").unwrap();
        let v = present(rt, &e);
        assert_eq!(v["note"], "create Pod web-0 in StatefulSet web successful");
        assert_eq!(v["regarding"]["name"], "web");
        assert_eq!(v["reportingController"], "statefulset-controller");
        assert!(v.get("eventTime").is_none());
        let core = resources::kinds::events();
        assert_eq!(present(core, &e)["message"], e["message"]);
    }
}
