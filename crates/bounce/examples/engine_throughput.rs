//! The bounce engine alone, in process: split an mbox in memory, then time
//! `outcry_bounce::analyze` over every message (no I/O, no output).
//!
//! `cargo run --release --example engine_throughput -p outcry-bounce -- FILE.mbox [ROUNDS]`
//! (rounds after the first are the steady state; see `steady_round`)
use std::time::Instant;

/// The allocator `outcry` runs with (see `crates/cli/src/main.rs`): the
/// engine allocates many small strings, and glibc's malloc would count for
/// about a tenth of the instructions measured here.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: engine_throughput FILE.mbox [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    // Messages start after each `From ` line.
    let mut msgs: Vec<&[u8]> = Vec::new();
    let mut starts: Vec<usize> = memchr::memmem::find_iter(&data, b"\nFrom ")
        .map(|i| i + 1)
        .collect();
    if data.starts_with(b"From ") {
        starts.insert(0, 0);
    }
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(data.len());
        let body = memchr::memchr(b'\n', &data[s..end]).map_or(end, |i| s + i + 1);
        // Two `From ` lines in a row hold no message (as `outcry analyze` reads it).
        if !data[body..end].iter().all(u8::is_ascii_whitespace) {
            msgs.push(&data[body..end]);
        }
    }
    let bytes: usize = msgs.iter().map(|m| m.len()).sum();
    if std::env::var_os("SLOWEST").is_some() {
        // Which messages cost the most (first line of each, and its size),
        // after one warm-up pass so that rule tables built on first use are
        // not charged to the message that happened to need them first.
        for m in &msgs {
            let _ = outcry_bounce::analyze(m);
        }
        let mut cost: Vec<(f64, usize, usize)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let t = Instant::now();
                for _ in 0..20 {
                    let _ = outcry_bounce::analyze(m);
                }
                (t.elapsed().as_secs_f64() / 20.0, i, m.len())
            })
            .collect();
        let total: f64 = cost.iter().map(|c| c.0).sum();
        cost.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (s, i, len) in cost.iter().take(30) {
            let head =
                String::from_utf8_lossy(&msgs[*i][..msgs[*i].len().min(60)]).replace('\n', " ");
            println!(
                "{:8.1} us {:5.1}% {len:8} B  #{i} {head}",
                s * 1e6,
                s / total * 100.0
            );
        }
        return;
    }
    // THREADS=n splits the messages over n threads (scaling of the engine
    // itself, without the CLI's reading and writing).
    let threads: usize = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1)
        .max(1);
    // The workers live for all rounds, as `outcry analyze`'s do: a thread
    // spawned per round would start each round with cold regex caches (the
    // `regex` crate keeps them per thread) and measure their warming.
    let chunk = msgs.len().div_ceil(threads);
    let start = std::sync::Barrier::new(threads + 1);
    let end = std::sync::Barrier::new(threads + 1);
    let records = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for part in msgs.chunks(chunk) {
            let (start, end, records) = (&start, &end, &records);
            s.spawn(move || {
                for round in 0..rounds {
                    start.wait();
                    let n = if round == 0 {
                        first_round(part)
                    } else {
                        steady_round(part)
                    };
                    records.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                    end.wait();
                }
            });
        }
        for _ in 0..rounds {
            records.store(0, std::sync::atomic::Ordering::Relaxed);
            start.wait();
            let t = Instant::now();
            end.wait();
            let s = t.elapsed().as_secs_f64();
            println!(
                "{} messages, {} records: {:.1} us/message, {:.0} messages/s, {:.1} MB/s",
                msgs.len(),
                records.load(std::sync::atomic::Ordering::Relaxed),
                s * 1e6 / msgs.len() as f64,
                msgs.len() as f64 / s,
                bytes as f64 / s / 1048576.0
            );
        }
    });
}

/// Records found in one pass over the messages (inlined, so that each
/// round function below holds its own loop).
#[inline(always)]
fn run(msgs: &[&[u8]]) -> usize {
    msgs.iter()
        .map(|m| outcry_bounce::analyze(m).map_or(0, |r| r.len()))
        .sum()
}

/// The first round, which also builds the rule automata and warms the
/// regex caches.
#[inline(never)]
fn first_round(msgs: &[&[u8]]) -> usize {
    // (Not the same body as `steady_round`, or the two would be merged
    // into one symbol.)
    let n = run(msgs);
    std::hint::black_box(n)
}

/// Every later round: the steady state. To count its instructions alone:
/// `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*steady_round*' ...`
#[inline(never)]
fn steady_round(msgs: &[&[u8]]) -> usize {
    run(msgs)
}
