//! `outcry share` and `outcry hub ...`: the client side of the hub, and
//! `outcry hub serve`, the hub itself.

use crate::{CheckFormat, HubCmd, ShareArgs, incidents};
use anyhow::{Context as _, bail};
use outcry_hub::db::Db;
use outcry_hub::fingerprint::{Fingerprint, SharedClaim, SharedTicket};
use outcry_hub::model::key_of;
use outcry_incident::{Incident, State, Thresholds, detect};
use outcry_store::Ticket;
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// The share key used when none is set: public, so it only keeps domains
/// from being read at a glance (see docs/hub.md).
pub(crate) const DEFAULT_SHARE_KEY: &str = "outcry-default-share-key";

/// An HTTP agent that hands 4xx/5xx answers back instead of failing, so
/// the hub's error message can be shown.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Send a request to the hub; the JSON answer, or an error with the hub's
/// message.
fn call(
    method: &str,
    hub: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let url = format!("{}{path}", hub.trim_end_matches('/'));
    let agent = agent();
    let auth = token.map(|t| format!("Bearer {t}"));
    let resp = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(&url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        (_, b) => {
            let mut r = agent.post(&url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.send_json(b.cloned().unwrap_or(json!({})))
        }
    }
    .with_context(|| format!("cannot reach the hub at {url}"))?;
    let status = resp.status().as_u16();
    let text = resp
        .into_body()
        .read_to_string()
        .with_context(|| format!("{url}: unreadable answer"))?;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status >= 400 {
        let msg = v["error"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        bail!("the hub at {url} answered {status}: {msg}");
    }
    Ok(v)
}

/// The fingerprints of the local incidents to share.
fn fingerprints(args: &ShareArgs) -> anyhow::Result<Vec<(String, Fingerprint)>> {
    let incidents::Gathered {
        failures,
        ctx,
        store,
        now,
    } = incidents::gather(&args.paths, &args.situation)?;
    let tickets: Vec<Ticket> = match store {
        Some(mut s) => s.tickets()?,
        None => Vec::new(),
    };
    let found = detect(&failures, &ctx, &Thresholds::default(), now);
    let chosen: Vec<&Incident> = match &args.incident {
        Some(id) => vec![found.iter().find(|i| &i.id == id).with_context(|| {
            format!(
                "no incident {id:?}; incidents found: {}",
                found
                    .iter()
                    .map(|i| i.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?],
        None => found
            .iter()
            .filter(|i| args.all || i.state == State::Open)
            .collect(),
    };
    Ok(chosen
        .into_iter()
        .map(|inc| {
            let provider = inc
                .sending_ips
                .iter()
                .find_map(|ip| ctx.ip_owners.get(ip))
                .map(|o| o.provider.clone());
            let mine: Vec<&Ticket> = tickets
                .iter()
                .filter(|t| {
                    t.party == "provider" && t.incident.as_deref().is_none_or(|i| i == inc.id)
                })
                .collect();
            let ticket = mine
                .first()
                .filter(|_| args.with_ticket)
                .map(|t| SharedTicket {
                    number: t.number.clone(),
                    status: t.status().to_string(),
                });
            let claims = if args.with_claims {
                mine.iter()
                    .flat_map(|t| &t.claims)
                    .map(|(_, fixed_at, text)| SharedClaim {
                        fixed_at: *fixed_at,
                        text: text.chars().take(200).collect(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let fp = Fingerprint::of(inc, &failures, &args.share_key, provider, ticket, claims);
            (inc.id.clone(), fp)
        })
        .collect())
}

/// Run `outcry share`.
pub fn share(args: &ShareArgs) -> anyhow::Result<ExitCode> {
    let fps = fingerprints(args)?;
    for (id, f) in &fps {
        f.validate()
            .with_context(|| format!("the fingerprint of {id} is not shareable"))?;
    }
    if args.dry_run {
        let v: Vec<&Fingerprint> = fps.iter().map(|(_, f)| f).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        eprintln!(
            "outcry: dry run: {} fingerprint(s) above are what `outcry share` would send; nothing was sent",
            v.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let hub = args.hub.as_deref().context(
        "--hub URL (or OUTCRY_HUB) is needed to share; --dry-run shows what would be sent",
    )?;
    let token = args
        .token
        .as_deref()
        .context("--token (or OUTCRY_HUB_TOKEN) is needed; `outcry hub register` issues one")?;
    if fps.is_empty() {
        println!("no open incident to share (--all shares closed ones too)");
    }
    for (id, f) in &fps {
        let v = call(
            "POST",
            hub,
            "/api/v1/fingerprints",
            Some(token),
            Some(&serde_json::to_value(f)?),
        )?;
        println!(
            "{id}: joint incident #{} with {} organisation(s){}",
            v["joint_incident"],
            v["organisations"],
            if v["public"] == true { ", public" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Run `outcry hub ...`.
pub fn hub(cmd: &HubCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        HubCmd::Serve(a) => serve(a),
        HubCmd::Register { hub, name, format } => {
            let v = call(
                "POST",
                hub,
                "/api/v1/orgs",
                None,
                Some(&json!({ "name": name })),
            )?;
            match format {
                CheckFormat::Json => println!("{}", serde_json::to_string_pretty(&v)?),
                CheckFormat::Table => {
                    println!("registered as organisation #{}", v["id"]);
                    println!(
                        "token (shown once; keep it secret): {}",
                        v["token"].as_str().unwrap_or("")
                    );
                    println!("use it with: export OUTCRY_HUB={hub} OUTCRY_HUB_TOKEN=<token>");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        HubCmd::Report {
            hub,
            token,
            provider,
            service,
            symptom,
            since,
            ticket,
        } => {
            let started = outcry_report::parse_utc(since)
                .with_context(|| format!("--since {since:?}: use 2026-11-05T10:00Z (UTC)"))?;
            let v = call(
                "POST",
                hub,
                "/api/v1/reports",
                Some(token),
                Some(&json!({
                    "provider": provider, "service": service, "symptom": symptom,
                    "started_at": started, "ticket": ticket,
                })),
            )?;
            println!(
                "reported: joint incident #{} with {} organisation(s){}",
                v["joint_incident"],
                v["organisations"],
                if v["public"] == true { ", public" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
        HubCmd::Status(a) => status(a),
    }
}

/// `outcry hub status`: the public joint incidents that match the local
/// ones. Receives only: nothing local is sent (the matching is done here).
fn status(a: &ShareArgs) -> anyhow::Result<ExitCode> {
    let hub = a
        .hub
        .as_deref()
        .context("--hub URL (or OUTCRY_HUB) is needed")?;
    let local = fingerprints(&ShareArgs {
        all: true,
        ..a.clone()
    })?;
    let list = call("GET", hub, "/api/v1/incidents?limit=1000", None, None)?;
    let mut matched = Vec::new();
    for (id, f) in &local {
        let key = key_of(f);
        for j in list["incidents"].as_array().into_iter().flatten() {
            if j["key"].as_str() == Some(key.as_str()) {
                let detail = call(
                    "GET",
                    hub,
                    &format!("/api/v1/incidents/{}", j["id"]),
                    None,
                    None,
                )?;
                matched.push((id.clone(), detail));
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match a.format {
        CheckFormat::Json => {
            let v: Vec<Value> = matched
                .iter()
                .map(|(id, j)| json!({ "local_incident": id, "joint_incident": j }))
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        CheckFormat::Table => {
            writeln!(
                out,
                "{} local incident(s); {} public joint incident(s) on {hub} match",
                local.len(),
                matched.len()
            )?;
            for (id, j) in &matched {
                writeln!(
                    out,
                    "\n{id}\n  joint incident #{}: {} organisations ({} verified), since {}, last seen {}",
                    j["id"],
                    j["organisations"],
                    j["verified_organisations"],
                    outcry_report::utc(j["first_seen"].as_i64().unwrap_or(0)),
                    outcry_report::utc(j["last_seen"].as_i64().unwrap_or(0)),
                )?;
                let tickets: Vec<&str> = j["evidence"]["tickets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if !tickets.is_empty() {
                    writeln!(out, "  tickets: {}", tickets.join(", "))?;
                }
                writeln!(
                    out,
                    "  escalation text:\n    {}",
                    j["evidence"]["escalation"].as_str().unwrap_or("")
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `outcry hub serve`.
fn serve(a: &crate::ServeArgs) -> anyhow::Result<ExitCode> {
    let url = a.db.clone().unwrap_or_else(|| {
        let store = crate::store::url(None);
        std::path::Path::new(&store)
            .with_file_name("hub.db")
            .display()
            .to_string()
    });
    // Opened before the async runtime starts: PostgreSQL's client runs
    // its own.
    let db = Db::open(&url).with_context(|| format!("cannot open the hub database {url}"))?;
    let config = outcry_hub::Config {
        k: a.k.max(1),
        min_verified: a.min_verified.max(0),
        resolver: a
            .resolver
            .as_deref()
            .map(crate::check::parse_resolver)
            .transpose()?,
        rate_per_ip: a.rate_per_ip,
        rate_per_org: a.rate_per_org,
        registrations_per_hour: a.registrations_per_hour,
        max_body: a.max_body,
        trust_forwarded_for: a.trust_forwarded_for,
    };
    let app = outcry_hub::router(outcry_hub::AppState::new(db, config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        println!(
            "outcry hub listening on http://{addr} (database {url}, public at {} organisations, {} of them verified)",
            a.k,
            a.min_verified
        );
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the hub stopped")
    })?;
    Ok(ExitCode::SUCCESS)
}
