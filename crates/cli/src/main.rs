//! `outcry`: find out why your mail bounces, prove whose fault it is, and
//! rally the others hit by the same problem.

mod analyze;
mod input;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// outcry reads the bounces your mail system sends back, tells you why each
/// delivery failed and which sending IP and blocklist are involved.
#[derive(Parser)]
#[command(name = "outcry", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Analyse bounces: .eml files, folders (recursive, Maildir too) and mbox files.
    ///
    /// Prints one row per failed (or delayed, delivered, complained-about)
    /// delivery and a summary by reason, recipient domain, sending IP and
    /// blocklist. A file that cannot be read is reported on stderr and the
    /// run goes on.
    ///
    /// Exit status: 0 every input was read; 1 some inputs could not be read
    /// or parsed (they are listed on stderr); 2 usage error.
    ///
    /// Examples:
    ///   outcry analyze ~/Maildir/.Bounces
    ///   outcry analyze --format jsonl bounces.mbox > records.jsonl
    #[command(verbatim_doc_comment)]
    Analyze(AnalyzeArgs),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Analyze(a) => analyze::run(&a),
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
