//! The bounce engine alone, in process: split an mbox in memory, then time
//! `outcry_bounce::analyze` over every message (no I/O, no output).
//!
//! `cargo run --release --example engine_throughput -p outcry-bounce -- FILE.mbox [ROUNDS]`
use std::time::Instant;

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
        // Which messages cost the most (first line of each, and its size).
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
    for _ in 0..rounds {
        let t = Instant::now();
        let chunk = msgs.len().div_ceil(threads);
        let records: usize = std::thread::scope(|s| {
            let workers: Vec<_> = msgs
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|m| outcry_bounce::analyze(m).map_or(0, |r| r.len()))
                            .sum::<usize>()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
        });
        let s = t.elapsed().as_secs_f64();
        println!(
            "{} messages, {records} records: {:.1} us/message, {:.0} messages/s, {:.1} MB/s",
            msgs.len(),
            s * 1e6 / msgs.len() as f64,
            msgs.len() as f64 / s,
            bytes as f64 / s / 1048576.0
        );
    }
}
