//! `outcry check`: blocklists and ownership for IPs and domains.

use crate::input;
use crate::{CheckArgs, CheckFormat};
use anyhow::{Context, bail};
use outcry_incident::{Listing, Standing};
use outcry_reputation::{
    Catalog, Checker, CheckerConfig, DomainReport, IpReport, ListResult, Status,
};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

/// One thing to check.
pub(crate) enum Target {
    Ip(IpAddr),
    Domain(String),
}

/// Run `outcry check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let mut raw: Vec<String> = args.targets.clone();
    if let Some(path) = &args.input {
        raw.extend(read_targets(path)?);
    }
    let mut cited: BTreeMap<IpAddr, usize> = BTreeMap::new();
    if !args.from_bounces.is_empty() {
        cited = sending_ips(&args.from_bounces);
        if cited.is_empty() {
            eprintln!("outcry: no sending IP found in the bounces given with --from-bounces");
        }
    }
    let mut targets = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for t in raw {
        let t = t.trim().to_string();
        if t.is_empty() || !seen.insert(t.to_ascii_lowercase()) {
            continue;
        }
        targets.push(parse_target(&t)?);
    }
    for ip in cited.keys() {
        if seen.insert(ip.to_string()) {
            targets.push(Target::Ip(*ip));
        }
    }
    if targets.is_empty() {
        bail!("nothing to check: give IPs or domains, --input FILE, or --from-bounces PATH");
    }

    let mut catalog = Catalog::bundled();
    if let Some(path) = &args.catalog {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read catalog {}", path.display()))?;
        catalog.merge(Catalog::parse(&text, &path.display().to_string())?);
    }
    if args.lists.is_empty() {
        // Dead lists are never queried; name one with --lists to see why.
        catalog.lists.retain(|l| l.dead.is_none());
    } else {
        catalog.select(&args.lists);
        if catalog.lists.is_empty() {
            bail!(
                "--lists {} matches no list in the catalog (ids or zones, e.g. spamhaus-zen,bl.spamcop.net)",
                args.lists.join(",")
            );
        }
    }
    let config = CheckerConfig {
        resolver: args.resolver.as_deref().map(parse_resolver).transpose()?,
        timeout: Duration::from_secs_f64(args.timeout.max(0.05)),
        attempts: 2,
        concurrency: args.concurrency.max(1),
        ptr: !args.no_ptr,
    };
    let (ips, domains) = lookup(targets, catalog, &config, args.quiet)?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        CheckFormat::Json => {
            /// An IP report with how many bounce records cite the IP.
            #[derive(serde::Serialize)]
            struct Cited<'a> {
                #[serde(flatten)]
                report: &'a IpReport,
                #[serde(skip_serializing_if = "Option::is_none")]
                bounces_citing: Option<usize>,
            }
            write!(out, "[")?;
            let mut first = true;
            for r in &ips {
                if !first {
                    write!(out, ",")?;
                }
                first = false;
                let c = Cited {
                    report: r,
                    bounces_citing: cited.get(&r.ip).copied(),
                };
                serde_json::to_writer_pretty(&mut out, &c)?;
            }
            for d in &domains {
                if !first {
                    write!(out, ",")?;
                }
                first = false;
                serde_json::to_writer_pretty(&mut out, d)?;
            }
            writeln!(out, "]")?;
        }
        CheckFormat::Table => print_table(&mut out, &ips, &domains, &cited)?,
    }
    out.flush()?;

    let all = ips
        .iter()
        .flat_map(|r| &r.lists)
        .chain(domains.iter().flat_map(|d| &d.lists));
    let (mut listed, mut errors) = (false, false);
    for l in all {
        listed |= l.status == Status::Listed && !l.good;
        errors |= l.status == Status::Error;
    }
    Ok(if listed {
        ExitCode::from(1)
    } else if errors {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Ask the blocklists (and PTR, per `config`) about `targets`, with a
/// progress bar unless `quiet`.
pub(crate) fn lookup(
    targets: Vec<Target>,
    catalog: Catalog,
    config: &CheckerConfig,
    quiet: bool,
) -> anyhow::Result<(Vec<IpReport>, Vec<DomainReport>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bar = crate::analyze::progress(
        targets.len() as u64,
        crate::analyze::Unit::Items("addresses and domains"),
        quiet,
    );
    let (ips, domains) = runtime.block_on(async {
        let checker = std::sync::Arc::new(Checker::new(catalog, config)?);
        if let Some(p) = checker.public_resolver() {
            eprintln!("outcry: warning: {p} is a public resolver; Spamhaus and other lists refuse it (their answers will show as errors). Use your own resolver.");
        }
        let mut tasks = Vec::new();
        for t in targets {
            let checker = checker.clone();
            let bar = bar.clone();
            tasks.push(tokio::spawn(async move {
                let out = match t {
                    Target::Ip(ip) => Ok(checker.check_ip(ip).await),
                    Target::Domain(d) => Err(checker.check_domain(&d).await),
                };
                bar.inc(1);
                out
            }));
        }
        let mut ips = Vec::new();
        let mut domains = Vec::new();
        for t in tasks {
            match t.await? {
                Ok(r) => ips.push(r),
                Err(d) => domains.push(d),
            }
        }
        anyhow::Ok((ips, domains))
    })?;
    bar.finish_and_clear();
    Ok((ips, domains))
}

fn parse_target(t: &str) -> anyhow::Result<Target> {
    let bare = t.trim_matches(['[', ']']);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(Target::Ip(ip));
    }
    let d = t.trim_end_matches('.');
    let ok = d.contains('.')
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !ok {
        bail!("{t:?} is neither an IP address nor a domain name");
    }
    Ok(Target::Domain(d.to_ascii_lowercase()))
}

/// `127.0.0.1`, `127.0.0.1:5353`, `::1`, `[::1]:5353`.
pub(crate) fn parse_resolver(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = s.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    bail!(
        "--resolver {s:?}: expected ADDR or ADDR:PORT, e.g. 127.0.0.1 or 127.0.0.1:5353 or [::1]:53"
    )
}

fn read_targets(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        ))
    };
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line?;
        let t = line.split('#').next().unwrap_or("").trim();
        if !t.is_empty() {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// Sending IPs in failed deliveries of the given bounces, with how many
/// records cite each.
fn sending_ips(paths: &[std::path::PathBuf]) -> BTreeMap<IpAddr, usize> {
    let mut out = BTreeMap::new();
    input::each_record(paths, |r| {
        if r.reason.is_failure()
            && let Some(ip) = r.sending_ip
        {
            *out.entry(ip).or_insert(0) += 1;
        }
    });
    out
}

fn status_word(l: &ListResult) -> String {
    match l.status {
        Status::Listed if l.good => "ALLOWLISTED".to_string(),
        Status::Listed => "LISTED".to_string(),
        Status::Clear => "clear".to_string(),
        Status::Error => "error".to_string(),
    }
}

fn print_lists(out: &mut dyn Write, lists: &[ListResult]) -> std::io::Result<()> {
    for l in lists {
        let detail = match l.status {
            Status::Listed => {
                let mut s = format!("{} ({})", l.codes.join(", "), l.meanings.join("; "));
                if !l.txt.is_empty() {
                    s.push_str(&format!(" \u{2014} {}", l.txt.join(" ")));
                }
                s
            }
            Status::Error => l.error.clone().unwrap_or_default(),
            Status::Clear => String::new(),
        };
        writeln!(
            out,
            "  {:<12} {:<28} {:<26} {}",
            status_word(l),
            l.name,
            l.zone,
            detail
        )?;
    }
    Ok(())
}

fn print_table(
    out: &mut dyn Write,
    ips: &[IpReport],
    domains: &[DomainReport],
    cited: &BTreeMap<IpAddr, usize>,
) -> std::io::Result<()> {
    for r in ips {
        let owner = match (&r.owner.name, r.shared_pool) {
            (Some(n), true) => format!("{n} (shared pool)"),
            (Some(n), false) => n.clone(),
            (None, _) => "not a recognised provider".to_string(),
        };
        let ptr = match (&r.ptr, r.ptr_confirmed) {
            (Some(p), true) => format!("{p} (forward-confirmed)"),
            (Some(p), false) => format!("{p} (does NOT resolve back)"),
            (None, _) => "no PTR".to_string(),
        };
        write!(out, "{}  {}  owner: {}", r.ip, ptr, owner)?;
        if let Some(asn) = r.owner.asn {
            write!(out, "  AS{asn}")?;
        }
        if let Some(n) = cited.get(&r.ip) {
            write!(out, "  cited by {n} bounce record(s)")?;
        }
        writeln!(out)?;
        print_lists(out, &r.lists)?;
        writeln!(out)?;
    }
    for d in domains {
        writeln!(out, "{}", d.domain)?;
        if d.lists.is_empty() {
            writeln!(
                out,
                "  (no domain blocklist selected; domains are checked against lists of kind \"domain\", e.g. spamhaus-dbl)"
            )?;
        }
        print_lists(out, &d.lists)?;
        writeln!(out)?;
    }
    Ok(())
}

/// What a check found about one IP, in the form the store keeps and the
/// packet shows.
pub(crate) fn standing(r: &IpReport, checked_at: i64) -> Standing {
    let names = |status: Status| -> Vec<String> {
        r.lists
            .iter()
            .filter(|l| l.status == status)
            .map(|l| l.name.clone())
            .collect()
    };
    Standing {
        ip: r.ip,
        checked_at,
        ptr: r.ptr.clone(),
        ptr_confirmed: r.ptr_confirmed,
        owner: r.owner.name.clone(),
        shared_pool: r.shared_pool,
        listed: r
            .lists
            .iter()
            .filter(|l| l.status == Status::Listed)
            .map(|l| Listing {
                list: l.name.clone(),
                zone: l.zone.clone(),
                codes: l.codes.clone(),
                meanings: l.meanings.clone(),
                good: l.good,
            })
            .collect(),
        clear: names(Status::Clear),
        errors: names(Status::Error),
    }
}
