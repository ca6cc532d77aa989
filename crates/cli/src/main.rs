//! `outcry`: find out why your mail bounces, prove whose fault it is, and
//! rally the others hit by the same problem.

// The doc comments on the command-line types are also `--help` text, where
// an example URL reads better bare than in rustdoc's `<...>`.
#![allow(rustdoc::bare_urls)]

mod analyze;
mod check;
mod demo;
mod hub;
mod incidents;
mod input;
mod report;
mod store;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// outcry reads the bounces your mail system sends back, tells you why each
/// delivery failed and which sending IP and blocklist are involved.
#[derive(Parser)]
#[command(
    name = "outcry",
    version,
    about = "Why is your mail bouncing, whose fault is it, and who else is hit?",
    long_about = "Why is your mail bouncing, whose fault is it, and who else is hit?\n\n\
        Start with `outcry demo`. Then: `outcry analyze` reads your bounces, `outcry check` \
        asks the blocklists about your sending IPs, `outcry incidents` finds the outages and \
        says whose fault each one is, and `outcry report` writes the evidence packet for your \
        support ticket.",
    after_help = "Every command takes --help with examples. Exit status 2 means a usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The whole story on bundled sample bounces, start here.
    ///
    /// A small business on Microsoft 365 whose mail is refused for three
    /// days: finds the incident, says whose fault it is, checks the vendor's
    /// "fixed" claim against the bounces that followed, and writes the
    /// evidence packet (HTML, Markdown, JSON), printing where.
    Demo {
        /// Where to write the packet (default: a new folder under the temp dir).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Analyse bounces: .eml files, folders (recursive, Maildir too) and mbox files.
    ///
    /// Prints one row per failed (or delayed, delivered, complained-about)
    /// delivery and a summary by reason, recipient domain, sending IP and
    /// blocklist. A file that cannot be read, or is not an e-mail message at
    /// all (a PDF, a picture, a CSV), is reported on stderr and the run goes
    /// on; a message that is not a bounce is only counted. In a Maildir the
    /// mail store's own files (dovecot-uidlist, dovecot.index*, maildirsize,
    /// ...) are left out.
    ///
    /// Exit status: 0 every input was read; 1 some inputs could not be read
    /// or parsed (they are listed on stderr); 2 usage error.
    ///
    /// Examples:
    ///   outcry analyze ~/Maildir/.Bounces
    ///   outcry analyze --format jsonl bounces.mbox > records.jsonl
    #[command(verbatim_doc_comment)]
    Analyze(AnalyzeArgs),
    /// Check IPs and domains against DNS blocklists, and find who owns each IP.
    ///
    /// Every (address, list) pair is reported as listed (with the return
    /// codes, what they mean and the list's TXT reason), clear, or error
    /// (timeout, refused, an operator's error code, a dead list): an error
    /// is never shown as clear or listed. For each IP: its PTR name, whether
    /// the name resolves back, and the owner when it is a big provider's
    /// outbound infrastructure (marked as a shared pool).
    ///
    /// Use your own resolver: Spamhaus and others refuse public resolvers
    /// (8.8.8.8, 1.1.1.1, ...) and answer them with error codes.
    ///
    /// Exit status: 0 everything clear; 1 listed on at least one blocklist;
    /// 2 errors only (nothing listed, some lists could not be asked).
    ///
    /// Examples:
    ///   outcry check 40.107.22.93 example.com
    ///   outcry check --resolver 127.0.0.1:5353 --format json 192.0.2.1
    ///   outcry check --from-bounces ~/Maildir/.Bounces
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// Find the incidents in bounces and say whose fault each one is.
    ///
    /// Groups the failures by cause (the sending IP range refused for its
    /// reputation, the sender's own authentication, bad addresses, one
    /// recipient's server, ...), opens an incident when a group crosses the
    /// thresholds, and gives a verdict (own, provider, recipient, blocklist,
    /// unknown) with a confidence and the evidence for and against it. The
    /// rules are in docs/attribution.md. Works offline: provider ownership
    /// comes from the bundled prefix table.
    ///
    /// Exit status: 0 no open incident; 1 at least one open incident.
    ///
    /// Examples:
    ///   outcry incidents ~/Maildir/.Bounces
    ///   outcry incidents --own-network 203.0.113.0/24 --format json bounces.mbox
    #[command(verbatim_doc_comment)]
    Incidents(IncidentsArgs),
    /// Write the evidence packet of an incident: HTML, Markdown or JSON.
    ///
    /// The HTML page is self-contained (no external assets): a timeline of
    /// failures per hour and recipient domain with markers for the vendor's
    /// claims, the affected domains, the sending IPs, the verdict with its
    /// evidence, what is already ruled out, and the recipients' own words
    /// with addresses masked. Markdown is for pasting into a ticket or forum.
    ///
    /// Examples:
    ///   outcry report reputation-pool-40.107.22.0_24-1793800920 --format md -o incident.md   (from the store)
    ///   outcry report samples/demo -o incident.html
    ///   outcry report samples/demo --claim "2026-11-05T10:00Z=Microsoft, ticket 12345" --format md -o incident.md
    #[command(verbatim_doc_comment)]
    Report(ReportArgs),
    /// Store the failures of bounces (idempotent: a bounce ingested twice counts once).
    ///
    /// The store is a SQLite file under your data folder by default, or
    /// PostgreSQL with --db postgres://... It keeps recipient domains and
    /// masked error texts, never the local part of an address.
    ///
    /// Then asks the DNS blocklists about every sending IP not checked in
    /// the last hour (owner, PTR, listings) and keeps the answers, so
    /// `outcry incidents` and `outcry report` can show them offline.
    /// --offline skips that; --resolver picks the nameserver (default: the
    /// system's; Spamhaus refuses public resolvers).
    ///
    /// Examples:
    ///   outcry ingest ~/Maildir/.Bounces
    ///   outcry ingest --offline bounces.mbox
    ///   outcry ingest --resolver 127.0.0.1 --db postgres://outcry@db.internal/outcry bounces.mbox
    #[command(verbatim_doc_comment)]
    Ingest(IngestArgs),
    /// Share anonymised fingerprints of your incidents with a hub (opt-in).
    ///
    /// Sends, per incident: provider, sending IPs and ranges, reason
    /// family, status codes, blocklists, rejecting operators (private ones
    /// hashed), masked error templates, first/last seen, counts, recipient
    /// domains as keyed hashes, and the verdict; the ticket number and the
    /// vendor's claims only with --with-ticket / --with-claims. Never local
    /// parts, subjects or bodies. --dry-run prints exactly that.
    ///
    /// Examples:
    ///   outcry share --dry-run
    ///   outcry share --hub https://hub.example.org --token oc_... --with-ticket --with-claims
    ///   outcry share --incident reputation-pool-40.107.22.0_24-1793800920
    #[command(verbatim_doc_comment)]
    Share(ShareArgs),
    /// The hub: pooled incidents across organisations.
    Hub {
        /// What to do.
        #[command(subcommand)]
        action: HubCmd,
    },
    /// Tickets with the provider, a blocklist operator or a recipient, and
    /// the vendors' "fixed" claims, kept in the store.
    ///
    /// Examples:
    ///   outcry ticket add --party provider --number 31415926 --incident reputation-pool-40.107.22.0_24-1793800920
    ///   outcry ticket update 1 --status escalated --note "joint escalation with 4 other tenants"
    ///   outcry ticket claim 1 --fixed-at 2026-11-05T10:00Z --text "Microsoft: resolved"
    ///   outcry ticket list
    #[command(verbatim_doc_comment)]
    Ticket {
        /// What to do.
        #[command(subcommand)]
        action: TicketCmd,
        /// The store: a SQLite file or postgres://...
        #[arg(long, env = "OUTCRY_DB", global = true)]
        db: Option<String>,
    },
}

/// Arguments of `outcry ingest`.
#[derive(clap::Args)]
pub struct IngestArgs {
    /// Bounce files, folders (Maildir) or mbox files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The store: a SQLite file or postgres://...
    #[arg(long, env = "OUTCRY_DB")]
    db: Option<String>,
    /// Do not ask DNS about the sending IPs.
    #[arg(long)]
    offline: bool,
    /// The DNS resolver to ask, ADDR or ADDR:PORT (default: the system's).
    #[arg(long, value_name = "ADDR[:PORT]", env = "OUTCRY_RESOLVER")]
    resolver: Option<String>,
    /// Seconds to wait for one DNS answer.
    #[arg(long, default_value_t = 3.0)]
    timeout: f64,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Arguments of `outcry share` (and `outcry hub status`).
#[derive(clap::Args, Clone)]
pub struct ShareArgs {
    /// The incident to share (see `outcry incidents`); default: every open one.
    #[arg(long)]
    incident: Option<String>,
    /// Bounce files, folders or mbox files; none: the store.
    paths: Vec<PathBuf>,
    #[command(flatten)]
    situation: Situation,
    /// Share closed incidents too.
    #[arg(long)]
    all: bool,
    /// The hub's URL, e.g. https://hub.example.org
    #[arg(long, env = "OUTCRY_HUB")]
    hub: Option<String>,
    /// This organisation's hub token (`outcry hub register` issues one).
    #[arg(long, env = "OUTCRY_HUB_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The key for the hashes of recipient domains and private rejecting
    /// hosts: agree on one with the other organisations and keep it from
    /// the hub operator (see docs/hub.md).
    #[arg(long, env = "OUTCRY_SHARE_KEY", hide_env_values = true, default_value = hub::DEFAULT_SHARE_KEY)]
    share_key: String,
    /// Include the provider ticket's number and status (opt-in).
    #[arg(long)]
    with_ticket: bool,
    /// Include the vendor's "fixed at" claims from the ticket (opt-in).
    #[arg(long)]
    with_claims: bool,
    /// Print exactly what would be sent, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format (`outcry hub status`).
    #[arg(long, short, value_enum, default_value_t = CheckFormat::Table)]
    format: CheckFormat,
}

/// Arguments of `outcry hub serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8480")]
    listen: String,
    /// The hub's database: a SQLite file (default: hub.db beside the local
    /// store) or postgres://... (several hub processes may share one).
    #[arg(long, env = "OUTCRY_HUB_DB")]
    db: Option<String>,
    /// Organisations needed before a joint incident is public.
    #[arg(long, default_value_t = 3)]
    k: i64,
    /// Of which at least this many must have proved a domain (verified
    /// organisations count for more; 0: any organisation counts).
    #[arg(long, default_value_t = 0)]
    min_verified: i64,
    /// The resolver for domain proofs, ADDR or ADDR:PORT (default: the system's).
    #[arg(long, value_name = "ADDR[:PORT]")]
    resolver: Option<String>,
    /// Requests per minute per client IP (0: no limit).
    #[arg(long, default_value_t = 600)]
    rate_per_ip: u32,
    /// Submissions per minute per organisation (0: no limit).
    #[arg(long, default_value_t = 60)]
    rate_per_org: u32,
    /// Registrations per hour per client IP (0: no limit).
    #[arg(long, default_value_t = 10)]
    registrations_per_hour: u32,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 65536)]
    max_body: usize,
    /// Behind a reverse proxy: rate-limit by the last X-Forwarded-For
    /// address instead of the proxy's.
    #[arg(long)]
    trust_forwarded_for: bool,
}

/// `outcry hub` actions.
#[derive(Subcommand)]
pub enum HubCmd {
    /// Run a hub: API, pages and feeds.
    ///
    /// Examples:
    ///   outcry hub serve --listen 0.0.0.0:8480
    ///   outcry hub serve --db postgres://hub@db.internal/hub --k 5
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
    /// Register this organisation with a hub; prints its token once.
    Register {
        /// The hub's URL.
        #[arg(long, env = "OUTCRY_HUB")]
        hub: String,
        /// The organisation's name (the hub never publishes it).
        #[arg(long)]
        name: String,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
    },
    /// Report a problem no bounce shows (a console down, mail delayed).
    Report {
        /// The hub's URL.
        #[arg(long, env = "OUTCRY_HUB")]
        hub: String,
        /// This organisation's hub token.
        #[arg(long, env = "OUTCRY_HUB_TOKEN", hide_env_values = true)]
        token: String,
        /// The provider, e.g. "Microsoft 365".
        #[arg(long)]
        provider: String,
        /// The service, e.g. email, admin console.
        #[arg(long)]
        service: String,
        /// The symptom in a few words (no personal data).
        #[arg(long)]
        symptom: String,
        /// When it started, as 2026-11-05T10:00Z.
        #[arg(long)]
        since: String,
        /// Your ticket number with the provider, to share with the others.
        #[arg(long)]
        ticket: Option<String>,
    },
    /// The hub's public joint incidents that match your local incidents,
    /// with their organisations, tickets and escalation text. Sends
    /// nothing about your incidents: the matching happens here.
    Status(ShareArgs),
}

/// `outcry ticket` actions.
#[derive(Subcommand)]
pub enum TicketCmd {
    /// Open a ticket.
    Add {
        /// provider, blocklist or recipient.
        #[arg(long)]
        party: String,
        /// Their ticket number.
        #[arg(long)]
        number: String,
        /// The incident it is about.
        #[arg(long)]
        incident: Option<String>,
    },
    /// Record a status change.
    Update {
        /// The ticket id (see `outcry ticket list`).
        id: i64,
        /// The new status (open, escalated, acknowledged, closed, ...).
        #[arg(long)]
        status: String,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record a vendor's claim that the problem was fixed.
    Claim {
        /// The ticket id.
        id: i64,
        /// When they say it was fixed, as 2026-11-05T10:00Z.
        #[arg(long)]
        fixed_at: String,
        /// What they said.
        #[arg(long, default_value = "fixed")]
        text: String,
    },
    /// List the tickets with their history.
    List {
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
    },
}

/// Packet formats.
#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum PacketFormat {
    /// Self-contained HTML with an SVG timeline.
    Html,
    /// Markdown.
    Md,
    /// JSON.
    Json,
}

/// Arguments of `outcry report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The incident id (from `outcry incidents`), and/or bounce files,
    /// folders (Maildir) or mbox files; no files: the store (with its
    /// tickets' claims). An argument that is not a file or folder is taken
    /// as the incident id.
    #[arg(value_name = "INCIDENT|PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    situation: Situation,
    /// The incident id (see `outcry incidents`); default: the largest incident.
    #[arg(long, value_name = "INCIDENT")]
    incident: Option<String>,
    /// A vendor claim to check: WHEN=WHO, WHEN as 2026-11-05T10:00Z (repeatable).
    #[arg(long, value_name = "WHEN=WHO")]
    claim: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = PacketFormat::Html)]
    format: PacketFormat,
    /// Where to write the packet (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Arguments of `outcry incidents`.
#[derive(clap::Args)]
pub struct IncidentsArgs {
    /// Bounce files, folders (Maildir) or mbox files; none: the failures in the store.
    paths: Vec<PathBuf>,
    #[command(flatten)]
    situation: Situation,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = CheckFormat::Table)]
    format: CheckFormat,
}

/// Where the failures come from and what is known about the organisation:
/// shared by `outcry incidents` and `outcry report`.
#[derive(clap::Args, Clone)]
pub struct Situation {
    /// The store: a SQLite file or postgres://...
    #[arg(long, env = "OUTCRY_DB")]
    db: Option<String>,
    /// The organisation's own sending networks (repeatable), e.g. 203.0.113.0/24.
    #[arg(long, value_name = "CIDR")]
    own_network: Vec<ipnet::IpNet>,
    /// The organisation's most important correspondents (recipient domains),
    /// in addition to the biggest ones in --logs.
    #[arg(long, value_delimiter = ',', value_name = "DOMAIN")]
    important: Vec<String>,
    /// Delivery logs that rank recipient domains by message volume: a
    /// Postfix mail log or an Exchange Online message-trace CSV (repeatable).
    #[arg(long, value_name = "FILE")]
    logs: Vec<PathBuf>,
    /// How many of the biggest domains in --logs are key correspondents.
    #[arg(long, default_value_t = 10, value_name = "N")]
    key_correspondents: usize,
    /// Evaluate as of this Unix time (default: now).
    #[arg(long)]
    now: Option<i64>,
}

/// Output formats of `check`.
#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A readable table.
    Table,
    /// A JSON array: one object per IP or domain.
    Json,
}

/// Arguments of `outcry check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// IP addresses (IPv4 or IPv6) and domains to check.
    targets: Vec<String>,
    /// Also check every sending IP found in these bounces (files, folders, mbox).
    #[arg(long, value_name = "PATH")]
    from_bounces: Vec<PathBuf>,
    /// Read more targets from this file, one per line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// The DNS resolver to ask, ADDR or ADDR:PORT (default: the system's).
    #[arg(long, value_name = "ADDR[:PORT]", env = "OUTCRY_RESOLVER")]
    resolver: Option<String>,
    /// A catalog file (same format as the bundled one) that adds or overrides lists.
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// Only these lists (ids or zones, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    lists: Vec<String>,
    /// Seconds to wait for one answer.
    #[arg(long, default_value_t = 3.0)]
    timeout: f64,
    /// Queries in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = CheckFormat::Table)]
    format: CheckFormat,
    /// Skip the PTR lookups (ownership then rests on the prefix table alone).
    #[arg(long)]
    no_ptr: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Output formats of `analyze`.
#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table with a summary.
    Table,
    /// One JSON object per record (Sisimai-compatible field names).
    Jsonl,
    /// One JSON document: records, summary and unreadable inputs.
    Json,
}

/// Arguments of `outcry analyze`.
#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Files or folders to read.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Worker threads (default: all cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Also print a row for files that hold no bounce (jsonl: `records: 0`).
    #[arg(long)]
    empty: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// mimalloc instead of glibc's malloc: `analyze` allocates and frees many
/// small strings per message on every worker, and glibc's arenas made that
/// about a tenth of the run (measured with perf, `bench/run.sh`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Demo { out } => demo::run(out.as_ref()),
        Cmd::Analyze(a) => analyze::run(&a),
        Cmd::Check(a) => check::run(&a),
        Cmd::Incidents(a) => incidents::run(&a),
        Cmd::Report(a) => report::run(&a),
        Cmd::Ingest(a) => store::ingest(&a),
        Cmd::Ticket { action, db } => store::ticket(&action, db.as_deref()),
        Cmd::Share(a) => hub::share(&a),
        Cmd::Hub { action } => hub::hub(&action),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`outcry analyze ... | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("outcry: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
