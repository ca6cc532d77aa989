//! Server-rendered pages (incident list, incident page with a timeline,
//! the manual-report form) and Atom feeds. Hand-written HTML and XML with
//! every value escaped: the pages are small and fixed, and a template
//! engine would add a build step for four pages.

use crate::api::{ApiError, AppState, ConnectInfoOpt, ListQuery, file_manual, id_of, org};
use crate::fingerprint::ManualReport;
use crate::model::{self, Joint};
use crate::{esc, slug, utc};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::fmt::Write as _;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/incidents/{id}", get(page))
        .route("/report", get(form).post(submit_form))
        .route("/feeds/all", get(feed_all))
        .route("/feeds/providers/{slug}", get(feed_provider))
        .route("/feeds/incidents/{id}", get(feed_incident))
}

const CSS: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#1b1f24}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.35em .6em;text-align:left;vertical-align:top}\
.n{font-size:1.6em;font-weight:700}.muted{color:#57606a}pre{background:#f6f8fa;padding:.8em;white-space:pre-wrap}\
.ack{background:#dafbe1;padding:.5em .8em}.warn{background:#fff5f5;border-left:5px solid #cf222e;padding:.5em .8em}\
svg{max-width:100%;height:auto}label{display:block;margin:.6em 0}input,textarea{width:100%;padding:.3em;font:inherit}";

fn layout(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{t}</title>\
         <link rel=\"alternate\" type=\"application/atom+xml\" href=\"/feeds/all\" title=\"All joint incidents\"><style>{CSS}</style></head>\
         <body><p class=\"muted\"><a href=\"/\">outcry hub</a> · <a href=\"/report\">report a problem</a> · <a href=\"/openapi.json\">API</a></p>{body}</body></html>",
        t = esc(title)
    ))
}

fn page_error(e: ApiError) -> Response {
    (
        e.0,
        layout("Error", &format!("<h1>{}</h1><p>{}</p>", e.0, esc(&e.1))),
    )
        .into_response()
}

async fn index(
    State(s): State<AppState>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return page_error(ApiError::bad("unknown query parameter"));
    };
    let k = s.publish();
    let provider = q.provider.clone();
    let list = match s
        .db(move |db| model::public_joints(db, k, provider.as_deref(), 200))
        .await
    {
        Ok(l) => l,
        Err(e) => return page_error(e),
    };
    let mut b = String::from("<h1>Joint delivery incidents</h1>");
    let _ = write!(
        b,
        "<p class=\"muted\">An incident appears here once {k} report it. Counts are organisations, one vote each.</p>"
    );
    if list.is_empty() {
        b.push_str("<p>No public joint incident.</p>");
    } else {
        b.push_str("<table><tr><th>incident</th><th>provider</th><th>organisations</th><th>since</th><th>last seen</th><th>status</th></tr>");
        for j in &list {
            let _ = write!(
                b,
                "<tr><td><a href=\"/incidents/{id}\">#{id} {what}</a></td><td>{p}</td><td>{n}{v}</td><td>{f}</td><td>{l}</td><td>{a}</td></tr>",
                id = j.id,
                what = esc(&describe(j)),
                p = esc(j.provider.as_deref().unwrap_or("unknown")),
                n = j.organisations,
                v = if j.verified_organisations > 0 {
                    format!(" ({} verified)", j.verified_organisations)
                } else {
                    String::new()
                },
                f = utc(j.first_seen),
                l = utc(j.last_seen),
                a = if j.acknowledged.is_some() {
                    "acknowledged"
                } else {
                    "not acknowledged"
                },
            );
        }
        b.push_str("</table>");
    }
    layout("outcry hub", &b).into_response()
}

/// One line saying what a joint incident is.
fn describe(j: &Joint) -> String {
    match j.scope.split_once(':') {
        Some(("pool", r)) => format!("sending IPs {r} refused for reputation"),
        Some(("org", o)) if !o.starts_with("h:") => format!("{o} refuses mail ({})", j.family),
        Some(("org", _)) => format!("one recipient organisation refuses mail ({})", j.family),
        _ if j.family == "manual" => format!("{} problem reported", j.scope),
        _ => format!("{} failures ({})", j.family, j.scope),
    }
}

/// Organisations affected over time, as an SVG step chart.
fn chart(points: &[(i64, usize)], until: i64) -> String {
    let (w, h, pad) = (800.0, 220.0, 40.0);
    let Some(&(start, _)) = points.first() else {
        return String::new();
    };
    let end = until.max(start + 3600);
    let max = points.last().map(|p| p.1).unwrap_or(1).max(1) as f64;
    let x = |t: i64| pad + (t - start) as f64 / (end - start) as f64 * (w - 2.0 * pad);
    let y = |n: usize| h - pad - n as f64 / max * (h - 2.0 * pad);
    let mut d = format!("M{:.1},{:.1}", x(start), y(0));
    for &(t, n) in points {
        let _ = write!(d, " H{:.1} V{:.1}", x(t), y(n));
    }
    let _ = write!(d, " H{:.1}", x(end));
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"organisations affected over time\">\
         <line x1=\"{pad}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#8c959f\"/>\
         <path d=\"{d}\" fill=\"none\" stroke=\"#cf222e\" stroke-width=\"2.5\"/>",
        b = h - pad,
        r = w - pad
    );
    for &(t, n) in points {
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#cf222e\"><title>{} organisation(s) from {}</title></circle>",
            x(t),
            y(n),
            n,
            utc(t)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{pad}\" y=\"{}\" font-size=\"12\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text></svg>",
        h - pad + 16.0,
        utc(start),
        w - pad,
        h - pad + 16.0,
        utc(end),
        pad - 6.0,
        y(points.last().map(|p| p.1).unwrap_or(0)) + 4.0,
        points.last().map(|p| p.1).unwrap_or(0)
    );
    s
}

async fn page(State(s): State<AppState>, Path(raw): Path<String>, headers: HeaderMap) -> Response {
    let id = match id_of(&raw) {
        Ok(i) => i,
        Err(e) => return page_error(e),
    };
    let member = if headers.contains_key(header::AUTHORIZATION) {
        match org(&s, &headers, false).await {
            Ok(o) => Some(o.id),
            Err(e) => return page_error(e),
        }
    } else {
        None
    };
    let k = s.publish();
    let j = match s.db(move |db| model::joint(db, id, k, member)).await {
        Ok(Some(j)) => j,
        Ok(None) => {
            return page_error(ApiError(
                StatusCode::NOT_FOUND,
                format!("No public incident {id}: an incident is public once {k} report it."),
            ));
        }
        Err(e) => return page_error(e),
    };
    let p = j.evidence.clone().unwrap_or_default();
    let mut b = format!(
        "<h1>#{} {}</h1><p class=\"muted\">{} · since {} · last seen {}</p>",
        j.id,
        esc(&describe(&j)),
        esc(j.provider.as_deref().unwrap_or("provider unknown")),
        utc(j.first_seen),
        utc(j.last_seen)
    );
    let _ = write!(
        b,
        "<p><span class=\"n\">{}</span> organisations affected{}</p>",
        j.organisations,
        if j.verified_organisations > 0 {
            format!(", {} with a verified domain", j.verified_organisations)
        } else {
            String::new()
        }
    );
    match &j.acknowledged {
        Some(a) => {
            let _ = write!(
                b,
                "<p class=\"ack\">Acknowledged by the vendor as <b>{}</b> ({}): {}</p>",
                esc(&a.reference),
                utc(a.at),
                esc(&a.text)
            );
        }
        None => b.push_str("<p class=\"warn\">Not acknowledged by the vendor yet.</p>"),
    }
    b.push_str("<h2>Organisations affected over time</h2>");
    b.push_str(&chart(&p.over_time, j.last_seen));
    b.push_str("<h2>Escalation text</h2><p class=\"muted\">Paste this into your own ticket.</p>");
    let _ = write!(b, "<pre id=\"escalation\">{}</pre>", esc(&p.escalation));
    b.push_str("<h2>Evidence</h2><table>");
    let row = |b: &mut String, k: &str, v: String| {
        if !v.is_empty() {
            let _ = write!(b, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
        }
    };
    row(&mut b, "sending IP ranges", p.sending_ranges.join(", "));
    row(
        &mut b,
        "blocklists named",
        p.blocklists
            .iter()
            .map(|(l, n)| format!("{l} ({n} organisations)"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    row(
        &mut b,
        "rejecting organisations",
        if p.rejecting_organisations > 0 {
            format!(
                "{}{}",
                p.rejecting_organisations,
                if p.rejecting_operators.is_empty() {
                    String::new()
                } else {
                    format!(", including {}", p.rejecting_operators.join(", "))
                }
            )
        } else {
            String::new()
        },
    );
    row(&mut b, "status codes", p.status_codes.join(", "));
    row(
        &mut b,
        "failures reported",
        if p.failures > 0 {
            format!(
                "{} to {} distinct recipient domains",
                p.failures, p.recipient_domains
            )
        } else {
            String::new()
        },
    );
    row(
        &mut b,
        "local verdicts",
        p.verdicts
            .iter()
            .map(|(v, n)| format!("{v}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    row(&mut b, "tickets", p.tickets.join(", "));
    b.push_str("</table>");
    if !p.claims.is_empty() {
        b.push_str("<h2>Vendor claims against the reports</h2><ul>");
        for c in &p.claims {
            let _ = write!(
                b,
                "<li>\u{201c}{}\u{201d}, fixed at {}: {} organisation(s) reported failures after that</li>",
                esc(&c.text),
                utc(c.fixed_at),
                c.organisations_failing_after
            );
        }
        b.push_str("</ul>");
    }
    if !p.symptoms.is_empty() {
        b.push_str("<h2>Manual reports</h2><ul>");
        for (svc, sym, n) in &p.symptoms {
            let _ = write!(b, "<li>{}: {} ({n})</li>", esc(svc), esc(sym));
        }
        b.push_str("</ul>");
    }
    if !p.templates.is_empty() {
        b.push_str("<h2>What the recipients' servers said</h2>");
        for t in &p.templates {
            let _ = write!(b, "<pre>{}</pre>", esc(t));
        }
    }
    let _ = write!(
        b,
        "<p class=\"muted\"><a href=\"/feeds/incidents/{}\">Atom feed of this incident</a></p>",
        j.id
    );
    layout(&format!("Incident #{}", j.id), &b).into_response()
}

async fn form() -> Response {
    layout(
        "Report a problem",
        "<h1>Report a problem no bounce shows</h1>\
         <p>A cloud console down, mail delayed, a service degraded. Reports of the same provider and service cluster together, and join the matching automatic incident. No personal data, please.</p>\
         <form method=\"post\" action=\"/report\">\
         <label>Your organisation's API token <input name=\"token\" type=\"password\" required></label>\
         <label>Provider <input name=\"provider\" required maxlength=\"80\" placeholder=\"Microsoft 365\"></label>\
         <label>Service <input name=\"service\" required maxlength=\"80\" placeholder=\"email\"></label>\
         <label>Symptom <input name=\"symptom\" required maxlength=\"200\" placeholder=\"outbound mail delayed by hours\"></label>\
         <label>Started (UTC) <input name=\"started\" type=\"datetime-local\" required></label>\
         <label>Your ticket number (optional, shared with the others) <input name=\"ticket\" maxlength=\"64\"></label>\
         <button>Report</button></form>",
    )
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportForm {
    token: String,
    provider: String,
    service: String,
    symptom: String,
    started: String,
    #[serde(default)]
    ticket: String,
}

async fn submit_form(
    State(s): State<AppState>,
    _ip: ConnectInfoOpt,
    f: Result<Form<ReportForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = f else {
        return page_error(ApiError::bad(
            "the form is incomplete: token, provider, service, symptom and started are required",
        ));
    };
    let mut headers = HeaderMap::new();
    let Ok(v) = HeaderValue::from_str(&format!("Bearer {}", f.token.trim())) else {
        return page_error(ApiError(StatusCode::UNAUTHORIZED, "bad token".into()));
    };
    headers.insert(header::AUTHORIZATION, v);
    let o = match org(&s, &headers, true).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    // datetime-local (`2026-11-05T10:00`), taken as UTC.
    let Some(started_at) = outcry_report::parse_utc(&f.started) else {
        return page_error(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("started: {:?} is not a date and time", f.started),
        ));
    };
    let report = ManualReport {
        provider: f.provider,
        service: f.service,
        symptom: f.symptom,
        started_at,
        ticket: Some(f.ticket.trim().to_string()).filter(|t| !t.is_empty()),
    };
    match file_manual(&s, o, report).await {
        Ok(filed) => layout(
            "Reported",
            &format!(
                "<h1>Thank you</h1><p>Your report joined incident #{} with {} organisation(s){}.</p>",
                filed.joint_incident,
                filed.organisations,
                if filed.public {
                    format!(": <a href=\"/incidents/{}\">see it</a>", filed.joint_incident)
                } else {
                    format!("; it becomes public at {}", s.publish())
                }
            ),
        )
        .into_response(),
        Err(e) => page_error(e),
    }
}

/// Escape text for XML.
fn x(s: &str) -> String {
    esc(s)
}

/// RFC 3339 time for Atom.
fn rfc3339(t: i64) -> String {
    utc(t).replace(" UTC", ":00Z").replacen(' ', "T", 1)
}

fn atom(
    title: &str,
    id: &str,
    updated: i64,
    entries: &[(String, String, i64, String)],
) -> Response {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{}</title><id>urn:outcry:{}</id><updated>{}</updated><author><name>outcry hub</name></author>",
        x(title),
        x(id),
        rfc3339(updated)
    );
    for (eid, etitle, at, summary) in entries {
        let _ = write!(
            s,
            "<entry><id>urn:outcry:{}</id><title>{}</title><updated>{}</updated><summary>{}</summary></entry>",
            x(eid),
            x(etitle),
            rfc3339(*at),
            x(summary)
        );
    }
    s.push_str("</feed>\n");
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        s,
    )
        .into_response()
}

fn list_feed(title: &str, id: &str, list: &[Joint]) -> Response {
    let entries: Vec<(String, String, i64, String)> = list
        .iter()
        .map(|j| {
            (
                format!("incident:{}:{}", j.id, j.updated_at),
                format!(
                    "#{} {}: {} organisations",
                    j.id,
                    describe(j),
                    j.organisations
                ),
                j.updated_at,
                format!(
                    "{} since {}, last seen {}; {}",
                    j.provider.as_deref().unwrap_or("provider unknown"),
                    utc(j.first_seen),
                    utc(j.last_seen),
                    if j.acknowledged.is_some() {
                        "acknowledged"
                    } else {
                        "not acknowledged"
                    }
                ),
            )
        })
        .collect();
    let updated = list.iter().map(|j| j.updated_at).max().unwrap_or(0);
    atom(title, id, updated, &entries)
}

async fn feed_all(State(s): State<AppState>) -> Response {
    let k = s.publish();
    match s.db(move |db| model::public_joints(db, k, None, 100)).await {
        Ok(list) => list_feed("outcry hub: joint incidents", "all", &list),
        Err(e) => e.into_response(),
    }
}

async fn feed_provider(State(s): State<AppState>, Path(p): Path<String>) -> Response {
    let p = slug(&p);
    let k = s.publish();
    let q = p.clone();
    match s
        .db(move |db| model::public_joints(db, k, Some(&q), 100))
        .await
    {
        Ok(list) => list_feed(
            &format!("outcry hub: joint incidents of {p}"),
            &format!("provider:{p}"),
            &list,
        ),
        Err(e) => e.into_response(),
    }
}

async fn feed_incident(State(s): State<AppState>, Path(raw): Path<String>) -> Response {
    let id = match id_of(&raw) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let k = s.publish();
    let j = match s.db(move |db| model::joint(db, id, k, None)).await {
        Ok(Some(j)) => j,
        Ok(None) => {
            return ApiError(StatusCode::NOT_FOUND, format!("no public incident {id}"))
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let p = j.evidence.clone().unwrap_or_default();
    let mut entries = vec![(
        format!("incident:{}:{}", j.id, j.updated_at),
        format!("{} organisations affected", j.organisations),
        j.updated_at,
        p.escalation.clone(),
    )];
    for c in &p.claims {
        entries.push((
            format!("incident:{}:claim:{}", j.id, c.fixed_at),
            format!("Vendor: \u{201c}{}\u{201d}", c.text),
            c.fixed_at,
            format!(
                "{} organisation(s) reported failures after the claimed fix",
                c.organisations_failing_after
            ),
        ));
    }
    if let Some(a) = &j.acknowledged {
        entries.push((
            format!("incident:{}:ack", j.id),
            format!("Acknowledged as {}", a.reference),
            a.at,
            a.text.clone(),
        ));
    }
    atom(
        &format!("outcry hub: incident #{}", j.id),
        &format!("incident:{}", j.id),
        j.updated_at,
        &entries,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn times() {
        assert_eq!(super::rfc3339(1_793_800_920), "2026-11-04T14:02:00Z");
    }
}
