//! `outcry report`: the evidence packet of one incident.

use crate::{PacketFormat, ReportArgs, incidents};
use anyhow::{Context as _, bail};
use outcry_incident::{Thresholds, detect};
use outcry_report::{Claim, Packet};
use std::path::PathBuf;
use std::process::ExitCode;

/// Run `outcry report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let (paths, named): (Vec<&PathBuf>, Vec<&PathBuf>) =
        args.paths.iter().partition(|p| p.exists());
    let wanted = match (named.as_slice(), &args.incident) {
        ([], id) => id.clone(),
        ([one], None) => Some(one.display().to_string()),
        _ => bail!(
            "{} are neither files nor folders, and only one incident can be reported at a time",
            named
                .iter()
                .map(|p| format!("{:?}", p.display().to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let paths: Vec<PathBuf> = paths.into_iter().cloned().collect();
    let incidents::Gathered {
        failures,
        ctx,
        store,
        now,
    } = incidents::gather(&paths, &args.situation)?;
    let tickets = match store {
        Some(mut s) => s.tickets()?,
        None => Vec::new(),
    };
    let found = detect(&failures, &ctx, &Thresholds::default(), now);
    let incident = match &wanted {
        Some(id) => found.iter().find(|i| &i.id == id).with_context(|| {
            let ids: Vec<&str> = found.iter().map(|i| i.id.as_str()).collect();
            format!(
                "no incident {id:?} (and no file or folder of that name); incidents found: {}",
                if ids.is_empty() {
                    "none".to_string()
                } else {
                    ids.join(", ")
                }
            )
        })?,
        None => match found.iter().max_by_key(|i| (i.failures, i.last_seen)) {
            Some(i) => i,
            None => bail!(
                "no incident in these bounces ({} failures): nothing to report",
                failures.len()
            ),
        },
    };
    let mut claims = args
        .claim
        .iter()
        .map(|c| parse_claim(c))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (stored_claims, logs) = crate::store::for_incident(&tickets, &incident.id);
    claims.extend(stored_claims);
    let mut packet = Packet::new(incident, &failures, &ctx, claims, now);
    packet.tickets = logs;
    let text = match args.format {
        PacketFormat::Html => outcry_report::html(&packet),
        PacketFormat::Md => outcry_report::markdown(&packet),
        PacketFormat::Json => outcry_report::json(&packet),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("{}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `2026-11-05T10:00Z=Microsoft, ticket 12345`.
fn parse_claim(s: &str) -> anyhow::Result<Claim> {
    let (when, who) = s.split_once('=').unwrap_or((s, "the vendor"));
    let at = outcry_report::parse_utc(when).with_context(|| {
        format!("--claim {s:?}: the time must look like 2026-11-05T10:00Z (UTC)")
    })?;
    Ok(Claim {
        at,
        who: who.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn claims() {
        let c = super::parse_claim(" 2026-11-04T14:02Z = Microsoft").unwrap();
        assert_eq!((c.at, c.who.as_str()), (1_793_800_920, "Microsoft"));
        assert!(super::parse_claim("yesterday=x").is_err());
    }
}
