//! `outcry incidents`: incidents and verdicts straight from bounce files.

use crate::{CheckFormat, IncidentsArgs, Situation, input};
use anyhow::Context as _;
use outcry_incident::{Context, Failure, Incident, IpOwner, Standing, State, Thresholds, detect};
use outcry_store::Store;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The failures in the bounces at `paths`, and what is known about them
/// offline (own networks, key correspondents, provider ownership).
pub(crate) fn load(
    paths: &[std::path::PathBuf],
    own: &[ipnet::IpNet],
    important: &[String],
) -> (Vec<Failure>, Context) {
    let mut failures = Vec::new();
    input::each_record(paths, |r| failures.extend(Failure::from_record(r)));
    context(failures, own, important, Vec::new())
}

/// The offline context of `failures`: own networks, key correspondents,
/// the stored blocklist standings, and provider ownership (from a
/// standing's forward-confirmed PTR, else the bundled prefix table).
pub(crate) fn context(
    failures: Vec<Failure>,
    own: &[ipnet::IpNet],
    important: &[String],
    standings: Vec<Standing>,
) -> (Vec<Failure>, Context) {
    let mut ctx = Context {
        own_networks: own.to_vec(),
        important_domains: important.iter().map(|d| d.to_ascii_lowercase()).collect(),
        ..Context::default()
    };
    ctx.standings = standings.into_iter().map(|s| (s.ip, s)).collect();
    for ip in failures.iter().filter_map(|f| f.sending_ip) {
        let ptr = ctx
            .standings
            .get(&ip)
            .filter(|s| s.ptr_confirmed)
            .and_then(|s| s.ptr.as_deref());
        let owner = outcry_reputation::recognise(ip, ptr);
        if let Some(name) = owner.name {
            ctx.ip_owners.insert(
                ip,
                IpOwner {
                    provider: name,
                    shared_pool: owner.shared_pool,
                },
            );
        }
    }
    (failures, ctx)
}

/// The `n` biggest recipient domains of `volume`.
pub(crate) fn key_correspondents(volume: &outcry_logs::Volume, n: usize) -> Vec<String> {
    volume.top(n).into_iter().map(|(d, _)| d).collect()
}

/// What `outcry incidents` and `outcry report` work on.
pub(crate) struct Gathered {
    /// The failures.
    pub failures: Vec<Failure>,
    /// What is known about them.
    pub ctx: Context,
    /// The open store when the failures came from it (for its tickets).
    pub store: Option<Box<dyn Store>>,
    /// The time to evaluate them at.
    pub now: i64,
}

/// The failures in the bounces at `paths`, or in the store when there are
/// none, with their context and the time to evaluate them at.
pub(crate) fn gather(paths: &[PathBuf], s: &Situation) -> anyhow::Result<Gathered> {
    let at = s.now.unwrap_or_else(outcry_report::now);
    let mut important = s.important.clone();
    if !s.logs.is_empty() {
        let mut volume = outcry_logs::Volume::default();
        for path in &s.logs {
            let bytes =
                std::fs::read(path).with_context(|| format!("--logs {}", path.display()))?;
            let (_, v) = outcry_logs::volume(&bytes)
                .with_context(|| format!("--logs {}", path.display()))?;
            volume.merge(v);
        }
        important.extend(key_correspondents(&volume, s.key_correspondents));
    }
    let (failures, ctx, store) = if paths.is_empty() {
        let mut store = crate::store::open(s.db.as_deref())?;
        let (failures, ctx) = context(
            store.failures()?,
            &s.own_network,
            &important,
            store.standings()?,
        );
        (failures, ctx, Some(store))
    } else {
        let (failures, ctx) = load(paths, &s.own_network, &important);
        (failures, ctx, None)
    };
    Ok(Gathered {
        failures,
        ctx,
        store,
        now: at,
    })
}

/// Run `outcry incidents`.
pub fn run(args: &IncidentsArgs) -> anyhow::Result<ExitCode> {
    let Gathered {
        failures, ctx, now, ..
    } = gather(&args.paths, &args.situation)?;
    let incidents = detect(&failures, &ctx, &Thresholds::default(), now);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &incidents)?;
            writeln!(out)?;
        }
        CheckFormat::Table => print(&mut out, &incidents, failures.len())?,
    }
    out.flush()?;
    Ok(if incidents.iter().any(|i| i.state == State::Open) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn print(
    out: &mut dyn Write,
    incidents: &[Incident],
    failures: usize,
) -> std::io::Result<()> {
    writeln!(out, "{failures} failures, {} incident(s)", incidents.len())?;
    for i in incidents {
        writeln!(out)?;
        writeln!(
            out,
            "{}  [{}]  verdict: {} ({:.0}% sure)",
            i.id,
            if i.state == State::Open {
                "OPEN"
            } else {
                "closed"
            },
            serde_json::to_value(i.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            i.confidence * 100.0
        )?;
        writeln!(
            out,
            "  {} failures from {} to {}",
            i.failures,
            outcry_report::utc(i.first_seen),
            outcry_report::utc(i.last_seen)
        )?;
        let domains: Vec<String> = i
            .domains
            .iter()
            .take(8)
            .map(|(d, n)| format!("{d} ({n})"))
            .collect();
        writeln!(out, "  recipient domains: {}", domains.join(", "))?;
        if !i.important.is_empty() {
            writeln!(
                out,
                "  important correspondents affected: {}",
                i.important.join(", ")
            )?;
        }
        if !i.sending_ips.is_empty() {
            let ips: Vec<String> = i.sending_ips.iter().map(|ip| ip.to_string()).collect();
            writeln!(out, "  sending IPs: {}", ips.join(", "))?;
        }
        if !i.blocklists.is_empty() {
            let lists: Vec<String> = i
                .blocklists
                .iter()
                .map(|(b, n)| format!("{} ({n})", b.as_str()))
                .collect();
            writeln!(out, "  blocklists named: {}", lists.join(", "))?;
        }
        for e in &i.evidence {
            writeln!(out, "  {} {}", if e.supports { "+" } else { "-" }, e.text)?;
        }
    }
    Ok(())
}
