//! `outcry demo`: the whole story on bundled sample bounces.

use crate::incidents;
use anyhow::Context as _;
use outcry_incident::{Thresholds, detect};
use outcry_report::Packet;
use outcry_store::{Keyed, Party};
use std::path::PathBuf;
use std::process::ExitCode;

/// The tenant's message trace before the outage (samples/message-trace.csv).
const DEMO_TRACE: &[u8] = include_bytes!("../../../samples/message-trace.csv");

/// The demo bounces (samples/demo), embedded so `outcry demo` needs no files.
pub const DEMO_BOUNCES: &[(&str, &[u8])] = &[
    (
        "01-20261104-1402.eml",
        include_bytes!("../../../samples/demo/01-20261104-1402.eml"),
    ),
    (
        "02-20261104-1532.eml",
        include_bytes!("../../../samples/demo/02-20261104-1532.eml"),
    ),
    (
        "03-20261104-1714.eml",
        include_bytes!("../../../samples/demo/03-20261104-1714.eml"),
    ),
    (
        "04-20261104-1902.eml",
        include_bytes!("../../../samples/demo/04-20261104-1902.eml"),
    ),
    (
        "05-20261104-2232.eml",
        include_bytes!("../../../samples/demo/05-20261104-2232.eml"),
    ),
    (
        "06-20261105-1002.eml",
        include_bytes!("../../../samples/demo/06-20261105-1002.eml"),
    ),
    (
        "07-20261105-1302.eml",
        include_bytes!("../../../samples/demo/07-20261105-1302.eml"),
    ),
    (
        "08-20261105-1602.eml",
        include_bytes!("../../../samples/demo/08-20261105-1602.eml"),
    ),
    (
        "09-20261105-2002.eml",
        include_bytes!("../../../samples/demo/09-20261105-2002.eml"),
    ),
    (
        "10-20261106-1002.eml",
        include_bytes!("../../../samples/demo/10-20261106-1002.eml"),
    ),
    (
        "11-20261106-1332.eml",
        include_bytes!("../../../samples/demo/11-20261106-1332.eml"),
    ),
    (
        "12-20261106-1802.eml",
        include_bytes!("../../../samples/demo/12-20261106-1802.eml"),
    ),
    (
        "13-20261107-0202.eml",
        include_bytes!("../../../samples/demo/13-20261107-0202.eml"),
    ),
    (
        "14-20261107-1002.eml",
        include_bytes!("../../../samples/demo/14-20261107-1002.eml"),
    ),
    (
        "15-20261105-0002.eml",
        include_bytes!("../../../samples/demo/15-20261105-0002.eml"),
    ),
    (
        "16-20261106-0102.eml",
        include_bytes!("../../../samples/demo/16-20261106-0102.eml"),
    ),
];

/// The tenant's ticket with Microsoft in the story.
const TICKET: &str = "31415926";
/// When Microsoft said it was fixed: 2026-11-05 10:00 UTC.
const CLAIM_AT: i64 = 1_793_872_800;

/// Run `outcry demo`: decode the bundled bounces of a small business on
/// Microsoft 365, find the incident, say whose fault it is, and write the
/// evidence packet.
pub fn run(out_dir: Option<&PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = match out_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("outcry-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The demo's own store, fresh on every run, so its ticket is not doubled.
    let db = dir.join("outcry.db");
    if db.exists() {
        std::fs::remove_file(&db).with_context(|| format!("cannot replace {}", db.display()))?;
    }
    let mut store = crate::store::open(Some(&db.display().to_string()))?;
    let mut keyed = Vec::new();
    let mut records = 0;
    for (name, bytes) in DEMO_BOUNCES {
        let found =
            outcry_bounce::analyze(bytes).with_context(|| format!("bundled bounce {name}"))?;
        records += found.len();
        keyed.extend(found.iter().filter_map(Keyed::from_record));
    }
    store.ingest(&keyed)?;
    // Four weeks of the tenant's message trace rank its correspondents.
    let (_, volume) = outcry_logs::volume(DEMO_TRACE).context("bundled message trace")?;
    let important = incidents::key_correspondents(&volume, 10);
    let (failures, ctx) = incidents::context(store.failures()?, &[], &important, Vec::new());
    // The story's "now": two hours after the last bounce.
    let now = failures.iter().map(|f| f.at).max().unwrap_or(0) + 2 * 3600;
    let found = detect(&failures, &ctx, &Thresholds::default(), now);
    println!(
        "outcry demo: {} bundled bounces of contoso-bakery.example (on Microsoft 365), {records} records, {} failures, stored in {}.\n",
        DEMO_BOUNCES.len(),
        failures.len(),
        db.display()
    );
    let mut stdout = std::io::stdout();
    incidents::print(&mut stdout, &found, failures.len())?;
    let Some(main) = found.iter().max_by_key(|i| i.failures) else {
        anyhow::bail!("the demo found no incident: the bundled bounces or the rules are broken");
    };
    // The ticket with Microsoft, its "fixed" claim and the tenant's reply,
    // kept in the store: opened three hours into the outage, "resolved" on
    // Thursday 10:00, reopened that afternoon as the bounces went on.
    let ticket = store.add_ticket(
        Party::Provider,
        TICKET,
        Some(&main.id),
        main.first_seen + 3 * 3600,
    )?;
    store.update_ticket(
        ticket,
        "resolved",
        "Microsoft: the IPs were delisted",
        CLAIM_AT,
    )?;
    store.add_claim(
        ticket,
        CLAIM_AT,
        "Microsoft 365 support: resolved",
        CLAIM_AT,
    )?;
    store.update_ticket(
        ticket,
        "reopened",
        "bounces continue after the fix; evidence packet attached",
        CLAIM_AT + 6 * 3600,
    )?;
    let (claims, logs) = crate::store::for_incident(&store.tickets()?, &main.id);
    let mut packet = Packet::new(main, &failures, &ctx, claims, now);
    packet.tickets = logs;
    println!("\nEvidence packet:");
    for (file, text) in [
        ("incident.html", outcry_report::html(&packet)),
        ("incident.md", outcry_report::markdown(&packet)),
        ("incident.json", outcry_report::json(&packet)),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("  {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
