//! The sandbox's controllers: StatefulSet, storage (provisioning, binding, reclaim,
//! pvc-protection), endpoints, scheduler, ServiceAccounts, and the garbage collector (`gc`).
//! Each is a [`driver::Reconciler`] run by the one [`driver::Driver`] loop, which the kubelet
//! runs in too: woken by the store's changes (no polling), resynced now and then. Every write
//! goes through `admission` as an API request's does, and they record upstream-style Events.

pub(crate) mod driver;
pub(crate) mod endpoints;
pub(crate) mod revision;
pub(crate) mod scheduler;
pub(crate) mod serviceaccounts;
pub(crate) mod statefulset;
pub(crate) mod storage;
#[cfg(test)]
mod tests;

pub(crate) use crate::events::Reporter;

use crate::error::ApiResult;

/// A write's result with 404 Not Found (the object went away meanwhile, nothing left to do)
/// as `None`; other errors stay errors, for the driver to retry.
pub(crate) fn unless_gone<T>(r: ApiResult<T>) -> ApiResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}
