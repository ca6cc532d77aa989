//! The hub's operations over the database: organisations and tokens,
//! submissions clustered into joint incidents, and the joint incidents as
//! the public sees them. Written once over [`Tx`], for both backends.

use crate::db::{Db, DbError, Tx, Val};
use crate::fingerprint::{Fingerprint, ManualReport};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Reports of the same cause at most this far apart (seconds) belong to
/// the same joint incident; further apart, a relapse is a new one.
pub const GAP: i64 = 24 * 3600;

/// When a joint incident is public: at least `k` organisations, of which at
/// least `min_verified` proved a domain (verified organisations count for
/// more where the operator asks for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish {
    /// Organisations needed.
    pub k: i64,
    /// Of which with a proved domain.
    pub min_verified: i64,
}

impl Publish {
    /// Whether `orgs` organisations, `verified` of them verified, are enough.
    pub fn public(self, orgs: i64, verified: i64) -> bool {
        orgs >= self.k && verified >= self.min_verified
    }
}

impl std::fmt::Display for Publish {
    /// "3 organisations", or "3 organisations (2 with a proved domain)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} organisations", self.k)?;
        if self.min_verified > 0 {
            write!(f, " ({} with a proved domain)", self.min_verified)?;
        }
        Ok(())
    }
}

/// An authenticated organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Its id.
    pub id: i64,
    /// Its display name (never published).
    pub name: String,
    /// The domain it proved, if any.
    pub verified_domain: Option<String>,
}

/// SHA-256 of a token, hex: tokens are stored only hashed.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh random token (`oc_` and 64 hex digits) or challenge.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source works");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Register an organisation; returns its id and token (shown once).
pub fn register(db: &Db, name: &str, now: i64) -> Result<(i64, String), DbError> {
    let token = format!("oc_{}", random_hex(32));
    let hash = token_hash(&token);
    let name = name.to_string();
    let id = db.tx(move |tx| {
        let rows = tx.query(
            "INSERT INTO orgs (name, token_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
            &[name.into(), hash.into(), now.into()],
        )?;
        Ok(rows[0][0].i())
    })?;
    Ok((id, token))
}

/// The organisation a token belongs to.
pub fn authenticate(db: &Db, token: &str) -> Result<Option<Org>, DbError> {
    let hash = token_hash(token);
    db.tx(move |tx| {
        let rows = tx.query(
            "SELECT id, name, verified_domain FROM orgs WHERE token_hash = $1",
            &[hash.into()],
        )?;
        Ok(rows.first().map(|r| Org {
            id: r[0].i(),
            name: r[1].t().to_string(),
            verified_domain: r[2].opt(),
        }))
    })
}

/// Replace an organisation's token (`Some(new token)`), or revoke it
/// (`None`: the organisation can no longer submit).
pub fn rotate_token(db: &Db, org: i64, issue: bool) -> Result<Option<String>, DbError> {
    let token = issue.then(|| format!("oc_{}", random_hex(32)));
    let hash: Val = token.as_deref().map(token_hash).into();
    db.tx(move |tx| {
        tx.exec(
            "UPDATE orgs SET token_hash = $1 WHERE id = $2",
            &[hash, org.into()],
        )
    })?;
    Ok(token)
}

/// Start a domain proof: the TXT value the organisation must publish at
/// `_outcry-verify.<domain>`.
pub fn challenge(db: &Db, org: i64, domain: &str) -> Result<String, DbError> {
    let value = format!("outcry-verify={}", random_hex(16));
    let (domain, v) = (domain.to_string(), value.clone());
    db.tx(move |tx| {
        tx.exec(
            "UPDATE orgs SET challenge_domain = $1, challenge = $2 WHERE id = $3",
            &[domain.into(), v.into(), org.into()],
        )
    })?;
    Ok(value)
}

/// The pending challenge of an organisation: (domain, TXT value).
pub fn pending_challenge(db: &Db, org: i64) -> Result<Option<(String, String)>, DbError> {
    db.tx(move |tx| {
        let rows = tx.query(
            "SELECT challenge_domain, challenge FROM orgs WHERE id = $1",
            &[org.into()],
        )?;
        Ok(rows.first().and_then(|r| Some((r[0].opt()?, r[1].opt()?))))
    })
}

/// Mark `domain` proved for `org`. [`DbError::Conflict`] when another
/// organisation already proved it: one domain, one vote.
pub fn mark_verified(db: &Db, org: i64, domain: &str) -> Result<(), DbError> {
    let domain = domain.to_string();
    db.tx(move |tx| {
        let was = tx.query(
            "SELECT verified_domain FROM orgs WHERE id = $1",
            &[org.into()],
        )?;
        let already = was.first().is_some_and(|r| r[0].opt().is_some());
        tx.exec(
            "UPDATE orgs SET verified_domain = $1, challenge = NULL WHERE id = $2",
            &[domain.clone().into(), org.into()],
        )?;
        if !already {
            tx.exec(
                "UPDATE joint SET verified = verified + 1 WHERE id IN (SELECT DISTINCT joint_id FROM submissions WHERE org_id = $1)",
                &[org.into()],
            )?;
        }
        Ok(())
    })
}

/// What a submission did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filed {
    /// The joint incident it joined.
    pub joint_incident: i64,
    /// Organisations in it now.
    pub organisations: i64,
    /// Whether it is public (at least k organisations).
    pub public: bool,
    /// False when the same local incident was shared before and updated.
    pub new: bool,
}

/// The cluster key of a fingerprint: same key, same cause.
pub fn key_of(f: &Fingerprint) -> String {
    let family = serde_json::to_value(f.family)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    if f.scope.starts_with("pool:") || f.scope.starts_with("org:") {
        format!("{family}|{}", f.scope)
    } else {
        format!(
            "{family}|{}|{}",
            f.scope,
            f.provider.as_deref().unwrap_or("unknown").to_lowercase()
        )
    }
}

/// The cluster key of a manual report.
pub fn manual_key(r: &ManualReport) -> String {
    format!(
        "manual|{}|{}",
        r.provider.trim().to_lowercase(),
        r.service.trim().to_lowercase()
    )
}

/// A stable 63-bit number for an advisory lock on `key`.
fn lock_id(key: &str) -> i64 {
    let d = Sha256::digest(key.as_bytes());
    i64::from_be_bytes([d[0] & 0x7f, d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// One submission, about to be clustered.
pub struct Submission {
    /// Who.
    pub org: Org,
    /// The cluster key.
    pub key: String,
    /// `fingerprint` or `manual`.
    pub kind: &'static str,
    /// The organisation's reference for it (re-submission updates).
    pub local_ref: String,
    /// The provider, when known.
    pub provider: Option<String>,
    /// Reason family.
    pub family: String,
    /// Scope.
    pub scope: String,
    /// First and last seen.
    pub first_seen: i64,
    /// Last seen.
    pub last_seen: i64,
    /// The JSON stored.
    pub data: String,
}

/// Filing a submission, as a unit of work for [`Db::run`]: update the
/// organisation's earlier one with the same reference, or add it to the
/// joint incident of the same key that overlaps it in time (a manual report
/// also joins an automatic incident of the same provider), or open a new
/// joint incident.
pub fn filing(
    s: Submission,
    k: Publish,
    now: i64,
) -> impl FnOnce(&mut dyn Tx) -> Result<Filed, DbError> + Send + 'static {
    move |tx| {
        let s = &s;
        tx.lock(lock_id(&s.key))?;
        let earlier = tx.query(
            "SELECT id, joint_id FROM submissions WHERE org_id = $1 AND local_ref = $2",
            &[s.org.id.into(), s.local_ref.clone().into()],
        )?;
        let verified = i64::from(s.org.verified_domain.is_some());
        let joint = match earlier.first() {
            Some(r) => {
                tx.exec(
                    "UPDATE submissions SET data = $1, first_seen = $2, last_seen = $3, submitted_at = $4 WHERE id = $5",
                    &[s.data.clone().into(), s.first_seen.into(), s.last_seen.into(), now.into(), r[0].clone()],
                )?;
                r[1].i()
            }
            None => {
                let (joint, created) = match find_joint(tx, s)? {
                    Some(j) => (j, false),
                    None => (
                        tx.query(
                            "INSERT INTO joint (key, provider, family, scope, manual, first_seen, last_seen, orgs, verified, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9) RETURNING id",
                            &[
                                s.key.clone().into(),
                                s.provider.clone().into(),
                                s.family.clone().into(),
                                s.scope.clone().into(),
                                i64::from(s.kind == "manual").into(),
                                s.first_seen.into(),
                                s.last_seen.into(),
                                verified.into(),
                                now.into(),
                            ],
                        )?[0][0]
                            .i(),
                        true,
                    ),
                };
                tx.exec(
                    "INSERT INTO submissions (org_id, local_ref, joint_id, kind, submitted_at, first_seen, last_seen, data)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        s.org.id.into(),
                        s.local_ref.clone().into(),
                        joint.into(),
                        s.kind.into(),
                        now.into(),
                        s.first_seen.into(),
                        s.last_seen.into(),
                        s.data.clone().into(),
                    ],
                )?;
                if created {
                    // A new joint incident: its row already counts this
                    // organisation.
                    tx.exec(
                        "INSERT INTO joint_orgs (joint_id, org_id, first_seen) VALUES ($1, $2, $3)",
                        &[joint.into(), s.org.id.into(), s.first_seen.into()],
                    )?;
                    return Ok(Filed {
                        joint_incident: joint,
                        organisations: 1,
                        public: k.public(1, verified),
                        new: true,
                    });
                }
                joint
            }
        };
        // One vote per organisation, however many submissions it makes.
        let joined = tx.exec(
            "INSERT INTO joint_orgs (joint_id, org_id, first_seen) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[joint.into(), s.org.id.into(), s.first_seen.into()],
        )?;
        let row = tx.query(
            "SELECT first_seen, last_seen, orgs, provider, verified FROM joint WHERE id = $1",
            &[joint.into()],
        )?;
        let r = &row[0];
        let orgs = r[2].i() + i64::from(joined > 0);
        let added = if joined > 0 { verified } else { 0 };
        tx.exec(
            "UPDATE joint SET first_seen = $1, last_seen = $2, orgs = $3, verified = verified + $4, updated_at = $5, provider = $6 WHERE id = $7",
            &[
                r[0].i().min(s.first_seen).into(),
                r[1].i().max(s.last_seen).into(),
                orgs.into(),
                added.into(),
                now.into(),
                r[3].opt().or_else(|| s.provider.clone()).into(),
                joint.into(),
            ],
        )?;
        Ok(Filed {
            joint_incident: joint,
            organisations: orgs,
            public: k.public(orgs, r[4].i() + added),
            new: earlier.is_empty(),
        })
    }
}

fn find_joint(tx: &mut dyn Tx, s: &Submission) -> Result<Option<i64>, DbError> {
    let same = tx.query(
        "SELECT id FROM joint WHERE key = $1 AND last_seen >= $2 AND first_seen <= $3 ORDER BY last_seen DESC LIMIT 1",
        &[
            s.key.clone().into(),
            (s.first_seen - GAP).into(),
            (s.last_seen + GAP).into(),
        ],
    )?;
    if let Some(r) = same.first() {
        return Ok(Some(r[0].i()));
    }
    if s.kind == "manual"
        && let Some(p) = &s.provider
    {
        // "Microsoft 365" matches "Microsoft 365 / Exchange Online
        // Protection": one provider slug starts with the other.
        let want = crate::slug(p);
        let auto = tx.query(
            "SELECT id, provider FROM joint WHERE manual = 0 AND provider IS NOT NULL AND last_seen >= $1 AND first_seen <= $2 ORDER BY orgs DESC, last_seen DESC LIMIT 200",
            &[(s.first_seen - GAP).into(), (s.last_seen + GAP).into()],
        )?;
        return Ok(auto
            .iter()
            .find(|r| {
                let have = crate::slug(r[1].t());
                !want.is_empty() && (have.starts_with(&want) || want.starts_with(&have))
            })
            .map(|r| r[0].i()));
    }
    Ok(None)
}

/// Record the vendor's acknowledgement of a joint incident (a service
/// health id such as EX123456, and what it says). Only a member
/// organisation may do so.
pub fn acknowledge(
    db: &Db,
    joint: i64,
    org: i64,
    reference: &str,
    text: &str,
    at: i64,
) -> Result<bool, DbError> {
    let (reference, text) = (reference.to_string(), text.to_string());
    db.tx(move |tx| {
        let member = tx.query(
            "SELECT 1 FROM joint_orgs WHERE joint_id = $1 AND org_id = $2",
            &[joint.into(), org.into()],
        )?;
        if member.is_empty() {
            return Ok(false);
        }
        tx.exec(
            "UPDATE joint SET ack_reference = $1, ack_text = $2, ack_at = $3, updated_at = $3 WHERE id = $4",
            &[reference.into(), text.into(), at.into(), joint.into()],
        )?;
        Ok(true)
    })
}

/// The organisation's own submissions (never anyone else's).
pub fn own_submissions(db: &Db, org: i64) -> Result<Vec<serde_json::Value>, DbError> {
    db.tx(move |tx| {
        let rows = tx.query(
            "SELECT id, joint_id, kind, submitted_at, data FROM submissions WHERE org_id = $1 ORDER BY id DESC LIMIT 1000",
            &[org.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r[0].i(), "joint_incident": r[1].i(), "kind": r[2].t(),
                    "submitted_at": r[3].i(),
                    "data": serde_json::from_str::<serde_json::Value>(r[4].t()).unwrap_or_default(),
                })
            })
            .collect())
    })
}

/// A joint incident as the public sees it: counts and pooled evidence,
/// never which organisations are in it.
#[derive(Debug, Clone, Serialize)]
pub struct Joint {
    /// Its id.
    pub id: i64,
    /// The cause key.
    pub key: String,
    /// The provider.
    pub provider: Option<String>,
    /// The reason family (or `manual`).
    pub family: String,
    /// The scope.
    pub scope: String,
    /// Distinct organisations affected.
    pub organisations: i64,
    /// Of which proved a domain.
    pub verified_organisations: i64,
    /// First report's first failure.
    pub first_seen: i64,
    /// Last failure reported.
    pub last_seen: i64,
    /// Last change.
    pub updated_at: i64,
    /// At least k organisations.
    pub public: bool,
    /// The vendor's acknowledgement: (reference, text, when).
    pub acknowledged: Option<Acknowledgement>,
    /// Pooled evidence (detail views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Pooled>,
}

/// The vendor's acknowledgement.
#[derive(Debug, Clone, Serialize)]
pub struct Acknowledgement {
    /// Service-health id or ticket (EX123456).
    pub reference: String,
    /// What it says.
    pub text: String,
    /// When recorded.
    pub at: i64,
}

/// A vendor claim checked against the organisations' reports.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimVsReports {
    /// When the vendor said it was fixed.
    pub fixed_at: i64,
    /// What it said.
    pub text: String,
    /// Organisations that reported failures after that time.
    pub organisations_failing_after: usize,
}

/// What the members' submissions say together.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pooled {
    /// The refused sending IP ranges.
    pub sending_ranges: Vec<String>,
    /// The blocklists named, with how many organisations name each.
    pub blocklists: BTreeMap<String, usize>,
    /// Public rejecting operators (hashed ones are counted, not shown).
    pub rejecting_operators: Vec<String>,
    /// Distinct rejecting organisations, hashed ones included.
    pub rejecting_organisations: usize,
    /// Distinct recipient domains (hashed) across organisations.
    pub recipient_domains: usize,
    /// Enhanced status codes.
    pub status_codes: Vec<String>,
    /// Diagnostic templates.
    pub templates: Vec<String>,
    /// Failures reported, summed.
    pub failures: u64,
    /// Local verdicts, with how many organisations reached each.
    pub verdicts: BTreeMap<String, usize>,
    /// Provider ticket numbers shared by members.
    pub tickets: Vec<String>,
    /// The vendor's claims against later reports.
    pub claims: Vec<ClaimVsReports>,
    /// Manual reports: (service, symptom) with how many organisations.
    pub symptoms: Vec<(String, String, usize)>,
    /// Organisations affected over time: (time, cumulative count).
    pub over_time: Vec<(i64, usize)>,
    /// The text to paste into each organisation's own ticket.
    pub escalation: String,
}

fn joint_from(r: &[Val], k: Publish) -> Joint {
    Joint {
        id: r[0].i(),
        key: r[1].t().to_string(),
        provider: r[2].opt(),
        family: r[3].t().to_string(),
        scope: r[4].t().to_string(),
        organisations: r[5].i(),
        verified_organisations: r[6].i(),
        first_seen: r[7].i(),
        last_seen: r[8].i(),
        updated_at: r[9].i(),
        public: k.public(r[5].i(), r[6].i()),
        acknowledged: r[10].opt().map(|reference| Acknowledgement {
            reference,
            text: r[11].t().to_string(),
            at: r[12].i(),
        }),
        evidence: None,
    }
}

const JOINT_COLUMNS: &str = "id, key, provider, family, scope, orgs, verified, first_seen, last_seen, updated_at, ack_reference, ack_text, ack_at";

/// The public joint incidents (see [`Publish`]), most recent first;
/// `provider` filters by provider slug.
pub fn public_joints(
    db: &Db,
    k: Publish,
    provider: Option<&str>,
    limit: i64,
) -> Result<Vec<Joint>, DbError> {
    let fetch = if provider.is_some() { 10_000 } else { limit };
    let rows = db.tx(move |tx| {
        tx.query(
            &format!("SELECT {JOINT_COLUMNS} FROM joint WHERE orgs >= $1 AND verified >= $2 ORDER BY last_seen DESC, id DESC LIMIT $3"),
            &[k.k.into(), k.min_verified.into(), fetch.into()],
        )
    })?;
    Ok(rows
        .iter()
        .map(|r| joint_from(r, k))
        .filter(|j| {
            provider.is_none_or(|p| j.provider.as_deref().map(crate::slug).as_deref() == Some(p))
        })
        .take(limit as usize)
        .collect())
}

/// One joint incident with its pooled evidence, if it is public or `org`
/// is a member.
pub fn joint(db: &Db, id: i64, k: Publish, org: Option<i64>) -> Result<Option<Joint>, DbError> {
    db.tx(move |tx| {
        let rows = tx.query(
            &format!("SELECT {JOINT_COLUMNS} FROM joint WHERE id = $1"),
            &[id.into()],
        )?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let mut j = joint_from(r, k);
        let member = match org {
            Some(o) => !tx
                .query(
                    "SELECT 1 FROM joint_orgs WHERE joint_id = $1 AND org_id = $2",
                    &[id.into(), o.into()],
                )?
                .is_empty(),
            None => false,
        };
        if !j.public && !member {
            return Ok(None);
        }
        let subs = tx.query(
            "SELECT org_id, kind, data FROM submissions WHERE joint_id = $1 ORDER BY id LIMIT 5000",
            &[id.into()],
        )?;
        let over = tx.query(
            "SELECT first_seen FROM joint_orgs WHERE joint_id = $1 ORDER BY first_seen",
            &[id.into()],
        )?;
        let mut pooled = pool(&subs);
        pooled.over_time = over
            .iter()
            .enumerate()
            .map(|(i, r)| (r[0].i(), i + 1))
            .collect();
        pooled.escalation = escalation(&j, &pooled);
        j.evidence = Some(pooled);
        Ok(Some(j))
    })
}

/// Pool the members' submissions (pure).
fn pool(subs: &[Vec<Val>]) -> Pooled {
    let mut p = Pooled::default();
    let mut ranges = BTreeSet::new();
    let mut lists: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut operators = BTreeSet::new();
    let mut rejecting = BTreeSet::new();
    let mut domains = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let mut templates = BTreeSet::new();
    let mut verdicts: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut tickets = BTreeSet::new();
    let mut claims: BTreeMap<(i64, String), ()> = BTreeMap::new();
    let mut last_seen: BTreeMap<i64, i64> = BTreeMap::new();
    let mut symptoms: BTreeMap<(String, String), BTreeSet<i64>> = BTreeMap::new();
    for s in subs {
        let org = s[0].i();
        if s[1].t() == "manual" {
            if let Ok(m) = serde_json::from_str::<ManualReport>(s[2].t()) {
                symptoms
                    .entry((m.service.clone(), m.symptom.clone()))
                    .or_default()
                    .insert(org);
                if let Some(t) = m.ticket {
                    tickets.insert(t);
                }
            }
            continue;
        }
        let Ok(f) = serde_json::from_str::<Fingerprint>(s[2].t()) else {
            continue;
        };
        ranges.extend(f.sending_ranges.iter().cloned());
        for b in &f.blocklists {
            lists.entry(b.as_str().to_string()).or_default().insert(org);
        }
        for o in &f.rejecting_orgs {
            rejecting.insert(o.clone());
            if !o.starts_with("h:") {
                operators.insert(o.clone());
            }
        }
        domains.extend(f.recipient_domains.iter().cloned());
        codes.extend(f.status_codes.iter().cloned());
        templates.extend(f.templates.iter().take(2).cloned());
        p.failures += f.failures;
        let v = serde_json::to_value(f.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        verdicts.entry(v).or_default().insert(org);
        if let Some(t) = &f.ticket {
            tickets.insert(t.number.clone());
        }
        for c in &f.claims {
            claims.insert((c.fixed_at, c.text.clone()), ());
        }
        let e = last_seen.entry(org).or_insert(f.last_seen);
        *e = (*e).max(f.last_seen);
    }
    p.sending_ranges = ranges.into_iter().collect();
    p.blocklists = lists.into_iter().map(|(k, v)| (k, v.len())).collect();
    p.rejecting_operators = operators.into_iter().collect();
    p.rejecting_organisations = rejecting.len();
    p.recipient_domains = domains.len();
    p.status_codes = codes.into_iter().collect();
    p.templates = templates.into_iter().take(5).collect();
    p.verdicts = verdicts.into_iter().map(|(k, v)| (k, v.len())).collect();
    p.tickets = tickets.into_iter().collect();
    p.claims = claims
        .into_keys()
        .map(|(fixed_at, text)| ClaimVsReports {
            fixed_at,
            organisations_failing_after: last_seen.values().filter(|l| **l > fixed_at).count(),
            text,
        })
        .collect();
    p.symptoms = symptoms
        .into_iter()
        .map(|((a, b), o)| (a, b, o.len()))
        .collect();
    p
}

/// The consolidated escalation text (pure).
fn escalation(j: &Joint, p: &Pooled) -> String {
    use std::fmt::Write as _;
    let provider = j.provider.as_deref().unwrap_or("the provider");
    let mut s = format!(
        "{} organisations{} report the same delivery problem since {}, last seen {}.",
        j.organisations,
        if j.verified_organisations > 0 {
            format!(" ({} with a verified domain)", j.verified_organisations)
        } else {
            String::new()
        },
        crate::utc(j.first_seen),
        crate::utc(j.last_seen)
    );
    if j.scope.starts_with("pool:") {
        let _ = write!(
            s,
            " Mail from {provider}'s outbound IPs in {} is refused for the IPs' reputation",
            p.sending_ranges.join(", ")
        );
        if p.rejecting_organisations > 0 {
            let _ = write!(
                s,
                " by {} recipient organisations",
                p.rejecting_organisations
            );
            if !p.rejecting_operators.is_empty() {
                let _ = write!(s, " (including {})", p.rejecting_operators.join(", "));
            }
        }
        s.push('.');
    } else if !p.symptoms.is_empty() {
        let sy: Vec<String> = p
            .symptoms
            .iter()
            .map(|(svc, sym, n)| format!("{svc}: {sym} ({n})"))
            .collect();
        let _ = write!(s, " Reported for {provider}: {}.", sy.join("; "));
    } else {
        let _ = write!(s, " Cause: {} ({}).", j.family, j.scope);
    }
    if !p.blocklists.is_empty() {
        let l: Vec<&str> = p.blocklists.keys().map(String::as_str).collect();
        let _ = write!(s, " The refusals name {}.", l.join(", "));
    }
    if !p.status_codes.is_empty() {
        let _ = write!(s, " Status codes: {}.", p.status_codes.join(", "));
    }
    if p.failures > 0 {
        let _ = write!(
            s,
            " {} failed deliveries to {} distinct recipient domains.",
            p.failures, p.recipient_domains
        );
    }
    if !p.tickets.is_empty() {
        let _ = write!(s, " Tickets: {}.", p.tickets.join(", "));
    }
    for c in &p.claims {
        let _ = write!(
            s,
            " The vendor said \"{}\" (fixed at {}); {} organisation(s) reported failures after that.",
            c.text,
            crate::utc(c.fixed_at),
            c.organisations_failing_after
        );
    }
    if let Some(a) = &j.acknowledged {
        let _ = write!(s, " Acknowledged as {}: {}.", a.reference, a.text);
    } else {
        let _ = write!(
            s,
            " Please link our tickets and acknowledge one incident for all of us."
        );
    }
    s
}
