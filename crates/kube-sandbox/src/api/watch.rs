//! Watches: a stream of newline-separated JSON events (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR)
//! resuming from a resourceVersion, with upstream's filtered-watch semantics and 410 Gone when the
//! requested version has left the history window.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::present::present;
use super::request::{Query, Target};
use super::{wants_table_of, ApiState};
use crate::error::{ApiError, ApiResult};
use crate::resources::ResourceType;
use crate::selector::{supported_fields, FieldSelector, LabelSelector};
use crate::store::{name_of, namespace_of, Change, ChangeKind, Subscription};
use crate::table::{self, IncludeObject};

/// How often bookmarks go out when a client allows them.
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

struct Filter {
    namespace: Option<String>,
    name: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, o: &Value) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace_of(o))
            && self.name.as_deref().is_none_or(|n| n == name_of(o))
            && self.labels.matches(o)
            && self.fields.matches(o)
    }
}

/// How events are written: plain objects or one-row Tables.
struct Encoder {
    rt: &'static ResourceType,
    table: Option<(&'static str, IncludeObject)>,
    clock: crate::clock::Clock,
}

impl Encoder {
    fn line(&self, kind: &str, obj: &Value) -> Bytes {
        let shown = present(self.rt, obj);
        let object = match self.table {
            Some((v, include)) => table::table(self.rt, &[&shown], include, self.clock.now(), None, v),
            None => shown.into_owned(),
        };
        let mut buf = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        buf.push(b'\n');
        Bytes::from(buf)
    }

    /// The line for a change, shared between watchers when it is sent unchanged.
    fn change_line(&self, kind: ChangeKind, c: &Change) -> Bytes {
        let shareable = self.table.is_none() && self.rt.group != "events.k8s.io" && kind == c.kind;
        if shareable {
            c.encoded.get_or_init(|| self.line(kind.as_str(), &c.object)).clone()
        } else {
            self.line(kind.as_str(), &c.object)
        }
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": meta});
        let mut buf = serde_json::to_vec(&json!({"type": "BOOKMARK", "object": obj})).unwrap_or_default();
        buf.push(b'\n');
        Bytes::from(buf)
    }
}

fn error_line(e: &ApiError) -> Bytes {
    let mut buf = serde_json::to_vec(&json!({"type": "ERROR", "object": e.status()})).unwrap_or_default();
    buf.push(b'\n');
    Bytes::from(buf)
}

/// What a change means to a filtered watcher: upstream turns "stopped matching" into DELETED
/// and "started matching" into ADDED.
fn filtered_kind(f: &Filter, c: &Change) -> Option<ChangeKind> {
    let now = f.matches(&c.object);
    match c.kind {
        ChangeKind::Added | ChangeKind::Deleted => now.then_some(c.kind),
        ChangeKind::Modified => {
            let before = c.prev.as_ref().is_some_and(|p| f.matches(p));
            match (before, now) {
                (true, true) => Some(ChangeKind::Modified),
                (false, true) => Some(ChangeKind::Added),
                (true, false) => Some(ChangeKind::Deleted),
                (false, false) => None,
            }
        }
    }
}

pub(super) fn watch(st: &ApiState, t: &Target, q: &Query, headers: &HeaderMap) -> ApiResult<Response> {
    let filter = Filter {
        namespace: t.namespace.clone(),
        name: t.name.clone(),
        labels: LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?,
        fields: FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), supported_fields(t.rt.kind))?,
    };
    let table = match wants_table_of(headers) {
        Some(v) => Some((v, IncludeObject::parse(q.get("includeObject"))?)),
        None => None,
    };
    let enc = Encoder { rt: t.rt, table, clock: st.store.clock() };
    let bookmarks = q.flag("allowWatchBookmarks");
    let send_initial = q.get("sendInitialEvents").map(|v| v == "true");
    let timeout = match q.int("timeoutSeconds")? {
        Some(s) if s > 0 => Duration::from_secs(s as u64),
        // Upstream closes watches after a random 30 to 60 minutes.
        _ => Duration::from_secs(1800 + rand::random_range(0..1800)),
    };
    let rv: Option<u64> =
        match q.get("resourceVersion") {
            None | Some("0") => None,
            Some(v) => Some(v.parse().map_err(|_| {
                ApiError::bad_request(format!("resourceVersion: Invalid value: {v:?}: must be a number"))
            })?),
        };
    if send_initial == Some(true) && q.get("resourceVersionMatch") != Some("NotOlderThan") {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            vec![crate::error::Cause::forbidden(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            )],
        ));
    }

    let (tx, body_rx) = mpsc::channel::<Result<Bytes, Infallible>>(256);
    let mut first: Vec<Bytes> = Vec::new();
    let (rx, start_rv): (Subscription, u64) = if rv.is_none() || send_initial == Some(true) {
        let (items, at, rx) = st.store.list_and_subscribe(t.rt, t.namespace.as_deref());
        if send_initial != Some(false) {
            for o in items.iter().filter(|o| filter.matches(o)) {
                first.push(enc.line("ADDED", o));
            }
        }
        if send_initial == Some(true) {
            first.push(enc.bookmark(at, true));
        }
        (rx, at)
    } else {
        // The changes still in the history after `from` come first from the subscription.
        let from = rv.unwrap_or(0);
        match st.store.watch_from(Some(from)) {
            Ok(rx) => (rx, from),
            Err(oldest) => {
                // Upstream answers 200 with one ERROR event carrying 410 Gone; clients relist.
                let e = ApiError::expired(format!("too old resource version: {from} ({oldest})"));
                let line = error_line(&e);
                tokio::spawn(async move {
                    let _ = tx.send(Ok(line)).await;
                });
                return Ok(stream_response(body_rx));
            }
        }
    };
    tokio::spawn(pump(enc, filter, first, rx, tx, start_rv, bookmarks, timeout));
    Ok(stream_response(body_rx))
}

/// A watch that ends at once with one ERROR event, as upstream's watch answers a failure found
/// after the request was accepted.
pub(super) fn error_response(e: &ApiError) -> Response {
    let (tx, body_rx) = mpsc::channel::<Result<Bytes, Infallible>>(1);
    let _ = tx.try_send(Ok(error_line(e)));
    stream_response(body_rx)
}

fn stream_response(body_rx: mpsc::Receiver<Result<Bytes, Infallible>>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(ReceiverStream::new(body_rx)))
        .expect("static response parts")
}

#[allow(clippy::too_many_arguments)]
async fn pump(
    enc: Encoder,
    filter: Filter,
    first: Vec<Bytes>,
    mut rx: Subscription,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
    mut last: u64,
    bookmarks: bool,
    timeout: Duration,
) {
    for line in first {
        if tx.send(Ok(line)).await.is_err() {
            return;
        }
    }
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Ok(c) => {
                    if c.rv <= last {
                        continue;
                    }
                    last = c.rv;
                    if c.storage != enc.rt.storage {
                        continue;
                    }
                    if let Some(k) = filtered_kind(&filter, &c) {
                        if tx.send(Ok(enc.change_line(k, &c))).await.is_err() {
                            return;
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // This watcher fell too far behind: tell it to relist, as upstream does.
                    let e = ApiError::expired(format!("too old resource version: {last} (the watch fell behind)"));
                    let _ = tx.send(Ok(error_line(&e))).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick(), if bookmarks => {
                if tx.send(Ok(enc.bookmark(last, false))).await.is_err() {
                    return;
                }
            }
            _ = &mut deadline => return,
            _ = tx.closed() => return,
        }
    }
}
