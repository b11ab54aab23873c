//! The sandbox's HTTP API: bearer-token authentication, routing of Kubernetes REST paths to the
//! verbs, and every answer or error as upstream shapes it. Handlers never hold the store lock
//! across an await; a panic in one request becomes a 500 Status and the server keeps serving.

mod authz;
mod crud;
mod discovery;
mod logs;
mod portforward;
mod present;
mod protobuf;
mod request;
mod stream;
mod watch;
mod yaml;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures::FutureExt;
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::logs::Logs;
use super::store::Store;
use request::{parse_route, read_body, Query, Route, Target};

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    /// Full access (the sandbox's own kubeconfig).
    Admin,
    /// A workshop attendee: only its own namespace, as an attendee Role would allow.
    Attendee { namespace: String },
    /// A user no binding names, reached by impersonation: RBAC grants it nothing.
    User { name: String },
}

/// Bearer tokens the server accepts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Auth {
    tokens: HashMap<String, Identity>,
}

impl Auth {
    pub(crate) fn new() -> Self {
        Auth::default()
    }
    pub(crate) fn add(&mut self, token: String, who: Identity) {
        self.tokens.insert(token, who);
    }
    /// The identity whose user name is `name`, if a token of this server has it.
    fn by_user(&self, name: &str) -> Option<&Identity> {
        self.tokens.values().find(|who| authz::user(who) == name)
    }

    fn check(&self, headers: &HeaderMap) -> Option<&Identity> {
        let given = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        // Compare every token in full so timing says nothing about which prefix matched.
        self.tokens.iter().find(|(t, _)| constant_time_eq(t.as_bytes(), given.as_bytes())).map(|(_, who)| who)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct ApiState {
    pub store: Store,
    pub logs: Logs,
    pub auth: Arc<Auth>,
    /// The node's kubelet, for attach and exec.
    pub kubelet: super::kubelet::Kubelet,
    /// Slots for writes with large bodies, decoded on the blocking pool ([`DECODERS`] of them).
    pub decoders: Arc<tokio::sync::Semaphore>,
}

/// Writes with bodies up to this size are decoded where they arrive; it takes microseconds.
pub(crate) const INLINE_BODY: usize = 64 * 1024;

/// Writes with larger bodies decoded at once, each on a thread of the blocking pool, so that a
/// few 3 MiB bodies neither stall the async workers that answer everyone else nor start a
/// thread per request.
pub(crate) const DECODERS: usize = 2;

/// Run a write handler (decoding, admission, store) for a body of `len` bytes: inline when
/// small, else on the blocking pool once a decoder slot is free.
async fn decode_off_workers<F>(st: &ApiState, len: usize, f: F) -> ApiResult<Response>
where
    F: FnOnce() -> ApiResult<Response> + Send + 'static,
{
    if len <= INLINE_BODY {
        return f();
    }
    let _slot = st.decoders.acquire().await.map_err(|_| ApiError::internal("the sandbox is shutting down"))?;
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(ApiError::internal("an internal error occurred in the sandbox; the request was not applied"))
    })
}

/// The router serving the Kubernetes API for this state.
pub(crate) fn router(state: ApiState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(st): State<ApiState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(who) = st.auth.check(&parts.headers).cloned() else {
        return ApiError::unauthorized().into_response();
    };
    let who = match authz::impersonate(&who, &parts.headers, &st.auth) {
        Ok(who) => who,
        Err(e) => return e.into_response(),
    };
    // attach, exec and portforward upgrade the connection to a WebSocket: they need the whole request.
    if let Ok(Route::Resource(t)) = parse_route(parts.uri.path()) {
        if matches!(t.sub.as_deref(), Some("attach" | "exec" | "portforward")) && t.name.is_some() {
            if let Err(e) = authz::authorize(&who, &t, &Method::POST, &Query::default()) {
                return e.into_response();
            }
            let req = Request::from_parts(parts, body);
            let answer = if t.sub.as_deref() == Some("portforward") {
                portforward::portforward(&st, &t, req)
            } else {
                stream::stream(&st, &t, req)
            };
            return answer.unwrap_or_else(IntoResponse::into_response);
        }
    }
    let fut = dispatch(&st, &who, parts.method, parts.uri, parts.headers, body);
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => e.into_response(),
        Err(_) => {
            ApiError::internal("an internal error occurred in the sandbox; the request was not applied").into_response()
        }
    }
}

/// A JSON answer, with `Warning` headers for unknown fields under fieldValidation=Warn.
pub(crate) fn json_response(code: StatusCode, v: &Value, warnings: &[String]) -> Response {
    let mut b = Response::builder().status(code).header(http::header::CONTENT_TYPE, "application/json");
    for w in warnings {
        let text = format!("299 - {w:?}");
        if let Ok(h) = http::HeaderValue::from_str(&text) {
            b = b.header("Warning", h);
        }
    }
    b.body(Body::from(serde_json::to_vec(v).unwrap_or_default())).expect("static response parts")
}

/// Which Table version the Accept header asks for, if any.
pub(crate) fn wants_table_of(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(http::header::ACCEPT)?.to_str().ok()?;
    super::table::wants_table(accept)
}

fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed("the server does not allow this method on the requested resource")
}

async fn dispatch(
    st: &ApiState,
    who: &Identity,
    method: Method,
    uri: http::Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    if uri.path().trim_end_matches('/') == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
        if method != Method::POST {
            return Err(method_not_allowed());
        }
        let content_type = request::media_type(&headers, http::header::CONTENT_TYPE);
        let b = read_body(body).await?;
        let who = who.clone();
        return decode_off_workers(st, b.len(), move || {
            let asked = if content_type == protobuf::MEDIA_TYPE {
                protobuf::self_subject_access_review(&b)?
            } else {
                request::decode(&b, &content_type)?
            };
            let review = authz::self_subject_access_review(&who, &asked)?;
            Ok(json_response(StatusCode::CREATED, &review, &[]))
        })
        .await;
    }
    let route = parse_route(uri.path())?;
    let q = Query::parse(uri.query());
    let ok = |v: Value| Ok(json_response(StatusCode::OK, &v, &[]));
    let get_only = |m: &Method| if *m == Method::GET { Ok(()) } else { Err(method_not_allowed()) };
    match route {
        Route::Version => {
            get_only(&method)?;
            ok(discovery::version())
        }
        Route::Healthz => Ok((StatusCode::OK, "ok").into_response()),
        Route::ApiVersions => {
            get_only(&method)?;
            ok(discovery::api_versions())
        }
        Route::GroupList => {
            get_only(&method)?;
            ok(discovery::group_list())
        }
        Route::Group(g) => {
            get_only(&method)?;
            discovery::group(&g).map_or_else(|| Err(not_found()), ok)
        }
        Route::ResourceList { group, version } => {
            get_only(&method)?;
            discovery::resource_list(&group, &version).map_or_else(|| Err(not_found()), ok)
        }
        Route::OpenApiV3Index => {
            get_only(&method)?;
            ok(super::openapi::v3_index())
        }
        Route::OpenApiV3(path) => {
            get_only(&method)?;
            let doc = super::openapi::v3_document(&path).ok_or_else(not_found)?;
            Ok(json_response(StatusCode::OK, &doc, &[]))
        }
        Route::Resource(t) => {
            authz::authorize(who, &t, &method, &q)?;
            resource(st, &t, method, &q, &headers, body).await
        }
    }
}

/// How long a read waits for the store to reach the resourceVersion it asks for, as the watch
/// cache waits (waitUntilFreshAndBlock) before answering 504.
const FRESH_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Wait until the store has reached the `resourceVersion` a list asks for ("not older than"),
/// or answer 504 Too large resource version. `Exact` reads are checked by the list itself.
async fn fresh_enough(st: &ApiState, q: &Query) -> ApiResult<()> {
    let Some(wanted) = q.get("resourceVersion").and_then(|v| v.parse::<u64>().ok()).filter(|v| *v > 0) else {
        return Ok(());
    };
    if q.get("resourceVersionMatch") == Some("Exact") {
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + FRESH_WAIT;
    let mut changes = st.store.subscribe();
    while st.store.current_rv() < wanted {
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Ok(Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Err(_) | Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                return Err(ApiError::too_large_resource_version(wanted, st.store.current_rv(), Some(1)));
            }
        }
    }
    Ok(())
}

fn not_found() -> ApiError {
    ApiError::new(404, "NotFound", "the server could not find the requested resource")
}

fn verb_allowed(t: &Target, verb: &str) -> ApiResult<()> {
    if t.sub.is_none() && !t.rt.verbs.contains(&verb) {
        return Err(method_not_allowed());
    }
    Ok(())
}

async fn resource(
    st: &ApiState,
    t: &Target,
    method: Method,
    q: &Query,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let sub = t.sub.as_deref();
    let has_name = t.name.is_some();
    if t.rt.namespaced && t.namespace.is_none() && (has_name || method != Method::GET) {
        return Err(method_not_allowed());
    }
    match (method, has_name, sub) {
        (Method::GET, false, None) => {
            if q.flag("watch") {
                verb_allowed(t, "watch")?;
                // A plain watch from a future resourceVersion waits for changes after it, as
                // upstream's; one that first lists (sendInitialEvents) needs the list there.
                if q.get("sendInitialEvents") == Some("true") {
                    if let Err(e) = fresh_enough(st, q).await {
                        return Ok(watch::error_response(&e));
                    }
                }
                watch::watch(st, t, q, headers)
            } else {
                verb_allowed(t, "list")?;
                fresh_enough(st, q).await?;
                crud::list(st, t, q, headers)
            }
        }
        (Method::GET, true, None) => {
            verb_allowed(t, "get")?;
            if q.flag("watch") {
                watch::watch(st, t, q, headers)
            } else {
                crud::get(st, t, q, headers)
            }
        }
        (Method::GET, true, Some("status")) => crud::get(st, t, q, headers),
        (Method::GET, true, Some("scale")) => crud::get_scale(st, t),
        (Method::GET, true, Some("log")) => logs::logs(st, t, q).await,
        (Method::POST, false, None) => {
            verb_allowed(t, "create")?;
            let b = read_body(body).await?;
            let (s2, t, q, headers) = (st.clone(), t.clone(), q.clone(), headers.clone());
            decode_off_workers(st, b.len(), move || crud::create(&s2, &t, &q, &headers, &b)).await
        }
        (Method::POST, true, Some("binding")) => {
            let b = read_body(body).await?;
            let (s2, t, headers) = (st.clone(), t.clone(), headers.clone());
            decode_off_workers(st, b.len(), move || crud::bind(&s2, &t, &headers, &b)).await
        }
        (Method::PUT, true, None | Some("status" | "scale")) => {
            verb_allowed(t, "update")?;
            let b = read_body(body).await?;
            let (s2, t, q, headers) = (st.clone(), t.clone(), q.clone(), headers.clone());
            decode_off_workers(st, b.len(), move || crud::update(&s2, &t, &q, &headers, &b)).await
        }
        (Method::PATCH, true, None | Some("status" | "scale")) => {
            verb_allowed(t, "patch")?;
            let b = read_body(body).await?;
            let (s2, t, q, headers) = (st.clone(), t.clone(), q.clone(), headers.clone());
            decode_off_workers(st, b.len(), move || crud::patch(&s2, &t, &q, &headers, &b)).await
        }
        (Method::DELETE, true, None) => {
            verb_allowed(t, "delete")?;
            let b = read_body(body).await?;
            let (s2, t, q) = (st.clone(), t.clone(), q.clone());
            decode_off_workers(st, b.len(), move || crud::delete(&s2, &t, &q, &b)).await
        }
        (Method::DELETE, false, None) => {
            verb_allowed(t, "deletecollection")?;
            let b = read_body(body).await?;
            let (s2, t, q) = (st.clone(), t.clone(), q.clone());
            decode_off_workers(st, b.len(), move || crud::delete_collection(&s2, &t, &q, &b)).await
        }
        _ => Err(method_not_allowed()),
    }
}
