//! Rate limits: per client IP on every request, per organisation on
//! submissions, and a tighter one on registrations. In memory, per hub
//! process (GCRA, from `governor`).

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// The limiters of one hub process.
pub(crate) struct Limits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_org: Option<DefaultKeyedRateLimiter<i64>>,
    register: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn per_minute(n: u32) -> Option<Quota> {
    NonZeroU32::new(n).map(|n| Quota::per_minute(n).allow_burst(n))
}

impl Limits {
    /// Requests per minute per IP, submissions per minute per organisation,
    /// registrations per hour per IP; 0 turns a limit off.
    pub(crate) fn new(per_ip: u32, per_org: u32, registrations: u32) -> Limits {
        Limits {
            per_ip: per_minute(per_ip).map(RateLimiter::keyed),
            per_org: per_minute(per_org).map(RateLimiter::keyed),
            register: NonZeroU32::new(registrations)
                .map(|n| RateLimiter::keyed(Quota::per_hour(n).allow_burst(n))),
        }
    }

    pub(crate) fn ip(&self, ip: IpAddr) -> bool {
        self.per_ip
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
    }

    pub(crate) fn org(&self, org: i64) -> bool {
        self.per_org
            .as_ref()
            .is_none_or(|l| l.check_key(&org).is_ok())
    }

    pub(crate) fn register(&self, ip: IpAddr) -> bool {
        self.register
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
    }
}
