//! A lean UDP client for blocklist queries.
//!
//! Hand-written on purpose: a blocklist sweep is thousands of tiny A/TXT
//! queries to one resolver. hickory-resolver opens a fresh socket per query
//! and spends ~70 µs of CPU on each (measured with `bench/dnsbl.sh`), which
//! made outcry slower than the C `rblcheck`. This client keeps one socket,
//! matches answers to questions by id *and* question (so a stray or spoofed
//! packet cannot answer another query), retries on timeout, caches answers
//! for their TTL (negative answers for the SOA minimum), and reports
//! truncation so the caller can retry over TCP through hickory.

use crate::wire::{self, Answer, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

/// What one query came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Records of the asked type.
    Answers(Vec<Answer>),
    /// NXDOMAIN or no record of that type.
    NoRecords,
    /// The server answered with another response code (2 SERVFAIL, 5 REFUSED, ...).
    Rcode(u8),
    /// No answer after every attempt.
    Timeout,
    /// The answer did not fit in UDP.
    Truncated,
}

type Waiters = Arc<Mutex<HashMap<u16, (String, u16, oneshot::Sender<Response>)>>>;

/// One socket, many queries in flight.
pub(crate) struct UdpClient {
    socket: Arc<UdpSocket>,
    server: SocketAddr,
    waiters: Waiters,
    next_id: AtomicU16,
    timeout: Duration,
    attempts: usize,
    cache: Mutex<HashMap<(String, u16), (Instant, Outcome)>>,
    receiver: tokio::task::JoinHandle<()>,
}

impl Drop for UdpClient {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

impl UdpClient {
    /// Bind a socket and start reading answers from `server`.
    pub(crate) async fn new(
        server: SocketAddr,
        timeout: Duration,
        attempts: usize,
    ) -> std::io::Result<UdpClient> {
        let bind: SocketAddr = if server.is_ipv4() {
            "0.0.0.0:0".parse().unwrap()
        } else {
            "[::]:0".parse().unwrap()
        };
        let socket = Arc::new(UdpSocket::bind(bind).await?);
        let waiters: Waiters = Arc::new(Mutex::new(HashMap::new()));
        let receiver = tokio::spawn(receive(socket.clone(), server, waiters.clone()));
        Ok(UdpClient {
            socket,
            server,
            waiters,
            next_id: AtomicU16::new(std::process::id() as u16),
            timeout,
            attempts: attempts.max(1),
            cache: Mutex::new(HashMap::new()),
            receiver,
        })
    }

    /// Ask `name` for records of `qtype`.
    pub(crate) async fn query(&self, name: &str, qtype: u16) -> Outcome {
        let key = (name.trim_end_matches('.').to_ascii_lowercase(), qtype);
        if let Some((until, o)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            && *until > Instant::now()
        {
            return o.clone();
        }
        for _ in 0..self.attempts {
            let (tx, rx) = oneshot::channel();
            let id = self.register(&key.0, qtype, tx);
            let Some(packet) = wire::encode_query(id, &key.0, qtype) else {
                self.forget(id);
                return Outcome::Rcode(1);
            };
            if self.socket.send_to(&packet, self.server).await.is_err() {
                self.forget(id);
                continue;
            }
            match tokio::time::timeout(self.timeout, rx).await {
                Ok(Ok(resp)) => {
                    let (outcome, ttl) = read(resp);
                    if let Some(ttl) = ttl {
                        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
                            key,
                            (
                                Instant::now() + Duration::from_secs(u64::from(ttl.min(86_400))),
                                outcome.clone(),
                            ),
                        );
                    }
                    return outcome;
                }
                _ => self.forget(id),
            }
        }
        Outcome::Timeout
    }

    fn register(&self, name: &str, qtype: u16, tx: oneshot::Sender<Response>) -> u16 {
        let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            if let std::collections::hash_map::Entry::Vacant(e) = w.entry(id) {
                e.insert((name.to_string(), qtype, tx));
                return id;
            }
        }
    }

    fn forget(&self, id: u16) {
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}

/// Turn a response into an outcome and the TTL to cache it for.
fn read(resp: Response) -> (Outcome, Option<u32>) {
    if resp.truncated {
        return (Outcome::Truncated, None);
    }
    match resp.rcode {
        0 if !resp.answers.is_empty() => (Outcome::Answers(resp.answers), resp.ttl),
        0 | 3 => (Outcome::NoRecords, Some(resp.negative_ttl.unwrap_or(60))),
        code => (Outcome::Rcode(code), None),
    }
}

/// Read answers and hand each to the query that asked for it.
async fn receive(socket: Arc<UdpSocket>, server: SocketAddr, waiters: Waiters) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if from != server {
            continue;
        }
        let Ok(resp) = wire::decode(&buf[..n]) else {
            continue;
        };
        let mut w = waiters.lock().unwrap_or_else(|e| e.into_inner());
        let matches = w
            .get(&resp.id)
            .is_some_and(|(name, qtype, _)| *name == resp.qname && *qtype == resp.qtype);
        if matches && let Some((_, _, tx)) = w.remove(&resp.id) {
            let _ = tx.send(resp);
        }
    }
}
