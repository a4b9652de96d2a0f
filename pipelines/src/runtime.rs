//! The pipeline runtime with the embedded transport.
//!
//! One batch of a pipeline, crm → crm:
//! 1. read changes after the source checkpoint from the origin store's change feed (one query
//!    with the records' current bodies);
//! 2. decide each record with the compiled plan of the route (in memory, no I/O);
//! 3. in **one origin transaction**: outbox rows of what crosses, vault entries of the tokens
//!    made, a transfer-log entry for every record (transfers and blocks), dead letters for
//!    records that cannot be read, and the new source checkpoint;
//! 4. transport: deliver the origin's pending outbox rows to the destination store, upserting
//!    idempotently by (tenant, object, id, version), then mark them published.
//!
//! A crash between any two steps loses nothing and duplicates nothing: before step 3 commits
//! nothing happened; after it, step 4 redelivers unpublished rows and the sink ignores a
//! version it already has. Memory is bounded by the batch size, whatever the backlog.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use dss_core::Record;
use dss_core::vault::VaultEntry;
use dss_policies::pipeline::{OnDeadLetter, Pipeline, Schedule};
use dss_policies::{
    ActionKind, Evaluator, Keyring, Outcome, Planner, PolicySet, RouteSpec, Scanner,
};
use dss_store::ledger::{FieldAction, Transfer};

use dss_store::{Store, StoreError};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

use crate::config::Config;
use crate::connectors::{Sink, SinkError, Source};
use crate::decide::{Decider, HeadCount};
use crate::stages::{StageError, Stages};

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A store failed.
    #[error("store of {region}: {error}")]
    Store {
        /// Region.
        region: String,
        /// What failed.
        error: StoreError,
    },
    /// The token keys could not be read or made.
    #[error("token keys: {0}")]
    Keys(String),
    /// A route the policy cannot plan.
    #[error(transparent)]
    Route(#[from] dss_policies::RouteError),
    /// A connector cannot read or write (a file that cannot be opened, a full disk).
    #[error("{0}")]
    Connector(String),
    /// The pipeline stops at dead letters (`on_dead_letter: stop`) and met some.
    #[error(
        "{pipeline}: stopped after {count} dead letter(s), the first: {first} (they are kept in {region}; `dss audit dead-letters` lists them)"
    )]
    DeadLetters {
        /// Pipeline.
        pipeline: String,
        /// Origin region.
        region: String,
        /// How many in the batch.
        count: usize,
        /// The first one's reason.
        first: String,
    },
}

impl RunError {
    /// Whether trying again may succeed: database and I/O failures are; bad keys, unknown
    /// routes and corrupt data are not.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RunError::Store {
                error: StoreError::Database(_),
                ..
            } | RunError::Connector(_)
        )
    }
}

/// What a pipeline run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteSummary {
    /// Pipeline name.
    pub pipeline: String,
    /// Origin region.
    pub from: String,
    /// Destination region.
    pub to: String,
    /// Changes read from the source.
    pub read: u64,
    /// Records sent (transfer decisions), deletes included.
    pub sent: u64,
    /// Records blocked by the policy (kept in the origin region, logged).
    pub blocked: u64,
    /// Changes skipped: another object kind, or superseded by a later version in the feed.
    pub skipped: u64,
    /// Records that could not be read (dead letters).
    pub dead_letters: u64,
    /// Rows delivered to the destination (including redeliveries after a restart).
    pub delivered: u64,
    /// Field actions on the records sent, by kind, indexed like [`ActionKind::ALL`].
    pub actions: [u64; 7],
}

impl RouteSummary {
    /// Adds the counts of `other` (an earlier, interrupted attempt of the same pipeline).
    pub fn add(&mut self, other: &RouteSummary) {
        self.read += other.read;
        self.sent += other.sent;
        self.blocked += other.blocked;
        self.skipped += other.skipped;
        self.dead_letters += other.dead_letters;
        self.delivered += other.delivered;
        for (a, b) in self.actions.iter_mut().zip(other.actions) {
            *a += b;
        }
    }

    /// Transformed fields by action, for people.
    pub fn describe_actions(&self) -> String {
        let parts: Vec<String> = ActionKind::ALL
            .iter()
            .zip(self.actions)
            .filter(|(a, n)| **a != ActionKind::Pass && *n > 0)
            .map(|(a, n)| format!("{a} {n}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The stores of every configured region, and the pipelines between them.
pub struct Runtime {
    config: Config,
    stores: BTreeMap<String, Store>,
    keys: Arc<Keyring>,
    scanner: Scanner,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Runtime {
    /// Opens every region's store (running migrations) and reads the token keys.
    pub async fn open(config: Config) -> Result<Self, RunError> {
        Self::open_for(config, None).await
    }

    /// Opens the stores of `regions` only (all of them for `None`): a process that audits
    /// or serves one region holds no connection to a database it does not need (see
    /// [`Config::regions_serving`]).
    pub async fn open_for(config: Config, regions: Option<&[String]>) -> Result<Self, RunError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            RunError::Keys(format!("cannot create {}: {e}", config.data_dir.display()))
        })?;
        let keys = load_or_create_keys(&config)?;
        let needed = |region: &str| regions.is_none_or(|only| only.iter().any(|r| r == region));
        let mut stores = BTreeMap::new();
        for (region, url) in config.regions.iter().filter(|(r, _)| needed(r)) {
            let store = Store::open(url).await.map_err(|error| RunError::Store {
                region: region.clone(),
                error,
            })?;
            stores.insert(region.clone(), store);
        }
        Ok(Self {
            config,
            stores,
            keys: Arc::new(keys),
            scanner: Scanner::new(),
            stop: tokio::sync::watch::Sender::new(false),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The policy set.
    pub fn policy(&self) -> &Arc<PolicySet> {
        &self.config.set
    }

    /// The store of a region.
    pub fn store(&self, region: &str) -> Option<&Store> {
        self.stores.get(region)
    }

    /// The token keys.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// The token a data subject's identity travels as (what the transfer log and the
    /// destinations hold instead of it).
    pub fn subject_token(&self, subject: &str) -> String {
        self.keys.tokenize(self.config.set.default_scope(), subject)
    }

    fn store_of(&self, region: &str) -> Result<&Store, RunError> {
        self.stores
            .get(region)
            .ok_or_else(|| RunError::Keys(format!("region {region} has no store")))
    }

    /// Seeds every tenant of the open regions that has a `seed` and was not seeded yet;
    /// returns (tenant, records) seeded.
    pub async fn seed(&self) -> Result<Vec<(String, u64)>, RunError> {
        let mut out = Vec::new();
        for (tenant, (region, seed)) in &self.config.tenants {
            let (Some(seed), Some(store)) = (seed, self.stores.get(region)) else {
                continue;
            };
            let err = |error| RunError::Store {
                region: region.clone(),
                error,
            };
            // Seeding is resumable: the generator is deterministic and upserts are idempotent,
            // so a seed cut short by a crash is simply done again; the checkpoint says done.
            let done = format!("seeded:{tenant}");
            if store.checkpoint(&done).await.map_err(err)?.is_some() {
                continue;
            }
            let n = crate::seed::seed_tenant(store, tenant, region, seed)
                .await
                .map_err(err)?;
            store
                .set_checkpoint(&done, &n.to_string())
                .await
                .map_err(err)?;
            out.push((tenant.clone(), n));
        }
        Ok(out)
    }

    /// Runs a pipeline like [`Runtime::run_pipeline`], retrying after a store or transport
    /// failure with the pipeline's exponential backoff and full jitter; `on_retry` hears of
    /// each retry (attempt, error, wait). Retrying is safe: the pipeline resumes from its
    /// checkpoints, and the sink ignores versions it already has.
    pub async fn run_pipeline_retrying(
        &self,
        p: &Pipeline,
        mut progress: impl FnMut(&RouteSummary),
        mut on_retry: impl FnMut(u32, &RunError, Duration),
    ) -> Result<RouteSummary, RunError> {
        let mut carried = RouteSummary::default();
        let mut attempt = 0;
        loop {
            let mut last = RouteSummary::default();
            let result = self
                .run_pipeline(p, |s| {
                    last = s.clone();
                    let mut total = carried.clone();
                    total.add(s);
                    progress(&total);
                })
                .await;
            match result {
                Ok(mut s) => {
                    s.add(&carried);
                    return Ok(s);
                }
                Err(e) if e.is_transient() && attempt + 1 < p.retry.max_attempts => {
                    carried.add(&last);
                    let random =
                        getrandom::u64().map_or(0.5, |r| (r >> 11) as f64 / (1u64 << 53) as f64);
                    let wait = p.retry.backoff(attempt, random);
                    on_retry(attempt + 1, &e, wait);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs a pipeline until its source has nothing new; `progress` is called after every
    /// batch with the summary so far.
    pub async fn run_pipeline(
        &self,
        p: &Pipeline,
        mut progress: impl FnMut(&RouteSummary),
    ) -> Result<RouteSummary, RunError> {
        let from = p.route.from.as_str();
        let to = p.route.to.as_str();
        let origin = self.store_of(from)?;
        let mut source = Source::new(p, origin)?;
        let sink = Arc::new(Sink::new(p, || self.store_of(to).cloned())?);
        let oerr = |error| RunError::Store {
            region: from.to_owned(),
            error,
        };
        let planner = Planner::new(self.config.set.clone(), p.route.clone())?;
        let set = &self.config.set;
        let dest_j = set.jurisdiction(planner.destination()).code.to_string();
        let head_count = HeadCount::start(self, &planner, origin, &dest_j)
            .await
            .map_err(oerr)?;
        let mut decider = Decider {
            p,
            set,
            keys: &self.keys,
            planner: &planner,
            evaluator: Evaluator::new(&planner, &self.keys, &self.scanner)
                .collect_vault(true)
                .with_now(dss_core::time::now_rfc3339()),
            outcome: Outcome::default(),
            limiter: p.rate_limit.map(|l| {
                let rate = NonZeroU32::new(l.records_per_second).unwrap_or(NonZeroU32::MIN);
                let burst = l.burst.and_then(NonZeroU32::new).unwrap_or(rate);
                RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
            }),
            head_count,
            run_id: format!("{}-{}", p.name, dss_core::time::now_rfc3339()),
            origin_j: set.jurisdiction(planner.origin()).code.to_string(),
            dest_j,
        };
        let checkpoint = format!("pipeline:{}:source", p.name);
        let mut summary = RouteSummary {
            pipeline: p.name.clone(),
            from: from.into(),
            to: to.into(),
            ..RouteSummary::default()
        };

        // Rows left unpublished by an earlier, interrupted run go first.
        summary.delivered += self.deliver(p, origin, &sink).await?;
        let mut after: i64 = origin
            .checkpoint(&checkpoint)
            .await
            .map_err(oerr)?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        // Then this loop reads and decides batches while the committer and the courier
        // (stages.rs) write and deliver the ones before.
        let (stages, batches) = Stages::start(p, origin, &sink, checkpoint);
        let base = summary.clone();
        let produced = async {
            while !self.is_stopping() {
                let changes = source.read(after, i64::from(p.max_batch_records)).await?;
                let Some(last) = changes.last().map(|c| c.seq) else {
                    break;
                };
                after = last;
                if let Some(hc) = &mut decider.head_count {
                    let subjects = changes
                        .iter()
                        .filter_map(|c| c.body.as_ref().ok())
                        .filter_map(|b| Record::subject_id_in_json(b));
                    hc.prefetch(self, origin, from, subjects)
                        .await
                        .map_err(oerr)?;
                }
                let batch = decider.decide(&changes, last).await?;
                let stop = match (p.on_dead_letter, batch.dead.first()) {
                    (OnDeadLetter::Stop, Some((first, _))) => Some(RunError::DeadLetters {
                        pipeline: p.name.clone(),
                        region: from.to_owned(),
                        count: batch.dead.len(),
                        first: first.reason.clone(),
                    }),
                    _ => None,
                };
                if batches.send(batch).await.is_err() {
                    // A stage stopped on an error, reported below.
                    break;
                }
                let mut so_far = base.clone();
                so_far.add(&stages.done());
                progress(&so_far);
                if let Some(e) = stop {
                    return Err(e);
                }
            }
            Ok(())
        }
        .await;
        // What was decided is committed and delivered before returning, even when the loop
        // failed (a dead letter with `on_dead_letter: stop` stops after its batch commits).
        drop(batches);
        let (done, staged) = stages.finish().await;
        summary.add(&done);
        progress(&summary);
        produced?;
        staged.map_err(|e| match e {
            StageError::Sink(e) => sink_error(p, e),
            StageError::Origin(error) => oerr(error),
        })?;
        Ok(summary)
    }

    /// The embedded transport: delivers the origin's unpublished outbox rows of `p` to the
    /// sink, then marks them published. Returns rows delivered.
    async fn deliver(&self, p: &Pipeline, origin: &Store, sink: &Sink) -> Result<u64, RunError> {
        let oerr = |error| RunError::Store {
            region: p.route.from.to_string(),
            error,
        };
        let mut delivered = 0;
        loop {
            let rows = origin
                .pending(&p.name, i64::from(p.max_batch_records))
                .await
                .map_err(oerr)?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                return Ok(delivered);
            };
            sink.write(&rows).await.map_err(|e| sink_error(p, e))?;
            origin.mark_published(&p.name, last).await.map_err(oerr)?;
            delivered += rows.len() as u64;
        }
    }

    /// Asks running pipelines to stop after the batch in flight (and schedules not to start
    /// another run).
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Whether [`Runtime::shutdown`] was called.
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Runs a pipeline on its schedule until [`Runtime::shutdown`]: once, every interval, or
    /// continuously (polling the source when it has nothing new). `progress` hears of every
    /// batch with the totals so far.
    pub async fn run_scheduled(
        &self,
        p: &Pipeline,
        mut progress: impl FnMut(&RouteSummary),
        mut on_retry: impl FnMut(u32, &RunError, Duration),
    ) -> Result<RouteSummary, RunError> {
        let mut total = RouteSummary::default();
        let mut stop = self.stop.subscribe();
        loop {
            let before = total.clone();
            let s = self
                .run_pipeline_retrying(
                    p,
                    |s| {
                        let mut t = before.clone();
                        t.add(s);
                        progress(&t);
                    },
                    &mut on_retry,
                )
                .await?;
            total.add(&s);
            let pause = match p.schedule {
                Schedule::Once => break,
                Schedule::Every { interval_ms } => Duration::from_millis(interval_ms),
                Schedule::Continuous => CONTINUOUS_POLL,
            };
            if self.is_stopping() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => break,
            }
        }
        total.pipeline = p.name.clone();
        total.from = p.route.from.to_string();
        total.to = p.route.to.to_string();
        Ok(total)
    }
}

fn sink_error(p: &Pipeline, e: SinkError) -> RunError {
    match e {
        SinkError::Store(error) => RunError::Store {
            region: p.route.to.to_string(),
            error,
        },
        SinkError::File(why) => RunError::Connector(why),
    }
}

/// Who logs a decision: the pipeline (or gateway) and run, when, and the jurisdictions of the
/// route.
#[derive(Clone, Copy, Debug)]
pub struct Leg<'a> {
    /// Pipeline name (`gateway` for reads through the gateway).
    pub pipeline: &'a str,
    /// Run id.
    pub run_id: &'a str,
    /// RFC 3339 time.
    pub now: &'a str,
    /// Origin jurisdiction code.
    pub origin_jurisdiction: &'a str,
    /// Destination jurisdiction code.
    pub dest_jurisdiction: &'a str,
}

/// The transfer-log entry of one decision (`transfer`, `block` or `delete`): field actions,
/// reasons, legal basis and conditions relied on — never a value.
pub fn transfer_entry(
    set: &PolicySet,
    route: &RouteSpec,
    leg: Leg<'_>,
    record: &Record,
    outcome: &Outcome,
    decision: &str,
) -> Transfer {
    Transfer {
        timestamp: leg.now.to_owned(),
        pipeline: leg.pipeline.to_owned(),
        run_id: leg.run_id.to_owned(),
        origin_region: route.from.to_string(),
        origin_jurisdiction: leg.origin_jurisdiction.to_owned(),
        dest_region: route.to.to_string(),
        dest_jurisdiction: leg.dest_jurisdiction.to_owned(),
        object: record.object.to_string(),
        record_id: record.id.clone(),
        subject: outcome.subject_token.clone(),
        decision: decision.into(),
        fields: outcome
            .fields
            .iter()
            .filter(|d| d.is_notable())
            .map(|d| FieldAction {
                path: d.path.to_string(),
                class: d.class.to_string(),
                action: d.action.to_string(),
                rule: set.rule_name(d.rule).to_owned(),
            })
            .collect(),
        reasons: outcome.reasons.iter().map(|r| r.message.clone()).collect(),
        legal_basis: route
            .legal_basis
            .map(|b| b.as_str().to_owned())
            .or_else(|| {
                record
                    .subject
                    .as_ref()
                    .and_then(|s| s.legal_basis)
                    .map(|b| b.as_str().to_owned())
            }),
        conditions: route
            .conditions
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        policy_version: set.version().to_owned(),
    }
}

/// The vault entries of the tokens an outcome made, sealed for the origin's vault.
pub fn seal_vault(keys: &Keyring, outcome: &mut Outcome) -> Result<Vec<VaultEntry>, RunError> {
    outcome
        .vault
        .drain(..)
        .map(|w| {
            Ok(VaultEntry {
                sealed: keys
                    .seal(&w.token, &w.value)
                    .map_err(|e| RunError::Keys(e.to_string()))?,
                token: w.token,
                subject: outcome.subject_token.clone(),
            })
        })
        .collect()
}

/// How often a continuous pipeline looks for new changes when it has caught up.
const CONTINUOUS_POLL: Duration = Duration::from_millis(200);

/// The configured key file, or a development key kept in the data directory (created on
/// first use).
fn load_or_create_keys(config: &Config) -> Result<Keyring, RunError> {
    let path = config
        .token_keys
        .clone()
        .unwrap_or_else(|| config.data_dir.join("dev-token-keys"));
    if !path.exists() && config.token_keys.is_none() {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| RunError::Keys(format!("no randomness for a development key: {e}")))?;
        let line = format!(
            "# development token key made by `dss run`; not for production (set `token_keys`)\ndev1:{}\n",
            base64::engine::general_purpose::STANDARD.encode(key)
        );
        std::fs::write(&path, line)
            .map_err(|e| RunError::Keys(format!("cannot write {}: {e}", path.display())))?;
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| RunError::Keys(format!("cannot read {}: {e}", path.display())))?;
    Keyring::from_key_file(&text).map_err(|e| RunError::Keys(format!("{}: {e}", path.display())))
}
