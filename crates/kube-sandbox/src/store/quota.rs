//! Per-namespace limits on what is stored, for the namespaces of workshop attendees: how many
//! objects and how many bytes of object text, so that one attendee cannot fill a shared
//! sandbox's memory. Like upstream's ResourceQuota admission, a create or a growth over the
//! limit is refused with 403 Forbidden naming what was requested, used and allowed; deletes
//! and shrinking writes always pass. The store counts usage in its commit.

use super::State;
use crate::error::{ApiError, ApiResult};
use crate::resources::ResourceType;

/// The name the refusals give, as a ResourceQuota's name would be given.
const NAME: &str = "kubetutor-attendee";

/// Objects an attendee's namespace may hold: the lesson needs a few dozen (its pods, claims,
/// revisions and their Events), a busy attendee a few hundred.
pub const ATTENDEE_OBJECTS: usize = 1_000;
/// Bytes of object text an attendee's namespace may hold (the lesson's objects are about 5 KB
/// each); 31 attendees at the limit hold 496 MiB.
pub const ATTENDEE_OBJECT_BYTES: usize = 16 << 20;

/// What a namespace may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    pub objects: usize,
    pub bytes: usize,
}

/// What a namespace with a quota holds now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Usage {
    pub objects: usize,
    pub bytes: usize,
}

impl State {
    /// Whether `ns` may take `new_objects` more objects and grow by `growth` bytes.
    pub(super) fn admit_usage(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        new_objects: usize,
        growth: isize,
    ) -> ApiResult<()> {
        let Some(quota) = self.quotas.get(ns) else { return Ok(()) };
        let used = self.usage.get(ns).copied().unwrap_or_default();
        let refuse = |what: &str, requested: usize, used: usize, limited: usize| {
            ApiError::forbidden(format!(
                "{} \"{name}\" is forbidden: exceeded quota: {NAME}, requested: {what}={requested}, used: \
                 {what}={used}, limited: {what}={limited} (each attendee's namespace of a workshop sandbox is \
                 limited)",
                rt.plural
            ))
        };
        if new_objects > 0 && used.objects + new_objects > quota.objects {
            return Err(refuse("count/objects", new_objects, used.objects, quota.objects));
        }
        if growth > 0 && used.bytes + growth.unsigned_abs() > quota.bytes {
            return Err(refuse("sandbox.kubetutor.dev/object-bytes", growth.unsigned_abs(), used.bytes, quota.bytes));
        }
        Ok(())
    }

    /// Count a committed change of `ns`: objects added (or removed) and bytes.
    pub(super) fn count_usage(&mut self, ns: &str, objects: isize, bytes: isize) {
        if !self.quotas.contains_key(ns) {
            return;
        }
        let u = self.usage.entry(ns.to_string()).or_default();
        u.objects = u.objects.saturating_add_signed(objects);
        u.bytes = u.bytes.saturating_add_signed(bytes);
    }
}
