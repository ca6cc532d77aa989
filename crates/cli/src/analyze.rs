//! `outcry analyze`: read inputs, decode in parallel batches, print.

use crate::input::{self, Item};
use crate::{AnalyzeArgs, Format};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use outcry_bounce::Record;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

const BATCH: usize = 1024;

/// The outcome of one message.
struct Outcome {
    file: String,
    position: usize,
    result: Result<Vec<Record>, String>,
    /// The records as JSON lines, rendered by the worker (`--format jsonl`),
    /// each split where its `index` value goes: the index counts records
    /// across an mbox's messages, so only the writer knows it.
    rendered: Vec<(String, String)>,
}

/// What the writer needs to know about the command line.
#[derive(Clone, Copy)]
struct Output {
    format: Format,
    empty: bool,
}

/// Run `outcry analyze`.
///
/// Three stages overlap: a reader thread splits the inputs into batches, the
/// worker pool decodes one batch (and renders its JSON lines) while a writer
/// thread prints the previous one. Two batches in flight on each side bound
/// the memory.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    // The engine's rule tables are built on another thread meanwhile (the
    // workers wait for them only if they get there first).
    let prepared = std::thread::spawn(outcry_bounce::prepare);
    let (files, unreadable) = input::expand(&args.paths);
    let bar = progress(files.len() as u64, args.quiet);
    let output = Output {
        format: args.format,
        empty: args.empty,
    };

    let (to_workers, batches) = std::sync::mpsc::sync_channel::<Vec<Item>>(2);
    let reader_bar = bar.clone();
    let reader = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(BATCH);
        for path in &files {
            for item in input::messages(path) {
                batch.push(item);
                if batch.len() >= BATCH
                    && to_workers
                        .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        .is_err()
                {
                    return;
                }
            }
            reader_bar.inc(1);
        }
        let _ = to_workers.send(batch);
    });
    let (to_writer, decoded) = std::sync::mpsc::sync_channel::<Vec<Outcome>>(2);
    let writer = std::thread::spawn(move || write_all(output, decoded, unreadable));

    for mut batch in batches {
        let outcomes: Vec<Outcome> = pool.install(|| {
            batch
                .par_drain(..)
                .map(|item| decode(item, output.format))
                .collect()
        });
        if to_writer.send(outcomes).is_err() {
            break; // the writer stopped (an error it reports below)
        }
    }
    drop(to_writer);
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the output writer thread failed"))?;
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the input reader thread failed"))?;
    prepared
        .join()
        .map_err(|_| anyhow::anyhow!("building the engine's rule tables failed"))?;
    bar.finish_and_clear();
    let failures = written?;
    for (f, e) in &failures {
        eprintln!("outcry: {f}: {e}");
    }
    if !failures.is_empty() {
        eprintln!(
            "outcry: {} input(s) could not be read or parsed; the rest were analysed",
            failures.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Decode one message (on a worker) and, for JSON Lines, render its records.
fn decode(item: Item, format: Format) -> Outcome {
    let mut result = item
        .bytes
        .and_then(|b| outcry_bounce::analyze(&b).map_err(|e| e.to_string()));
    let mut rendered = Vec::new();
    if format == Format::Jsonl
        && let Ok(records) = &result
    {
        let lines: Result<Vec<_>, _> = records
            .iter()
            .map(|r| serde_json::to_string(&JsonRecord::new(&item.file, 0, r)).map(split_at_index))
            .collect();
        match lines {
            Ok(lines) => rendered = lines,
            Err(e) => result = Err(format!("cannot write the records as JSON: {e}")),
        }
    }
    Outcome {
        file: item.file,
        position: item.position,
        result,
        rendered,
    }
}

/// The writer thread: prints every batch in input order, then the summary
/// (table) or the whole document (JSON). Returns the inputs that could not
/// be read or parsed, with why.
fn write_all(
    output: Output,
    decoded: std::sync::mpsc::Receiver<Vec<Outcome>>,
    mut failures: Vec<(String, String)>,
) -> anyhow::Result<Vec<(String, String)>> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut summary = Summary::default();
    let mut all: Vec<Value> = Vec::new();
    // `index` counts records per file, across the messages of an mbox (as
    // Sisimai numbers them): the file being written and its records so far.
    let mut numbering: (String, usize) = (String::new(), 0);
    if output.format == Format::Table {
        writeln!(
            out,
            "{:<32} {:<15} {:<8} {:<5} {:<16} {:<15} FILE",
            "RECIPIENT", "REASON", "STATUS", "REPLY", "SENDING IP", "BLOCKLIST"
        )?;
    }
    for batch in decoded {
        for o in batch {
            let records = match o.result {
                Ok(records) => records,
                Err(e) => {
                    let place = if o.position > 0 {
                        format!("{} (message {})", o.file, o.position)
                    } else {
                        o.file.clone()
                    };
                    failures.push((place, e));
                    continue;
                }
            };
            if numbering.0 != o.file {
                numbering = (o.file.clone(), 0);
            }
            let offset = numbering.1;
            numbering.1 += records.len();
            summary.messages += 1;
            if records.is_empty() {
                summary.not_bounces += 1;
                if output.empty && output.format == Format::Jsonl {
                    writeln!(out, "{}", json!({"file": o.file, "index": 0, "records": 0}))?;
                }
            }
            for (i, (head, tail)) in o.rendered.iter().enumerate() {
                writeln!(out, "{head}{}{tail}", offset + i + 1)?;
            }
            for (i, r) in records.iter().enumerate() {
                summary.add(r);
                match output.format {
                    Format::Jsonl => {}
                    Format::Json => all.push(serde_json::to_value(JsonRecord::new(
                        &o.file,
                        offset + i + 1,
                        r,
                    ))?),
                    Format::Table => table_row(&mut out, &o.file, r)?,
                }
            }
        }
    }
    match output.format {
        Format::Table => summary.print(&mut out, failures.len())?,
        Format::Json => {
            let doc = json!({
                "records": all,
                "summary": summary.to_json(),
                "unreadable": failures.iter().map(|(f, e)| json!({"file": f, "error": e})).collect::<Vec<_>>(),
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Jsonl => {}
    }
    out.flush()?;
    Ok(failures)
}

pub(crate) fn progress(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let template = if colour {
        "{bar:40.cyan/blue} {pos}/{len} files {elapsed}"
    } else {
        "{bar:40} {pos}/{len} files {elapsed}"
    };
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Split a record rendered with `index` 0 around that value: the text up to
/// `"index":` and the text after the 0. (Inside a string value a quote is
/// always escaped, so only the key itself can match.)
fn split_at_index(mut line: String) -> (String, String) {
    const KEY: &str = "\"index\":0";
    let at = line
        .find(KEY)
        .expect("to_json writes the index of every record");
    let tail = line.split_off(at + KEY.len());
    line.pop(); // the placeholder 0
    (line, tail)
}

/// One record as a Sisimai-compatible JSON object, plus outcry's fields.
/// Serialised directly (no intermediate `serde_json::Value`); the fields are
/// in alphabetical order, the order the output has always had.
#[derive(serde::Serialize)]
struct JsonRecord<'a> {
    action: &'static str,
    addresser: &'a str,
    blocklist: Option<&'static str>,
    command: &'static str,
    decodedby: &'static str,
    deliverystatus: &'a str,
    diagnosticcode: &'a str,
    diagnostictype: &'a str,
    feedbacktype: &'a str,
    file: &'a str,
    hardbounce: bool,
    index: usize,
    messageid: &'a str,
    reason: &'static str,
    recipient: &'a str,
    remote_mta: &'a str,
    replycode: String,
    reporting_mta: &'a str,
    sending_ip: Option<String>,
    timestamp: Option<i64>,
}

impl<'a> JsonRecord<'a> {
    /// The JSON view of record `r`, the `index`-th of `file`.
    fn new(file: &'a str, index: usize, r: &'a Record) -> JsonRecord<'a> {
        JsonRecord {
            action: r.action.map(|a| a.as_str()).unwrap_or(""),
            addresser: &r.sender,
            blocklist: r.blocklist.map(|b| b.as_str()),
            command: r.command.map(|c| c.as_str()).unwrap_or(""),
            decodedby: r.decoded_by.as_str(),
            deliverystatus: &r.status,
            diagnosticcode: &r.diagnostic,
            diagnostictype: &r.diagnostic_type,
            feedbacktype: r.feedback_type.as_deref().unwrap_or(""),
            file,
            hardbounce: r.hard_bounce,
            index,
            messageid: &r.message_id,
            reason: r.reason.as_str(),
            recipient: &r.recipient,
            remote_mta: &r.remote_mta,
            replycode: r.reply_code.map(|c| c.to_string()).unwrap_or_default(),
            reporting_mta: &r.reporting_mta,
            sending_ip: r.sending_ip.map(|i| i.to_string()),
            timestamp: r.timestamp,
        }
    }
}

fn table_row(out: &mut dyn Write, file: &str, r: &Record) -> std::io::Result<()> {
    let trunc = |s: &str, n: usize| -> String {
        if s.chars().count() > n {
            format!("{}…", s.chars().take(n - 1).collect::<String>())
        } else {
            s.to_string()
        }
    };
    writeln!(
        out,
        "{:<32} {:<15} {:<8} {:<5} {:<16} {:<15} {}",
        trunc(&r.recipient, 32),
        r.reason.as_str(),
        r.status,
        r.reply_code.map(|c| c.to_string()).unwrap_or_default(),
        r.sending_ip.map(|i| i.to_string()).unwrap_or_default(),
        r.blocklist.map(|b| b.as_str()).unwrap_or(""),
        file
    )
}

/// Counts for the summary.
#[derive(Default)]
struct Summary {
    messages: usize,
    not_bounces: usize,
    records: usize,
    failures: usize,
    by_reason: BTreeMap<String, usize>,
    by_domain: BTreeMap<String, usize>,
    by_ip: BTreeMap<String, usize>,
    by_blocklist: BTreeMap<String, usize>,
}

impl Summary {
    fn add(&mut self, r: &Record) {
        self.records += 1;
        if !r.reason.is_failure() {
            *self
                .by_reason
                .entry(r.reason.as_str().to_string())
                .or_default() += 1;
            return;
        }
        self.failures += 1;
        *self
            .by_reason
            .entry(r.reason.as_str().to_string())
            .or_default() += 1;
        *self
            .by_domain
            .entry(r.recipient_domain.clone())
            .or_default() += 1;
        if let Some(ip) = r.sending_ip {
            *self.by_ip.entry(ip.to_string()).or_default() += 1;
        }
        if let Some(b) = r.blocklist {
            *self.by_blocklist.entry(b.as_str().to_string()).or_default() += 1;
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "messages": self.messages,
            "not_bounces": self.not_bounces,
            "records": self.records,
            "failures": self.failures,
            "by_reason": self.by_reason,
            "by_recipient_domain": self.by_domain,
            "by_sending_ip": self.by_ip,
            "by_blocklist": self.by_blocklist,
        })
    }

    fn print(&self, out: &mut dyn Write, unreadable: usize) -> std::io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{} messages read, {} records ({} failures), {} not bounces, {} unreadable",
            self.messages, self.records, self.failures, self.not_bounces, unreadable
        )?;
        for (title, map) in [
            ("By reason", &self.by_reason),
            ("By recipient domain (failures)", &self.by_domain),
            ("By sending IP (failures)", &self.by_ip),
            ("By blocklist named", &self.by_blocklist),
        ] {
            if map.is_empty() {
                continue;
            }
            writeln!(out, "\n{title}:")?;
            let mut rows: Vec<_> = map.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (k, v) in rows.into_iter().take(15) {
                writeln!(out, "  {v:>6}  {k}")?;
            }
        }
        Ok(())
    }
}
