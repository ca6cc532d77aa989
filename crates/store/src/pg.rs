//! The PostgreSQL backend: the same tables, for an organisation that keeps
//! its data in a shared database.

use crate::{
    Ingested, Keyed, Party, Result, Store, StoreError, Ticket, columns, failure_from_columns,
    standing_data, standing_from,
};
use outcry_incident::{Failure, Standing};
use postgres::{Client, NoTls};

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS outcry_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    recipient_domain TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    sending_ip TEXT,
    blocklist TEXT,
    rejecting_org TEXT NOT NULL,
    template TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_at ON failures (at);
CREATE TABLE IF NOT EXISTS tickets (
    id BIGSERIAL PRIMARY KEY,
    party TEXT NOT NULL,
    number TEXT NOT NULL,
    incident TEXT
);
CREATE TABLE IF NOT EXISTS ticket_events (
    seq BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    seq BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    at BIGINT NOT NULL,
    fixed_at BIGINT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS standings (
    ip TEXT PRIMARY KEY,
    checked_at BIGINT NOT NULL,
    data TEXT NOT NULL
);
";

pub(crate) struct PgStore {
    client: Client,
}

impl PgStore {
    pub(crate) fn open(url: &str) -> Result<PgStore> {
        let mut client = Client::connect(url, NoTls)?;
        client.batch_execute(SCHEMA_V1)?;
        Ok(PgStore { client })
    }

    fn exists(&mut self, id: i64) -> Result<()> {
        let row = self
            .client
            .query_opt("SELECT id FROM tickets WHERE id = $1", &[&id])?;
        row.map(|_| ()).ok_or(StoreError::NoTicket(id))
    }
}

impl Store for PgStore {
    fn ingest(&mut self, failures: &[Keyed]) -> Result<Ingested> {
        let mut tx = self.client.transaction()?;
        let stmt = tx.prepare(
            "INSERT INTO failures (key, at, recipient_domain, reason, status, sending_ip, blocklist, rejecting_org, template)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING",
        )?;
        let mut done = Ingested::default();
        for k in failures {
            let f = &k.failure;
            let (reason, ip, list) = columns(f);
            let n = tx.execute(
                &stmt,
                &[
                    &k.key,
                    &f.at,
                    &f.recipient_domain,
                    &reason,
                    &f.status,
                    &ip,
                    &list,
                    &f.rejecting_org,
                    &f.template,
                ],
            )?;
            if n == 1 {
                done.new += 1;
            } else {
                done.known += 1;
            }
        }
        tx.commit()?;
        Ok(done)
    }

    fn failures(&mut self) -> Result<Vec<Failure>> {
        let rows = self.client.query(
            "SELECT at, recipient_domain, reason, status, sending_ip, blocklist, rejecting_org, template FROM failures ORDER BY at, key",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                failure_from_columns(
                    r.get(0),
                    r.get(1),
                    r.get::<_, &str>(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                    r.get(7),
                )
            })
            .collect()
    }

    fn add_ticket(
        &mut self,
        party: Party,
        number: &str,
        incident: Option<&str>,
        at: i64,
    ) -> Result<i64> {
        let row = self.client.query_one(
            "INSERT INTO tickets (party, number, incident) VALUES ($1, $2, $3) RETURNING id",
            &[&party.as_str(), &number, &incident],
        )?;
        let id: i64 = row.get(0);
        self.update_ticket(id, "open", "opened", at)?;
        Ok(id)
    }

    fn update_ticket(&mut self, id: i64, status: &str, note: &str, at: i64) -> Result<()> {
        self.exists(id)?;
        self.client.execute(
            "INSERT INTO ticket_events (ticket_id, at, status, note) VALUES ($1, $2, $3, $4)",
            &[&id, &at, &status, &note],
        )?;
        Ok(())
    }

    fn add_claim(&mut self, id: i64, fixed_at: i64, text: &str, at: i64) -> Result<()> {
        self.exists(id)?;
        self.client.execute(
            "INSERT INTO claims (ticket_id, at, fixed_at, text) VALUES ($1, $2, $3, $4)",
            &[&id, &at, &fixed_at, &text],
        )?;
        Ok(())
    }

    fn tickets(&mut self) -> Result<Vec<Ticket>> {
        let rows = self.client.query(
            "SELECT id, party, number, incident FROM tickets ORDER BY id",
            &[],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let id: i64 = r.get(0);
            let history = self
                .client
                .query("SELECT at, status, note FROM ticket_events WHERE ticket_id = $1 ORDER BY at, seq", &[&id])?
                .iter()
                .map(|e| (e.get(0), e.get(1), e.get(2)))
                .collect();
            let claims = self
                .client
                .query(
                    "SELECT at, fixed_at, text FROM claims WHERE ticket_id = $1 ORDER BY at, seq",
                    &[&id],
                )?
                .iter()
                .map(|e| (e.get(0), e.get(1), e.get(2)))
                .collect();
            out.push(Ticket {
                id,
                party: r.get(1),
                number: r.get(2),
                incident: r.get(3),
                history,
                claims,
            });
        }
        Ok(out)
    }

    fn put_standings(&mut self, standings: &[Standing]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        for st in standings {
            tx.execute(
                "INSERT INTO standings (ip, checked_at, data) VALUES ($1, $2, $3)
                 ON CONFLICT (ip) DO UPDATE SET checked_at = excluded.checked_at, data = excluded.data
                 WHERE excluded.checked_at >= standings.checked_at",
                &[&st.ip.to_string(), &st.checked_at, &standing_data(st)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn standings(&mut self) -> Result<Vec<Standing>> {
        let rows = self
            .client
            .query("SELECT data FROM standings ORDER BY ip", &[])?;
        rows.iter()
            .map(|r| standing_from(r.get::<_, &str>(0)))
            .collect()
    }
}
