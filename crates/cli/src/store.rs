//! `outcry ingest` and `outcry ticket`: the store's commands.

use crate::{CheckFormat, IngestArgs, TicketCmd, check, input};
use anyhow::Context as _;
use outcry_incident::Standing;
use outcry_report::{Claim, TicketLog};
use outcry_reputation::{Catalog, CheckerConfig};
use outcry_store::{Keyed, Party, Store, Ticket};
use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The store's address: `--db`, else `$XDG_DATA_HOME/outcry/outcry.db`, else
/// `~/.local/share/outcry/outcry.db`.
pub(crate) fn url(db: Option<&str>) -> String {
    if let Some(d) = db {
        return d.to_string();
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("outcry/outcry.db").display().to_string()
}

/// Open the store, saying which one on failure.
pub(crate) fn open(db: Option<&str>) -> anyhow::Result<Box<dyn Store>> {
    let u = url(db);
    outcry_store::open(&u).with_context(|| format!("cannot open the store {u}"))
}

/// The keyed failures in the bounces at `paths`.
pub(crate) fn keyed(paths: &[PathBuf]) -> (usize, Vec<Keyed>) {
    let mut out = Vec::new();
    let messages = input::each_record(paths, |r| out.extend(Keyed::from_record(r)));
    (messages, out)
}

/// The claims and ticket logs of the stored tickets about incident `id`
/// (a ticket that names no incident counts for any), for the packet.
pub(crate) fn for_incident(tickets: &[Ticket], id: &str) -> (Vec<Claim>, Vec<TicketLog>) {
    let about: Vec<&Ticket> = tickets
        .iter()
        .filter(|t| t.incident.as_deref().is_none_or(|i| i == id))
        .collect();
    let claims = about
        .iter()
        .flat_map(|t| {
            t.claims.iter().map(|(_, fixed_at, text)| Claim {
                at: *fixed_at,
                who: format!("{} ticket {} ({text})", t.party, t.number),
            })
        })
        .collect();
    let logs = about
        .iter()
        .map(|t| TicketLog {
            party: t.party.clone(),
            number: t.number.clone(),
            events: t.history.clone(),
        })
        .collect();
    (claims, logs)
}

/// A standing younger than this is not checked again by `outcry ingest`.
const RECHECK_AFTER: i64 = 3600;

/// Run `outcry ingest`.
pub fn ingest(args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let db = args.db.as_deref();
    let (messages, failures) = keyed(&args.paths);
    let mut store = open(db)?;
    let done = store.ingest(&failures)?;
    println!(
        "{messages} messages read, {} failures: {} new, {} already in the store ({})",
        failures.len(),
        done.new,
        done.known,
        url(db)
    );
    if args.offline {
        return Ok(ExitCode::SUCCESS);
    }
    let now = outcry_report::now();
    let fresh: HashSet<IpAddr> = store
        .standings()?
        .into_iter()
        .filter(|s| now - s.checked_at < RECHECK_AFTER)
        .map(|s| s.ip)
        .collect();
    let due: BTreeSet<IpAddr> = failures
        .iter()
        .filter_map(|k| k.failure.sending_ip)
        .filter(|ip| !fresh.contains(ip))
        .collect();
    if due.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut catalog = Catalog::bundled();
    catalog.lists.retain(|l| l.dead.is_none());
    let config = CheckerConfig {
        resolver: args
            .resolver
            .as_deref()
            .map(check::parse_resolver)
            .transpose()?,
        timeout: Duration::from_secs_f64(args.timeout.max(0.05)),
        attempts: 2,
        concurrency: 64,
        ptr: true,
    };
    let targets = due.iter().map(|ip| check::Target::Ip(*ip)).collect();
    let (reports, _) = check::lookup(targets, catalog, &config, args.quiet)?;
    let standings: Vec<Standing> = reports.iter().map(|r| check::standing(r, now)).collect();
    store.put_standings(&standings)?;
    let listed = standings
        .iter()
        .filter(|s| s.bad().next().is_some())
        .count();
    let unasked = standings.iter().filter(|s| !s.errors.is_empty()).count();
    println!(
        "{} sending IP(s) checked against the blocklists: {listed} listed, {unasked} with lists that could not be asked",
        standings.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Run `outcry ticket ...`.
pub fn ticket(action: &TicketCmd, db: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut store = open(db)?;
    let now = outcry_report::now();
    match action {
        TicketCmd::Add {
            party,
            number,
            incident,
        } => {
            let party: Party = party.parse().map_err(anyhow::Error::msg)?;
            let id = store.add_ticket(party, number, incident.as_deref(), now)?;
            println!("ticket #{id} opened with the {} ({number})", party.as_str());
        }
        TicketCmd::Update { id, status, note } => {
            store.update_ticket(*id, status, note, now)?;
            println!("ticket #{id}: {status}");
        }
        TicketCmd::Claim { id, fixed_at, text } => {
            let at = outcry_report::parse_utc(fixed_at)
                .with_context(|| format!("--fixed-at {fixed_at:?}: use 2026-11-05T10:00Z (UTC)"))?;
            store.add_claim(*id, at, text, now)?;
            println!(
                "ticket #{id}: claim \"fixed at {fixed_at}\" recorded; `outcry report` checks it against the bounces"
            );
        }
        TicketCmd::List { format } => {
            let tickets = store.tickets()?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match format {
                CheckFormat::Json => {
                    let v: Vec<serde_json::Value> = tickets
                        .iter()
                        .map(|t| {
                            serde_json::json!({
                                "id": t.id, "party": t.party, "number": t.number, "incident": t.incident,
                                "status": t.status(),
                                "history": t.history.iter().map(|(at, s, n)| serde_json::json!({"at": at, "status": s, "note": n})).collect::<Vec<_>>(),
                                "claims": t.claims.iter().map(|(at, f, x)| serde_json::json!({"at": at, "fixed_at": f, "text": x})).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    serde_json::to_writer_pretty(&mut out, &v)?;
                    writeln!(out)?;
                }
                CheckFormat::Table => {
                    if tickets.is_empty() {
                        writeln!(
                            out,
                            "no tickets; `outcry ticket add --party provider --number N` opens one"
                        )?;
                    }
                    for t in &tickets {
                        writeln!(
                            out,
                            "#{} {} {} [{}] {}",
                            t.id,
                            t.party,
                            t.number,
                            t.status(),
                            t.incident.as_deref().unwrap_or("")
                        )?;
                        for (at, f, x) in &t.claims {
                            writeln!(
                                out,
                                "    claim at {}: fixed at {} \u{2014} {x}",
                                outcry_report::utc(*at),
                                outcry_report::utc(*f)
                            )?;
                        }
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
