//! Rate limits (governor token buckets) per caller and per tenant. Over a limit, a call fails
//! with `RESOURCE_EXHAUSTED` and the `retry-after-ms` metadata says when a retry may pass.

use std::num::NonZeroU32;

use dss_pipelines::gateway_config::{Limit, RateLimitsFile};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tonic::Status;

use super::metrics::Metrics;

/// The gateway's limiters.
pub struct Limits {
    per_client: Option<(DefaultKeyedRateLimiter<String>, Limit)>,
    per_tenant: Option<(DefaultKeyedRateLimiter<String>, Limit)>,
    metrics: std::sync::Arc<Metrics>,
}

impl Limits {
    /// Limiters for the configured limits.
    pub fn new(config: RateLimitsFile, metrics: std::sync::Arc<Metrics>) -> Self {
        let limiter = |l: Limit| {
            let rate = NonZeroU32::new(l.per_second).unwrap_or(NonZeroU32::MIN);
            let burst = l.burst.and_then(NonZeroU32::new).unwrap_or(rate);
            (
                RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
                l,
            )
        };
        Self {
            per_client: config.per_client.map(limiter),
            per_tenant: config.per_tenant.map(limiter),
            metrics,
        }
    }

    /// Admits one call of `caller`, or says when to retry.
    pub fn client(&self, caller: &str) -> Result<(), Status> {
        self.check(self.per_client.as_ref(), caller, "caller")
    }

    /// Admits one call on `tenant`, or says when to retry.
    pub fn tenant(&self, tenant: &str) -> Result<(), Status> {
        self.check(self.per_tenant.as_ref(), tenant, "tenant")
    }

    fn check(
        &self,
        limiter: Option<&(DefaultKeyedRateLimiter<String>, Limit)>,
        key: &str,
        what: &str,
    ) -> Result<(), Status> {
        let Some((limiter, limit)) = limiter else {
            return Ok(());
        };
        match limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                self.metrics.rate_limited(what, key);
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let mut status = Status::resource_exhausted(format!(
                    "rate limit of {what} {key:?} ({} calls/s) reached; retry in {} ms",
                    limit.per_second,
                    wait.as_millis().max(1)
                ));
                if let Ok(v) = wait.as_millis().max(1).to_string().parse() {
                    status.metadata_mut().insert("retry-after-ms", v);
                }
                Err(status)
            }
        }
    }
}
