//! The HTTP API: thin handlers over [`AppState`]; storage work runs on the
//! blocking pool. Every error is a JSON `{"error": ...}` with a 4xx status
//! that says what to fix; a 500 only when the database fails.

use crate::db::{Db, DbError};
use crate::fingerprint::{Fingerprint, Invalid, ManualReport};
use crate::limits::Limits;
use crate::model::{self, Org, Submission};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// How a hub runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Organisations needed before a joint incident is public.
    pub k: i64,
    /// Of which at least this many with a proved domain.
    pub min_verified: i64,
    /// The resolver for domain proofs (default: the system's).
    pub resolver: Option<SocketAddr>,
    /// Requests per minute per client IP (0: no limit).
    pub rate_per_ip: u32,
    /// Submissions per minute per organisation (0: no limit).
    pub rate_per_org: u32,
    /// Registrations per hour per client IP (0: no limit).
    pub registrations_per_hour: u32,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Take the client's IP from the last `X-Forwarded-For` entry (only
    /// behind a reverse proxy that sets it).
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            k: 3,
            min_verified: 0,
            resolver: None,
            rate_per_ip: 600,
            rate_per_org: 60,
            registrations_per_hour: 10,
            max_body: 64 * 1024,
            trust_forwarded_for: false,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: Arc<Db>,
    pub(crate) config: Config,
    limits: Limits,
}

impl AppState {
    /// A hub over `db`.
    pub fn new(db: Db, config: Config) -> AppState {
        let limits = Limits::new(
            config.rate_per_ip,
            config.rate_per_org,
            config.registrations_per_hour,
        );
        AppState {
            inner: Arc::new(Inner {
                db: Arc::new(db),
                config,
                limits,
            }),
        }
    }

    /// When a joint incident is public.
    pub(crate) fn publish(&self) -> model::Publish {
        model::Publish {
            k: self.inner.config.k,
            min_verified: self.inner.config.min_verified,
        }
    }

    /// Run a unit of work on the database without holding a thread
    /// (SQLite's worker queue; PostgreSQL on the blocking pool).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn crate::db::Tx) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.inner.db.run(f).await.map_err(ApiError::from)
    }

    /// Run `f` on the database off the async threads.
    pub(crate) async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = self.inner.db.clone();
        match tokio::task::spawn_blocking(move || f(&db)).await {
            Ok(r) => r.map_err(ApiError::from),
            Err(e) => Err(ApiError::internal(e.to_string())),
        }
    }
}

/// An API error: a status and a message saying what to do.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    pub(crate) fn bad(msg: impl Into<String>) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, msg.into())
    }
    fn internal(detail: String) -> ApiError {
        eprintln!("outcry hub: internal error: {detail}");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the hub's database failed; try again later".into(),
        )
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Conflict => ApiError(StatusCode::CONFLICT, "already taken".into()),
            e => ApiError::internal(e.to_string()),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> ApiError {
        ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

/// A JSON body parsed strictly, with errors in our format.
pub(crate) fn parse<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|r| ApiError(r.status(), r.body_text()))?;
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return Err(ApiError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send JSON with Content-Type: application/json".into(),
        ));
    }
    serde_json::from_slice(&body).map_err(|e| ApiError::bad(format!("invalid JSON: {e}")))
}

/// The client's IP: the socket peer, or behind a trusted reverse proxy the
/// last address in `X-Forwarded-For` (the one the proxy added; earlier ones
/// are the client's to forge).
fn client_ip(req: &Request, trust_forwarded_for: bool) -> IpAddr {
    let forwarded = trust_forwarded_for
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    forwarded.unwrap_or_else(|| {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    })
}

async fn limit_ip(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req, s.inner.config.trust_forwarded_for);
    req.extensions_mut().insert(ClientIp(ip));
    if !s.inner.limits.ip(ip) {
        return ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this address; slow down".into(),
        )
        .into_response();
    }
    next.run(req).await
}

/// The organisation a bearer token belongs to; `write` applies the
/// per-organisation rate limit.
pub(crate) async fn org(s: &AppState, headers: &HeaderMap, write: bool) -> Result<Org, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| {
            ApiError(
                StatusCode::UNAUTHORIZED,
                "send your token as Authorization: Bearer <token> (POST /api/v1/orgs issues one)"
                    .into(),
            )
        })?
        .to_string();
    let found = s.db(move |db| model::authenticate(db, &token)).await?;
    let org = found
        .ok_or_else(|| ApiError(StatusCode::UNAUTHORIZED, "unknown or revoked token".into()))?;
    if write && !s.inner.limits.org(org.id) {
        return Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            "too many submissions from this organisation; slow down".into(),
        ));
    }
    Ok(org)
}

/// The app: API, pages and feeds.
pub fn router(state: AppState) -> Router {
    let max = state.inner.config.max_body;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/openapi.json", get(openapi))
        .route("/api/v1/orgs", post(register))
        .route("/api/v1/orgs/me/token", post(rotate).delete(revoke))
        .route("/api/v1/orgs/me/domain", post(domain))
        .route("/api/v1/orgs/me/domain/verify", post(verify))
        .route("/api/v1/fingerprints", post(fingerprint))
        .route("/api/v1/reports", post(report))
        .route("/api/v1/submissions", get(submissions))
        .route("/api/v1/incidents", get(incidents))
        .route("/api/v1/incidents/{id}", get(incident))
        .route(
            "/api/v1/incidents/{id}/acknowledgement",
            post(acknowledgement),
        )
        .merge(crate::pages::routes())
        .fallback(|| async {
            ApiError(
                StatusCode::NOT_FOUND,
                "no such page or endpoint; see /openapi.json".into(),
            )
        })
        .layer(DefaultBodyLimit::max(max))
        .layer(middleware::from_fn_with_state(state.clone(), limit_ip))
        .with_state(state)
}

/// The OpenAPI document (hand-written; `tests/api.rs` checks that it lists
/// every route).
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrg {
    name: String,
}

async fn register(
    State(s): State<AppState>,
    ConnectInfoOpt(ip): ConnectInfoOpt,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: NewOrg = parse(&headers, body)?;
    let name = req.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name: 1 to 100 printable characters".into(),
        ));
    }
    if !s.inner.limits.register(ip) {
        return Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            "too many registrations from this address; try again in an hour".into(),
        ));
    }
    let now = crate::now();
    let (id, token) = s.db(move |db| model::register(db, &name, now)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": id, "token": token,
            "note": "keep the token secret: it is shown once and stored only hashed",
        })),
    )
        .into_response())
}

/// The client IP the rate-limit layer settled on.
#[derive(Clone, Copy)]
struct ClientIp(IpAddr);

/// The client's IP (see `client_ip`), or 0.0.0.0 when unknown.
pub(crate) struct ConnectInfoOpt(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ConnectInfoOpt {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ConnectInfoOpt(
            parts
                .extensions
                .get::<ClientIp>()
                .map(|c| c.0)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

async fn rotate(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let o = org(&s, &headers, true).await?;
    let token = s.db(move |db| model::rotate_token(db, o.id, true)).await?;
    Ok(Json(json!({ "token": token })).into_response())
}

async fn revoke(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let o = org(&s, &headers, true).await?;
    s.db(move |db| model::rotate_token(db, o.id, false)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainReq {
    domain: String,
}

fn valid_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
        })
}

async fn domain(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let o = org(&s, &headers, true).await?;
    let req: DomainReq = parse(&headers, body)?;
    // An internationalised name is proved in its DNS form (the A-label,
    // "xn--..."): that is where its TXT record lives.
    let d = idna::domain_to_ascii(req.domain.trim().trim_end_matches('.')).unwrap_or_default();
    if !valid_domain(&d) {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("domain: {:?} is not a domain name", req.domain),
        ));
    }
    let d2 = d.clone();
    let value = s.db(move |db| model::challenge(db, o.id, &d2)).await?;
    Ok(Json(json!({
        "txt_name": format!("_outcry-verify.{d}"),
        "txt_value": value,
        "then": "POST /api/v1/orgs/me/domain/verify",
    }))
    .into_response())
}

async fn verify(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let o = org(&s, &headers, true).await?;
    let id = o.id;
    let Some((domain, want)) = s.db(move |db| model::pending_challenge(db, id)).await? else {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "no pending domain proof: POST /api/v1/orgs/me/domain first".into(),
        ));
    };
    let name = format!("_outcry-verify.{domain}");
    let config = outcry_reputation::CheckerConfig {
        resolver: s.inner.config.resolver,
        timeout: std::time::Duration::from_secs(3),
        attempts: 2,
        concurrency: 1,
        ptr: false,
    };
    let checker =
        outcry_reputation::Checker::new(outcry_reputation::Catalog { lists: Vec::new() }, &config)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    let found = checker.txt(&name).await.unwrap_or_default();
    if !found.iter().any(|t| t.trim() == want) {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "TXT {name} does not hold {want:?} yet (found {found:?}); publish it and try again"
            ),
        ));
    }
    let d = domain.clone();
    match s.db(move |db| model::mark_verified(db, id, &d)).await {
        Ok(()) => Ok(Json(json!({ "verified_domain": domain })).into_response()),
        Err(ApiError(StatusCode::CONFLICT, _)) => Err(ApiError(
            StatusCode::CONFLICT,
            format!("{domain} is already proved by another organisation: one domain, one vote"),
        )),
        Err(e) => Err(e),
    }
}

async fn fingerprint(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let o = org(&s, &headers, true).await?;
    let f: Fingerprint = parse(&headers, body)?;
    f.validate()?;
    let family = serde_json::to_value(f.family)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let key = model::key_of(&f);
    let (k, now) = (s.publish(), crate::now());
    let data = serde_json::to_string(&f).map_err(|e| ApiError::internal(e.to_string()))?;
    let filed = s
        .run(model::filing(
            Submission {
                org: o,
                key,
                kind: "fingerprint",
                local_ref: f.local_ref.clone(),
                provider: f.provider.clone(),
                family,
                scope: f.scope.clone(),
                first_seen: f.first_seen,
                last_seen: f.last_seen,
                data,
            },
            k,
            now,
        ))
        .await?;
    let status = if filed.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(filed)).into_response())
}

/// File a manual report for `o` (also used by the web form).
pub(crate) async fn file_manual(
    s: &AppState,
    o: Org,
    r: ManualReport,
) -> Result<model::Filed, ApiError> {
    r.validate()?;
    let key = model::manual_key(&r);
    let (k, now) = (s.publish(), crate::now());
    let data = serde_json::to_string(&r).map_err(|e| ApiError::internal(e.to_string()))?;
    s.run(model::filing(
        Submission {
            org: o,
            local_ref: format!("m:{key}:{}", r.started_at.div_euclid(86_400)),
            key,
            kind: "manual",
            provider: Some(r.provider.trim().to_string()),
            family: "manual".into(),
            scope: r.service.trim().to_lowercase(),
            first_seen: r.started_at,
            last_seen: now.max(r.started_at),
            data,
        },
        k,
        now,
    ))
    .await
}

async fn report(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let o = org(&s, &headers, true).await?;
    let r: ManualReport = parse(&headers, body)?;
    let filed = file_manual(&s, o, r).await?;
    Ok((StatusCode::CREATED, Json(filed)).into_response())
}

async fn submissions(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let o = org(&s, &headers, false).await?;
    let subs = s.db(move |db| model::own_submissions(db, o.id)).await?;
    Ok(Json(json!({ "submissions": subs })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    pub(crate) provider: Option<String>,
    pub(crate) limit: Option<i64>,
}

async fn incidents(
    State(s): State<AppState>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad(e.body_text()))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let k = s.publish();
    let list = s
        .db(move |db| model::public_joints(db, k, q.provider.as_deref(), limit))
        .await?;
    Ok(
        Json(json!({ "k": k.k, "min_verified": k.min_verified, "incidents": list }))
            .into_response(),
    )
}

/// A path id that is a positive integer, else a clear 400.
pub(crate) fn id_of(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::bad(format!("{raw:?} is not an incident id")))
}

async fn incident(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = id_of(&raw)?;
    let member = if headers.contains_key(header::AUTHORIZATION) {
        Some(org(&s, &headers, false).await?.id)
    } else {
        None
    };
    let k = s.publish();
    let found = s.db(move |db| model::joint(db, id, k, member)).await?;
    match found {
        Some(j) => Ok(Json(j).into_response()),
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no public incident {id} (an incident is public once {k} report it)"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckReq {
    reference: String,
    #[serde(default)]
    text: String,
}

async fn acknowledgement(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = id_of(&raw)?;
    let o = org(&s, &headers, true).await?;
    let a: AckReq = parse(&headers, body)?;
    let ok = |t: &str, max: usize| t.chars().count() <= max && !t.chars().any(char::is_control);
    if a.reference.trim().is_empty() || !ok(&a.reference, 64) || !ok(&a.text, 300) {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reference: 1 to 64 characters; text: up to 300; no control characters".into(),
        ));
    }
    let now = crate::now();
    let done = s
        .db(move |db| model::acknowledge(db, id, o.id, &a.reference, &a.text, now))
        .await?;
    if done {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("incident {id} has no report of yours; only members record acknowledgements"),
        ))
    }
}
