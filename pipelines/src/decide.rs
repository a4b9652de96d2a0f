//! Deciding a batch: every change read from the source through the route's plan, into what
//! the committer writes (outbox rows, vault entries, transfer-log entries, dead letters) and
//! what the batch counts for. Head-count thresholds are checked here, before a record is
//! admitted.

use std::collections::{HashSet, VecDeque};

use dss_core::Record;
use dss_policies::pipeline::Pipeline;
use dss_policies::{
    Decision, Evaluator, Keyring, Outcome, Planner, PolicySet, RuleRef, SubjectThreshold,
};
use dss_store::dead_letters::DeadLetter;
use dss_store::ledger::Entries;
use dss_store::outbox::OutboxRow;
use dss_store::{Store, StoreError};
use governor::DefaultDirectRateLimiter;

use crate::connectors::{Change, Source};
use crate::runtime::{Leg, RouteSummary, RunError, Runtime, seal_vault, transfer_entry};
use crate::stages::Batch;

/// What stays the same from batch to batch of one run.
pub(crate) struct Decider<'r> {
    pub(crate) p: &'r Pipeline,
    pub(crate) set: &'r PolicySet,
    pub(crate) keys: &'r Keyring,
    pub(crate) planner: &'r Planner,
    pub(crate) evaluator: Evaluator<'r>,
    pub(crate) outcome: Outcome,
    pub(crate) limiter: Option<DefaultDirectRateLimiter>,
    pub(crate) head_count: Option<HeadCount>,
    pub(crate) run_id: String,
    pub(crate) origin_j: String,
    pub(crate) dest_j: String,
}

impl Decider<'_> {
    /// Decides `changes`, which end at source position `last`.
    pub(crate) async fn decide(
        &mut self,
        changes: &[Change],
        last: i64,
    ) -> Result<Batch, RunError> {
        let now = dss_core::time::now_rfc3339();
        let mut counts = RouteSummary::default();
        let mut rows = Vec::new();
        let mut vault = Vec::new();
        let mut transfers = Vec::new();
        let mut dead = Vec::new();
        for c in changes {
            if c.skip {
                continue;
            }
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            counts.read += 1;
            if c.object
                .as_deref()
                .is_some_and(|o| !Source::wanted(self.p, o))
            {
                counts.skipped += 1;
                continue;
            }
            let mut dead_letter = |reason: String, object: Option<String>| {
                counts.dead_letters += 1;
                let reason = match &c.at {
                    Some(at) => format!("{at}: {reason}"),
                    None => reason,
                };
                dead.push((
                    DeadLetter {
                        seq: 0,
                        timestamp: now.clone(),
                        pipeline: self.p.name.clone(),
                        stage: "read".into(),
                        object,
                        record_id: None,
                        reason,
                    },
                    c.body.as_ref().ok().cloned(),
                ));
            };
            let body = match &c.body {
                Ok(body) => body,
                Err(reason) => {
                    dead_letter(reason.clone(), c.object.clone());
                    continue;
                }
            };
            let mut record = match Record::from_json(body.as_bytes()) {
                Ok(r) => r,
                Err(e) => {
                    dead_letter(e.to_string(), c.object.clone());
                    continue;
                }
            };
            if c.object.is_none() && !self.p.objects.contains(&record.object) {
                counts.skipped += 1;
                continue;
            }
            // A record that says it lives elsewhere is not decided on this route's rules.
            if record.region != self.p.route.from {
                dead_letter(
                    // Named by its key path: the region written there may be anything.
                    format!(
                        "region: not the pipeline's source region {}",
                        self.p.route.from
                    ),
                    Some(record.object.to_string()),
                );
                continue;
            }
            let version = record.version as i64;
            let deleting = c.delete;
            self.evaluator.evaluate(&mut record, &mut self.outcome);
            if let Some(hc) = &mut self.head_count
                && !deleting
            {
                hc.admit(&mut self.outcome, RuleRef::Level(self.planner.origin()));
            }
            if self.outcome.decision == Decision::Transfer {
                for d in &self.outcome.fields {
                    counts.actions[d.action as usize] += 1;
                }
            }
            // A delete always propagates (the destination may hold an earlier copy, and
            // erasure must reach every recipient); it carries the id as it crossed.
            let decision = match (self.outcome.decision, deleting) {
                (_, true) => "delete",
                (Decision::Transfer, false) => "transfer",
                (Decision::Block, false) => "block",
            };
            if deleting {
                counts.sent += 1;
                rows.push(OutboxRow {
                    seq: 0,
                    destination: self.p.name.clone(),
                    pipeline: self.p.name.clone(),
                    tenant: self
                        .p
                        .route
                        .to_tenant
                        .clone()
                        .unwrap_or_else(|| record.tenant.to_string()),
                    object: record.object.to_string(),
                    id: record.id.clone(),
                    version: c.version,
                    op: "delete".into(),
                    body: String::new(),
                });
            } else if self.outcome.decision == Decision::Transfer {
                counts.sent += 1;
                rows.push(OutboxRow {
                    seq: 0,
                    destination: self.p.name.clone(),
                    pipeline: self.p.name.clone(),
                    tenant: record.tenant.to_string(),
                    object: record.object.to_string(),
                    id: record.id.clone(),
                    version,
                    op: "upsert".into(),
                    body: dss_core::json::record_to_string(&record),
                });
                vault.extend(seal_vault(self.keys, &mut self.outcome)?);
            } else {
                counts.blocked += 1;
            }
            transfers.push(transfer_entry(
                self.set,
                &self.p.route,
                Leg {
                    pipeline: &self.p.name,
                    run_id: &self.run_id,
                    now: &now,
                    origin_jurisdiction: &self.origin_j,
                    dest_jurisdiction: &self.dest_j,
                },
                &record,
                &self.outcome,
                decision,
            ));
        }
        Ok(Batch {
            vault,
            rows,
            transfers: vec![Entries::new(transfers)],
            dead,
            last,
            counts,
        })
    }
}

/// The head-count thresholds of the origin jurisdiction that a route's conditions do not
/// meet, and the distinct data subjects the origin region sent to the destination jurisdiction
/// since 1 January (counted from the subject tokens of the log's transfers). Pipelines and the
/// gateway's reads across a border admit subjects through it.
pub struct HeadCount {
    thresholds: Vec<SubjectThreshold>,
    dest: String,
    /// The calendar year counted (UTC), as in the log's timestamps.
    year: i32,
    count: u64,
    /// Subjects of the batch in hand already counted.
    known: HashSet<String>,
    /// Subjects admitted by the last batches, newest last.
    recent: VecDeque<Vec<String>>,
}

/// Batches a head count remembers admissions of: the one being decided, the one waiting for
/// the committer, and the one committing.
const RECENT_BATCHES: usize = 3;

impl HeadCount {
    /// The head count of `planner`'s route into jurisdiction `dest`, read from the origin
    /// region's store; `None` when the route's conditions meet every threshold.
    pub async fn start(
        rt: &Runtime,
        planner: &Planner,
        origin: &Store,
        dest: &str,
    ) -> Result<Option<Self>, StoreError> {
        let set = &rt.config().set;
        let route = planner.route();
        let thresholds: Vec<SubjectThreshold> = set
            .jurisdiction(planner.origin())
            .subject_thresholds
            .iter()
            .filter(|t| !route.conditions.contains(&t.requires))
            .cloned()
            .collect();
        if thresholds.is_empty() {
            return Ok(None);
        }
        let year = dss_core::time::now_rfc3339()[..4]
            .parse()
            .expect("an RFC 3339 time starts with its year");
        let count = origin
            .subjects_transferred(route.from.as_str(), dest, year)
            .await?;
        Ok(Some(Self {
            thresholds,
            dest: dest.to_owned(),
            year,
            count,
            known: HashSet::new(),
            recent: VecDeque::new(),
        }))
    }

    /// Looks up which subjects of a batch were counted before: in the log, or admitted in
    /// the last batches, which may not have committed yet (the committer runs behind).
    /// `subjects` are the batch's data-subject ids (their tokens are looked up).
    pub async fn prefetch(
        &mut self,
        rt: &Runtime,
        origin: &Store,
        region: &str,
        subjects: impl Iterator<Item = String>,
    ) -> Result<(), StoreError> {
        let tokens: Vec<String> = subjects.map(|id| rt.subject_token(&id)).collect();
        self.prefetch_tokens(origin, region, &tokens).await
    }

    /// Whether admitting `new` more subjects could reach a threshold: when not, no record
    /// of them can be blocked, and looking up which were counted before is not needed.
    pub fn may_reach(&self, new: usize) -> bool {
        let most = self.count.saturating_add(new as u64);
        self.thresholds.iter().any(|t| most > t.subjects)
    }

    /// Looks up which of `tokens` `region` counted before (a batch's subjects).
    async fn prefetch_tokens(
        &mut self,
        origin: &Store,
        region: &str,
        tokens: &[String],
    ) -> Result<(), StoreError> {
        self.known = origin
            .subjects_already_transferred(region, &self.dest, self.year, tokens)
            .await?;
        if self.recent.len() == RECENT_BATCHES {
            self.recent.pop_front();
        }
        for batch in &self.recent {
            self.known.extend(batch.iter().cloned());
        }
        self.recent.push_back(Vec::new());
        Ok(())
    }

    /// Counts the outcome's subject if it is new this year, or blocks the record when counting
    /// it would pass a threshold whose condition is not met.
    pub fn admit(&mut self, outcome: &mut Outcome, rule: RuleRef) {
        let Some(token) = &outcome.subject_token else {
            return;
        };
        if outcome.decision != Decision::Transfer || self.known.contains(token) {
            return;
        }
        match self.thresholds.iter().find(|t| self.count >= t.subjects) {
            Some(t) => outcome.block_with(
                rule,
                format!(
                    "{} distinct data subjects sent to {} since {}-01-01 reach the threshold of {}{}: `{}` is required",
                    self.count,
                    self.dest,
                    self.year,
                    t.subjects,
                    t.source.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
                    t.requires.as_str()
                ),
            ),
            None => {
                self.count += 1;
                self.known.insert(token.clone());
                if let Some(batch) = self.recent.back_mut() {
                    batch.push(token.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer_of(token: &str) -> Outcome {
        Outcome {
            decision: Decision::Transfer,
            subject_token: Some(token.to_owned()),
            ..Outcome::default()
        }
    }

    /// The committer runs behind the deciding loop, so a subject admitted in the batch before
    /// may not be in the log yet when the next batch looks it up: it must not count twice.
    #[tokio::test]
    async fn a_subject_admitted_in_a_batch_not_yet_committed_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let store = Store::open(&url).await.unwrap();
        let mut hc = HeadCount {
            thresholds: vec![SubjectThreshold {
                subjects: 2,
                requires: dss_policies::Condition::SecurityAssessment,
                source: None,
            }],
            dest: "CN".into(),
            year: 2026,
            count: 0,
            known: HashSet::new(),
            recent: VecDeque::new(),
        };
        let rule = || RuleRef::Rule(0);
        for batch in [["tok-a"], ["tok-a"], ["tok-b"]] {
            let tokens: Vec<String> = batch.iter().map(|t| t.to_string()).collect();
            hc.prefetch_tokens(&store, "r", &tokens).await.unwrap();
            let mut outcome = transfer_of(batch[0]);
            hc.admit(&mut outcome, rule());
            assert_eq!(
                outcome.decision,
                Decision::Transfer,
                "{:?}",
                outcome.reasons
            );
        }
        assert_eq!(hc.count, 2);
        let mut third = transfer_of("tok-c");
        hc.prefetch_tokens(&store, "r", &["tok-c".into()])
            .await
            .unwrap();
        hc.admit(&mut third, rule());
        assert_eq!(third.decision, Decision::Block, "past the threshold");
    }

    /// `may_reach(n)` is false only when admitting `n` new subjects in a row blocks none: the
    /// gateway then skips looking them up.
    #[test]
    fn may_reach_says_whether_admitting_that_many_could_block_one() {
        for (count, new) in [(0, 5), (3, 2), (3, 3), (5, 0), (5, 1), (9, 1)] {
            let mut hc = HeadCount {
                thresholds: vec![SubjectThreshold {
                    subjects: 5,
                    requires: dss_policies::Condition::SecurityAssessment,
                    source: None,
                }],
                dest: "CN".into(),
                year: 2026,
                count,
                known: HashSet::new(),
                recent: VecDeque::new(),
            };
            let mut blocked = false;
            for i in 0..new {
                let mut outcome = transfer_of(&format!("tok-{i}"));
                hc.admit(&mut outcome, RuleRef::Rule(0));
                blocked |= outcome.decision == Decision::Block;
            }
            let fresh = HeadCount { count, ..hc };
            assert_eq!(fresh.may_reach(new), blocked, "{count} counted, {new} new");
        }
    }
}
