//! The hub through its HTTP interface (`router(..).oneshot`): the
//! multi-organisation story on SQLite and on a real PostgreSQL, manual
//! reports, domain proofs against a real DNS server (rbldnsd on loopback),
//! tokens, pages and feeds, and hostile requests.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use outcry_bounce::{Blocklist, Family};
use outcry_hub::db::Db;
use outcry_hub::{AppState, Config, Fingerprint, SharedClaim, SharedTicket, router};
use outcry_incident::Verdict;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Hub {
    app: axum::Router,
}

impl Hub {
    fn new(db: Db, config: Config) -> Hub {
        Hub {
            app: router(AppState::new(db, config)),
        }
    }

    fn sqlite(config: Config) -> (Hub, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("hub.db").to_str().unwrap()).unwrap();
        (Hub::new(db, config), dir)
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn json(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (s, text) = self
            .call(method, uri, token, body.map(|b| b.to_string()))
            .await;
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn register(&self, name: &str) -> String {
        let (s, v) = self
            .json("POST", "/api/v1/orgs", None, Some(json!({ "name": name })))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_string()
    }
}

/// The fingerprint organisation `n` would share for the provider pool.
fn pool_fp(n: u64, ticket: &str) -> Fingerprint {
    let hash = |s: &str| outcry_hub::fingerprint::keyed_hash("shared-key", s);
    Fingerprint {
        version: 1,
        local_ref: hash(&format!("incident-{n}")),
        provider: Some("Microsoft 365 / Exchange Online Protection".into()),
        family: Family::Reputation,
        scope: "pool:40.107.22.0/24".into(),
        sending_ips: vec![format!("40.107.22.{}", 90 + n).parse().unwrap()],
        sending_ranges: vec!["40.107.22.0/24".into()],
        status_codes: vec!["5.7.1".into()],
        blocklists: vec![Blocklist::Spamhaus],
        rejecting_orgs: vec!["outlook.com".into(), hash(&format!("rcpt{n}.example"))],
        templates: vec![
            "550 5.7.1 Service unavailable; Client host [<ip>] blocked using zen.spamhaus.org"
                .into(),
        ],
        first_seen: 1_793_800_000 + n as i64 * 3600,
        last_seen: 1_793_900_000 + n as i64 * 3600,
        failures: 10 + n,
        recipient_domains: vec![hash("fabrikam.example"), hash(&format!("r{n}.example"))],
        verdict: Verdict::Provider,
        confidence: 0.9,
        ticket: Some(SharedTicket {
            number: ticket.into(),
            status: "open".into(),
        }),
        claims: vec![SharedClaim {
            fixed_at: 1_793_872_800,
            text: "resolved".into(),
        }],
    }
}

fn fp(f: &Fingerprint) -> Value {
    serde_json::to_value(f).unwrap()
}

/// Three organisations, the same provider IP block: one joint incident
/// with count 3 and their tickets; a fourth with an unrelated problem stays
/// apart; repeats never inflate the count.
async fn story(hub: &Hub) {
    let t: Vec<String> = futures_join(hub, &["Contoso", "Fabrikam", "Tailspin", "Woodgrove"]).await;

    let (s, first) = hub
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&t[0]),
            Some(fp(&pool_fp(1, "MS-111"))),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["organisations"], 1);
    assert_eq!(first["public"], false);
    let id = first["joint_incident"].as_i64().unwrap();

    // The same incident shared again, and a second incident of the same
    // organisation in the same block: still one organisation.
    let (s, again) = hub
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&t[0]),
            Some(fp(&pool_fp(1, "MS-111"))),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (again["organisations"].as_i64(), again["new"].as_bool()),
        (Some(1), Some(false))
    );
    let mut other = pool_fp(1, "MS-111");
    other.local_ref = outcry_hub::fingerprint::keyed_hash("shared-key", "another");
    let (_, more) = hub
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&t[0]),
            Some(fp(&other)),
        )
        .await;
    assert_eq!(more["organisations"], 1, "one vote per organisation");
    assert_eq!(more["joint_incident"].as_i64(), Some(id));

    let (_, second) = hub
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&t[1]),
            Some(fp(&pool_fp(2, "MS-222"))),
        )
        .await;
    assert_eq!(second["organisations"], 2);
    // Not public below k = 3: neither listed nor readable by outsiders.
    let (_, list) = hub.json("GET", "/api/v1/incidents", None, None).await;
    assert_eq!(list["incidents"], json!([]));
    let (s, _) = hub
        .json("GET", &format!("/api/v1/incidents/{id}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, mine) = hub
        .json("GET", &format!("/api/v1/incidents/{id}"), Some(&t[1]), None)
        .await;
    assert_eq!(s, StatusCode::OK, "a member sees its own incident");
    assert_eq!(mine["public"], false);

    let (_, third) = hub
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&t[2]),
            Some(fp(&pool_fp(3, "MS-333"))),
        )
        .await;
    assert_eq!(
        (third["organisations"].as_i64(), third["public"].as_bool()),
        (Some(3), Some(true))
    );

    // The fourth organisation: one recipient of its own refuses it.
    let mut unrelated = pool_fp(4, "X-1");
    unrelated.family = Family::Recipient;
    unrelated.scope = format!(
        "org:{}",
        outcry_hub::fingerprint::keyed_hash("k", "r4.example")
    );
    unrelated.provider = None;
    unrelated.blocklists = Vec::new();
    let (_, fourth) = hub
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&t[3]),
            Some(fp(&unrelated)),
        )
        .await;
    assert_ne!(fourth["joint_incident"].as_i64(), Some(id));
    assert_eq!(fourth["organisations"], 1);

    let (_, list) = hub.json("GET", "/api/v1/incidents", None, None).await;
    let incidents = list["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{list:#}");
    assert_eq!(incidents[0]["id"].as_i64(), Some(id));
    assert_eq!(incidents[0]["organisations"], 3);

    let (s, j) = hub
        .json("GET", &format!("/api/v1/incidents/{id}"), None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let e = &j["evidence"];
    assert_eq!(e["tickets"], json!(["MS-111", "MS-222", "MS-333"]));
    assert_eq!(e["sending_ranges"], json!(["40.107.22.0/24"]));
    assert_eq!(e["blocklists"], json!({"spamhaus": 3}));
    assert_eq!(
        e["recipient_domains"], 4,
        "fabrikam.example counted once across organisations"
    );
    assert_eq!(e["claims"][0]["organisations_failing_after"], 3);
    let text = e["escalation"].as_str().unwrap();
    assert!(
        text.starts_with(
            "3 organisations report the same delivery problem since 2026-11-04 14:46 UTC"
        ),
        "{text}"
    );
    assert!(text.contains("Tickets: MS-111, MS-222, MS-333."), "{text}");
    assert!(text.contains("40.107.22.0/24"), "{text}");
    assert!(
        text.contains("3 organisation(s) reported failures after that"),
        "{text}"
    );
    // Nothing in the public view says who the organisations are.
    let all = j.to_string();
    for name in ["Contoso", "Fabrikam", "Tailspin", "incident-1"] {
        assert!(!all.contains(name), "{name} leaked: {all}");
    }

    // Each organisation reads only its own submissions.
    let (_, subs) = hub
        .json("GET", "/api/v1/submissions", Some(&t[1]), None)
        .await;
    let subs = subs["submissions"].as_array().unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["data"]["ticket"]["number"], "MS-222");

    // The vendor acknowledges; only a member may record it.
    let (s, _) = hub
        .json(
            "POST",
            &format!("/api/v1/incidents/{id}/acknowledgement"),
            Some(&t[3]),
            Some(json!({"reference": "EX999"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = hub
        .json("POST", &format!("/api/v1/incidents/{id}/acknowledgement"), Some(&t[0]), Some(json!({"reference": "EX123456", "text": "Some users can't send mail to external recipients"})))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, j) = hub
        .json("GET", &format!("/api/v1/incidents/{id}"), None, None)
        .await;
    assert_eq!(j["acknowledged"]["reference"], "EX123456");
    assert!(
        j["evidence"]["escalation"]
            .as_str()
            .unwrap()
            .contains("Acknowledged as EX123456")
    );

    // Manual reports of the same provider join the automatic incident.
    let (s, m) = hub
        .json("POST", "/api/v1/reports", Some(&t[3]), Some(json!({
            "provider": "Microsoft 365", "service": "email",
            "symptom": "outbound mail to several customers refused", "started_at": 1_793_810_000, "ticket": "MS-444"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["joint_incident"].as_i64(), Some(id));
    assert_eq!(m["organisations"], 4);
    // A manual report about something else clusters on its own.
    let (_, console) = hub
        .json(
            "POST",
            "/api/v1/reports",
            Some(&t[3]),
            Some(json!({
            "provider": "Google Workspace", "service": "admin console",
            "symptom": "console does not load", "started_at": 1_793_810_000})),
        )
        .await;
    assert_ne!(console["joint_incident"].as_i64(), Some(id));
    assert_eq!(console["public"], false);

    // Pages and feeds.
    let (s, html) = hub.call("GET", "/", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/incidents/{id}\"")),
        "{html}"
    );
    assert!(
        !html.contains("admin console"),
        "non-public incidents stay off the list"
    );
    let (s, page) = hub
        .call("GET", &format!("/incidents/{id}"), None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("<svg") && page.contains("<circle"),
        "timeline chart"
    );
    assert!(page.contains("MS-444") && page.contains("EX123456"));
    let (s, feed) = hub
        .call(
            "GET",
            "/feeds/providers/microsoft-365-exchange-online-protection",
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        feed.starts_with("<?xml") && feed.contains(&format!("#{id} sending IPs 40.107.22.0/24")),
        "{feed}"
    );
    let (_, feed) = hub
        .call("GET", "/feeds/providers/google-workspace", None, None)
        .await;
    assert!(!feed.contains("<entry>"), "{feed}");
    let (_, feed) = hub
        .call("GET", &format!("/feeds/incidents/{id}"), None, None)
        .await;
    assert!(
        feed.contains("Acknowledged as EX123456")
            && feed.contains("Vendor: \u{201c}resolved\u{201d}"),
        "{feed}"
    );
}

async fn futures_join(hub: &Hub, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        out.push(hub.register(n).await);
    }
    out
}

#[tokio::test]
async fn three_organisations_one_joint_incident_on_sqlite() {
    let (hub, _dir) = Hub::sqlite(Config::default());
    story(&hub).await;
}

/// PostgreSQL's synchronous client runs its own runtime: open and drop the
/// databases outside the test's runtime.
#[test]
fn three_organisations_one_joint_incident_on_postgres() {
    let Some(pg) = outcry_testsupport::pg_database("hub") else {
        return;
    };
    let hub = Hub::new(Db::open(&pg.url).unwrap(), Config::default());
    // A second hub process on the same database.
    let other = Hub::new(Db::open(&pg.url).unwrap(), Config::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        story(&hub).await;
        let (_, list) = other.json("GET", "/api/v1/incidents", None, None).await;
        assert_eq!(list["incidents"][0]["organisations"], 4, "{list}");
    });
    drop(rt);
}

/// Method, URI, token, body, the status wanted, and what the error says.
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<String>,
    StatusCode,
    &'a str,
);

#[tokio::test]
async fn hostile_and_malformed_requests_get_clear_4xx() {
    let (hub, _dir) = Hub::sqlite(Config {
        rate_per_org: 20,
        registrations_per_hour: 3,
        max_body: 4096,
        ..Config::default()
    });
    let t = hub.register("Contoso").await;
    let cases: Vec<Case> = vec![
        ("POST", "/api/v1/fingerprints", None, Some("{}".into()), StatusCode::UNAUTHORIZED, "Bearer"),
        ("POST", "/api/v1/fingerprints", Some("oc_nope"), Some("{}".into()), StatusCode::UNAUTHORIZED, "unknown or revoked"),
        ("POST", "/api/v1/fingerprints", Some(&t), Some("{not json".into()), StatusCode::BAD_REQUEST, "invalid JSON"),
        ("POST", "/api/v1/fingerprints", Some(&t), Some("[]".into()), StatusCode::BAD_REQUEST, "invalid JSON"),
        ("POST", "/api/v1/fingerprints", Some(&t), Some("x".repeat(10_000)), StatusCode::PAYLOAD_TOO_LARGE, ""),
        ("GET", "/api/v1/incidents/abc", None, None, StatusCode::BAD_REQUEST, "not an incident id"),
        ("GET", "/api/v1/incidents/-1", None, None, StatusCode::BAD_REQUEST, "not an incident id"),
        ("GET", "/api/v1/incidents/99999999999999999999", None, None, StatusCode::BAD_REQUEST, "not an incident id"),
        ("GET", "/api/v1/incidents?limit=x", None, None, StatusCode::BAD_REQUEST, ""),
        ("GET", "/api/v1/incidents?evil=1", None, None, StatusCode::BAD_REQUEST, ""),
        ("GET", "/nowhere", None, None, StatusCode::NOT_FOUND, "openapi"),
        ("POST", "/api/v1/orgs", None, Some(json!({"name": ""}).to_string()), StatusCode::UNPROCESSABLE_ENTITY, "name"),
        ("POST", "/api/v1/orgs", None, Some(json!({"name": "x", "admin": true}).to_string()), StatusCode::BAD_REQUEST, "unknown field"),
        ("POST", "/api/v1/orgs/me/domain", Some(&t), Some(json!({"domain": "not a domain"}).to_string()), StatusCode::UNPROCESSABLE_ENTITY, "not a domain"),
        ("POST", "/api/v1/orgs/me/domain/verify", Some(&t), None, StatusCode::CONFLICT, "no pending"),
        ("POST", "/api/v1/reports", Some(&t), Some(json!({"provider": "M", "service": "email", "symptom": "mail to bob@example.com", "started_at": 1_793_800_000}).to_string()), StatusCode::UNPROCESSABLE_ENTITY, "address"),
    ];
    for (method, uri, token, body, want, says) in cases {
        let (s, text) = hub.call(method, uri, token, body.clone()).await;
        assert_eq!(s, want, "{method} {uri} {body:?}: {text}");
        assert!(
            text.contains(says),
            "{method} {uri}: {text:?} should say {says:?}"
        );
    }

    // Wrong content type.
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/orgs")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{\"name\":\"x\"}"))
        .unwrap();
    let resp = hub.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Fingerprints that would leak: a recipient domain in clear, an
    // address in a template, a private rejecting host in clear.
    let mut leaks = Vec::new();
    let mut f = pool_fp(1, "T");
    f.recipient_domains = vec!["fabrikam.example".into()];
    leaks.push((f, "recipient_domains"));
    let mut f = pool_fp(1, "T");
    f.templates = vec!["550 <kijitora@fabrikam.example> blocked".into()];
    leaks.push((f, "templates"));
    let mut f = pool_fp(1, "T");
    f.rejecting_orgs = vec!["fabrikam.example".into()];
    leaks.push((f, "rejecting_orgs"));
    let mut f = pool_fp(1, "T");
    f.last_seen = f.first_seen - 1;
    leaks.push((f, "last_seen"));
    let mut f = pool_fp(1, "T");
    f.scope = "pool:not-a-range".into();
    leaks.push((f, "scope"));
    for (f, field) in leaks {
        let (s, v) = hub
            .json("POST", "/api/v1/fingerprints", Some(&t), Some(fp(&f)))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {v}");
        assert!(v["error"].as_str().unwrap().starts_with(field), "{v}");
    }

    // Per-organisation rate limit: 20 writes a minute in this hub.
    let limited = hub.register("Limited").await;
    for i in 0..20 {
        let (s, v) = hub
            .json(
                "POST",
                "/api/v1/fingerprints",
                Some(&limited),
                Some(fp(&pool_fp(i, "T"))),
            )
            .await;
        assert!(s.is_success(), "{i}: {v}");
    }
    let (s, v) = hub
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&limited),
            Some(fp(&pool_fp(1, "T"))),
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    // Registrations per address: 3 an hour.
    hub.register("Three").await;
    let (s, _) = hub
        .json("POST", "/api/v1/orgs", None, Some(json!({"name": "Four"})))
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn tokens_rotate_and_revoke() {
    let (hub, _dir) = Hub::sqlite(Config::default());
    let t = hub.register("Contoso").await;
    let (s, v) = hub
        .json("POST", "/api/v1/orgs/me/token", Some(&t), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let t2 = v["token"].as_str().unwrap().to_string();
    let (s, _) = hub.json("GET", "/api/v1/submissions", Some(&t), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the old token no longer works");
    let (s, _) = hub
        .json("GET", "/api/v1/submissions", Some(&t2), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = hub
        .json("DELETE", "/api/v1/orgs/me/token", Some(&t2), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = hub
        .json("GET", "/api/v1/submissions", Some(&t2), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn domain_proofs_through_a_real_dns_server_and_one_vote_per_domain() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("hub.db").to_str().unwrap()).unwrap();
    // Register first, to learn the challenge, then serve it.
    let pre = Hub::new(db, Config::default());
    let a = pre.register("Contoso").await;
    let b = pre.register("Contoso again").await;
    let (_, ch) = pre
        .json(
            "POST",
            "/api/v1/orgs/me/domain",
            Some(&a),
            Some(json!({"domain": "contoso.example"})),
        )
        .await;
    assert_eq!(ch["txt_name"], "_outcry-verify.contoso.example");
    // An internationalised name is proved in its DNS (A-label) form, in
    // any case.
    let (s, idn) = pre
        .json(
            "POST",
            "/api/v1/orgs/me/domain",
            Some(&b),
            Some(json!({"domain": "Bücher.Example."})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{idn}");
    assert_eq!(idn["txt_name"], "_outcry-verify.xn--bcher-kva.example");
    let value = ch["txt_value"].as_str().unwrap().to_string();
    let zone = format!("_outcry-verify TXT \"{value}\"\n");
    let dns = outcry_testsupport::rbldnsd(&[("contoso.example", "generic", zone.as_str())]);
    let hub = Hub::new(
        Db::open(dir.path().join("hub.db").to_str().unwrap()).unwrap(),
        Config {
            resolver: Some(format!("127.0.0.1:{}", dns.port).parse().unwrap()),
            ..Config::default()
        },
    );
    let (s, v) = hub
        .json("POST", "/api/v1/orgs/me/domain/verify", Some(&a), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["verified_domain"], "contoso.example");

    // The second registration of the same organisation cannot prove the
    // same domain: its challenge is not published, and even if it were,
    // the domain is taken.
    hub.json(
        "POST",
        "/api/v1/orgs/me/domain",
        Some(&b),
        Some(json!({"domain": "contoso.example"})),
    )
    .await;
    let (s, v) = hub
        .json("POST", "/api/v1/orgs/me/domain/verify", Some(&b), None)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("does not hold"),
        "{v}"
    );

    // A verified organisation is counted as such in joint incidents.
    let (_, f) = hub
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&a),
            Some(fp(&pool_fp(1, "T"))),
        )
        .await;
    let id = f["joint_incident"].as_i64().unwrap();
    let (_, j) = hub
        .json("GET", &format!("/api/v1/incidents/{id}"), Some(&a), None)
        .await;
    assert_eq!(j["verified_organisations"], 1, "{j}");

    // A hub that wants two verified organisations among k = 2: the
    // verified one and an unverified one are not enough.
    let strict = Hub::new(
        Db::open(dir.path().join("hub.db").to_str().unwrap()).unwrap(),
        Config {
            k: 2,
            min_verified: 2,
            ..Config::default()
        },
    );
    let (_, f) = strict
        .json(
            "POST",
            "/api/v1/fingerprints",
            Some(&b),
            Some(fp(&pool_fp(2, "T2"))),
        )
        .await;
    assert_eq!(
        (f["organisations"].as_i64(), f["public"].as_bool()),
        (Some(2), Some(false)),
        "{f}"
    );
    let (_, list) = strict.json("GET", "/api/v1/incidents", None, None).await;
    assert_eq!(list["incidents"], json!([]), "{list}");
    let lenient = Hub::new(
        Db::open(dir.path().join("hub.db").to_str().unwrap()).unwrap(),
        Config {
            k: 2,
            min_verified: 1,
            ..Config::default()
        },
    );
    let (_, list) = lenient.json("GET", "/api/v1/incidents", None, None).await;
    assert_eq!(list["incidents"][0]["organisations"], 2, "{list}");
}

#[tokio::test]
async fn every_documented_path_is_served() {
    let (hub, _dir) = Hub::sqlite(Config::default());
    let doc: Value = serde_json::from_str(outcry_hub::api_document()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15);
    for (path, ops) in paths {
        let uri = path.replace("{id}", "1").replace("{slug}", "microsoft-365");
        for method in ops.as_object().unwrap().keys() {
            let (s, text) = hub.call(&method.to_uppercase(), &uri, None, None).await;
            assert!(
                !text.contains("no such page or endpoint"),
                "{method} {path} is documented but not served ({s})"
            );
        }
    }
}

#[tokio::test]
async fn the_manual_report_form() {
    let (hub, _dir) = Hub::sqlite(Config::default());
    let t = hub.register("Contoso").await;
    let (s, form) = hub.call("GET", "/report", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("<form method=\"post\" action=\"/report\">"));
    let post = |body: String| {
        let app = hub.app.clone();
        async move {
            let req = Request::builder()
                .method("POST")
                .uri("/report")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    let (s, page) = post(format!(
        "token={t}&provider=Microsoft+365&service=admin+console&symptom=does+not+load&started=2026-11-05T08%3A00&ticket=MS-9"
    ))
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains(
            "Your report joined incident #1 with 1 organisation(s); it becomes public at 3 organisations"
        ),
        "{page}"
    );
    let (_, subs) = hub.json("GET", "/api/v1/submissions", Some(&t), None).await;
    assert_eq!(subs["submissions"][0]["data"]["started_at"], 1_793_865_600);
    assert_eq!(subs["submissions"][0]["data"]["ticket"], "MS-9");

    let (s, page) = post("provider=x".into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("the form is incomplete"), "{page}");
    let (s, page) =
        post("token=oc_wrong&provider=a&service=b&symptom=c&started=2026-11-05T08%3A00".into())
            .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{page}");
    let (s, page) = post(format!(
        "token={t}&provider=a&service=b&symptom=c&started=yesterday"
    ))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("started: &quot;yesterday&quot;"), "{page}");
}

#[tokio::test]
async fn rate_limits_by_client_behind_a_trusted_proxy() {
    let (hub, _dir) = Hub::sqlite(Config {
        rate_per_ip: 2,
        trust_forwarded_for: true,
        ..Config::default()
    });
    let get = |xff: &'static str| {
        let app = hub.app.clone();
        async move {
            let req = Request::builder()
                .uri("/healthz")
                .header("x-forwarded-for", xff)
                .body(Body::empty())
                .unwrap();
            app.oneshot(req).await.unwrap().status()
        }
    };
    // The client can prepend anything; the proxy's last entry counts.
    assert_eq!(get("1.1.1.1, 198.51.100.7").await, StatusCode::OK);
    assert_eq!(get("2.2.2.2, 198.51.100.7").await, StatusCode::OK);
    assert_eq!(
        get("3.3.3.3, 198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        get("198.51.100.8").await,
        StatusCode::OK,
        "another client has its own budget"
    );
}
