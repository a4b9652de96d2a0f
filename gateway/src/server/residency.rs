//! Residency-aware access: a caller from another jurisdiction sees a region's CRM records only
//! as the policy plan of that route lets them cross, exactly as a pipeline transfer would,
//! and every such read is written to the region's transfer log (with the vault entries of the
//! tokens it made) before the answer leaves.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use dss_core::Record;
use dss_pipelines::gateway_config::Caller;
use dss_pipelines::{HeadCount, Leg, Runtime, seal_vault, transfer_entry};
use dss_policies::{Decision, Evaluator, Outcome, Planner, RouteSpec, RuleRef, Scanner};
use dss_store::Store;
use dss_store::records::Listed;
use tonic::Status;

use super::limits::Limits;
use super::metrics::Metrics;
use super::proto;
use super::spread::{
    CHUNKS, DECIDERS, HALVES_FROM, in_chunks, in_halves, on_many_threads, take_in_order,
};

/// One region's gateway state, shared by its services.
pub struct Gate {
    pub(crate) rt: Arc<Runtime>,
    pub(crate) region: String,
    pub(crate) store: Store,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) limits: Arc<Limits>,
    pub(crate) scanner: Scanner,
    /// Compiled plans per (caller, direction).
    planners: Mutex<HashMap<(String, bool), Arc<Planner>>>,
    /// Wakes watchers after a write through this gateway.
    pub(crate) changed: tokio::sync::watch::Sender<u64>,
    /// Turns true when the gateway stops: streams end so that shutdown can drain.
    pub(crate) stop: tokio::sync::watch::Receiver<bool>,
}

/// A record as a caller may see it.
pub struct Seen {
    /// The record as it crosses (`None` when blocked).
    pub record: Option<Record>,
    /// The decision, for reads across a border: shared by the records of a read that were
    /// decided alike, so it is built once.
    pub decision: Option<Arc<proto::Decision>>,
    /// The id as it crossed (tokenized when it holds personal data).
    pub id: String,
}

impl Gate {
    /// The state of `region`'s gateway.
    pub fn new(
        rt: Arc<Runtime>,
        region: &str,
        metrics: Arc<Metrics>,
        limits: Arc<Limits>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        let store = rt
            .store(region)
            .ok_or_else(|| anyhow::anyhow!("region {region} is not configured"))?
            .clone();
        Ok(Self {
            rt,
            region: region.to_owned(),
            store,
            metrics,
            limits,
            scanner: Scanner::new(),
            planners: Mutex::new(HashMap::new()),
            changed: tokio::sync::watch::Sender::new(0),
            stop,
        })
    }

    /// Records the caller, tenant and route on the current request span.
    pub(crate) fn trace(&self, caller: &Caller, tenant: &str) {
        let span = tracing::Span::current();
        span.record("caller", caller.name.as_str());
        span.record("tenant", tenant);
        span.record(
            "route",
            format!("{} -> {}", self.region, caller.region).as_str(),
        );
    }

    /// Checks that `tenant` lives in this region and applies its rate limit.
    pub fn local_tenant(&self, tenant: &str) -> Result<(), Status> {
        match self.rt.config().tenants.get(tenant) {
            Some((region, _)) if *region == self.region => self.limits.tenant(tenant),
            Some((region, _)) => Err(Status::failed_precondition(format!(
                "tenant {tenant:?} lives in {region}: call that region's gateway"
            ))),
            None => Err(Status::not_found(format!("no tenant {tenant:?}"))),
        }
    }

    /// Whether the caller is in another jurisdiction than this region (asked on every CRM
    /// call: compares the policy set's entries, allocates nothing).
    pub fn crosses(&self, caller: &Caller) -> bool {
        let set = self.rt.policy();
        let code = |region: &str| set.region(region).map(|j| &j.code);
        code(caller.region.as_str()) != code(&self.region)
    }

    /// The plan of the caller's route: out of this region (`inbound` false) or into it.
    pub fn planner(&self, caller: &Caller, inbound: bool) -> Result<Arc<Planner>, Status> {
        let key = (caller.name.clone(), inbound);
        if let Some(p) = self.planners.lock().expect("planner cache").get(&key) {
            return Ok(p.clone());
        }
        let here = dss_core::RegionId::new(&self.region).expect("configured regions are valid");
        let (from, to) = if inbound {
            (caller.region.clone(), here)
        } else {
            (here, caller.region.clone())
        };
        let route = RouteSpec {
            from,
            to,
            to_tenant: None,
            purpose: caller.purpose.clone(),
            legal_basis: caller.legal_basis,
            conditions: caller.conditions.clone(),
        };
        let planner = Arc::new(
            Planner::new(self.rt.policy().clone(), route)
                .map_err(|e| Status::failed_precondition(e.to_string()))?,
        );
        self.planners
            .lock()
            .expect("planner cache")
            .insert(key, planner.clone());
        Ok(planner)
    }

    /// Decides a write from another jurisdiction on the route *caller → this region*, as a
    /// transfer into it: the record as it crosses (tokens made on the way in stay
    /// irreversible here: their originals belong to the caller's region) and the log entry.
    pub fn inbound(
        &self,
        caller: &Caller,
        record: &mut Record,
    ) -> Result<dss_store::ledger::Transfer, Status> {
        let planner = self.planner(caller, true)?;
        let set = self.rt.policy();
        let now = dss_core::time::now_rfc3339();
        record.region = caller.region.clone();
        let mut evaluator =
            Evaluator::new(&planner, self.rt.keys(), &self.scanner).with_now(now.clone());
        let mut outcome = Outcome::default();
        evaluator.evaluate(record, &mut outcome);
        let run_id = format!("write:{}", caller.name);
        let origin_j = set.jurisdiction(planner.origin()).code.to_string();
        let dest_j = set.jurisdiction(planner.destination()).code.to_string();
        let leg = Leg {
            pipeline: "gateway",
            run_id: &run_id,
            now: &now,
            origin_jurisdiction: &origin_j,
            dest_jurisdiction: &dest_j,
        };
        let decision = match outcome.decision {
            Decision::Transfer => "transfer",
            Decision::Block => "block",
        };
        Ok(transfer_entry(
            set,
            planner.route(),
            leg,
            record,
            &outcome,
            decision,
        ))
    }

    /// What a caller may see of `records` (live or deleted): untouched in the same
    /// jurisdiction; across a border, decided by the route's plan, with every decision logged
    /// (and the tokens made kept in this region's vault) in one transaction before returning.
    pub async fn read(&self, caller: &Caller, records: Vec<Record>) -> Result<Vec<Seen>, Status> {
        self.read_each(caller, records, Some).await
    }

    /// [`Gate::read`] of many items at once: `respond` turns what the caller may see into the
    /// answer (or drops it). A large read uses both cores: decided in two halves, one on
    /// another thread, or — across a border — in chunks on two threads while a third writes
    /// the log entries of those already decided. The answers keep the items' order, and
    /// nothing is returned before the log is committed.
    ///
    /// Across a border, the origin jurisdiction's head-count thresholds apply as they do to a
    /// pipeline: past one whose condition the caller's route lacks, the records of subjects
    /// not yet counted this year are blocked. When the read's subjects cannot reach a
    /// threshold, nothing is looked up; otherwise the read is decided in order on one thread.
    pub async fn read_each<T: ReadItem, U: Send>(
        &self,
        caller: &Caller,
        items: Vec<T>,
        respond: impl Fn(Seen) -> Option<U> + Sync,
    ) -> Result<Vec<U>, Status> {
        let crossing = if self.crosses(caller) {
            Some(self.crossing(caller)?)
        } else {
            None
        };
        let heads = match &crossing {
            Some(c) => self.head_count(c, &items).await?,
            None => None,
        };
        let read = match (&crossing, heads) {
            // Admissions change the count: in order, on this thread.
            (Some(c), Some(mut heads)) => {
                let read = self.decide(Some(c), Some(&mut heads), items, &respond)?;
                self.log(&read).await?;
                read
            }
            (Some(c), None) if items.len() >= HALVES_FROM && on_many_threads() => {
                tokio::task::block_in_place(|| self.decide_logging(c, items, &respond))?
            }
            (crossing, _) => {
                let mut read = Decided::default();
                for half in in_halves(items, |half| {
                    self.decide(crossing.as_ref(), None, half, &respond)
                }) {
                    read.append(half?);
                }
                if crossing.is_some() {
                    self.log(&read).await?;
                }
                read
            }
        };
        if let Some(crossing) = &crossing {
            tracing::debug!(records = read.answers.len(), "read across a border, logged");
            for (outcome, n) in read.counts {
                self.metrics.record(&crossing.route_name, outcome, n);
            }
        }
        Ok(read.answers)
    }

    /// Writes what deciding a read made — its vault entries and log entries — in one
    /// transaction.
    async fn log<U>(&self, read: &Decided<U>) -> Result<(), Status> {
        let mut tx = self.store.begin().await.map_err(internal)?;
        self.write(&mut tx, read).await?;
        tx.commit().await.map_err(internal)
    }

    /// Writes a read's (or a chunk's) vault entries and log entries into `tx`.
    async fn write<U>(&self, tx: &mut dss_store::Tx, read: &Decided<U>) -> Result<(), Status> {
        tx.put_vault_all(&read.vault).await.map_err(internal)?;
        tx.append_transfers(&self.region, &read.log)
            .await
            .map_err(internal)?;
        Ok(())
    }

    /// A large read across a border without head-counts: decided in chunks by two threads
    /// while this one writes each chunk's vault and log entries, in the items' order, into
    /// one transaction — the log's writes overlap the deciding instead of following it. Runs
    /// outside the runtime's workers (under `block_in_place`).
    fn decide_logging<T: ReadItem, U: Send>(
        &self,
        c: &Crossing,
        items: Vec<T>,
        respond: &(impl Fn(Seen) -> Option<U> + Sync),
    ) -> Result<Decided<U>, Status> {
        let chunks = in_chunks(items, CHUNKS);
        let n = chunks.len();
        let queue = Mutex::new(chunks.into_iter().enumerate());
        let (done, decided) = std::sync::mpsc::channel();
        let runtime = tokio::runtime::Handle::current();
        std::thread::scope(|s| {
            for _ in 0..DECIDERS {
                let (done, queue) = (done.clone(), &queue);
                s.spawn(move || {
                    loop {
                        let next = queue.lock().expect("chunk queue").next();
                        let Some((i, chunk)) = next else { break };
                        let chunk = self.decide(Some(c), None, chunk, respond);
                        if done.send((i, chunk)).is_err() {
                            break; // the writer stopped on an error
                        }
                    }
                });
            }
            drop(done);
            runtime.block_on(self.log_in_order(n, decided))
        })
    }

    /// Writes the `n` chunks `decided` sends (in any order) in their order: the transaction
    /// begins with the first, and commits after the last.
    async fn log_in_order<U>(
        &self,
        n: usize,
        decided: std::sync::mpsc::Receiver<(usize, Result<Decided<U>, Status>)>,
    ) -> Result<Decided<U>, Status> {
        let mut early = BTreeMap::new();
        let mut read = Decided::default();
        let mut tx = None;
        for next in 0..n {
            // `recv` blocks this thread only: it is outside the runtime's workers.
            let mut chunk = take_in_order(next, &mut early, || decided.recv().ok())
                .ok_or_else(|| internal("a thread deciding a read stopped"))??;
            let tx = match &mut tx {
                Some(tx) => tx,
                None => tx.insert(self.store.begin().await.map_err(internal)?),
            };
            self.write(tx, &chunk).await?;
            // Written: only the answers and counts go on.
            chunk.vault.clear();
            chunk.log.clear();
            read.append(chunk);
        }
        if let Some(tx) = tx {
            tx.commit().await.map_err(internal)?;
        }
        Ok(read)
    }

    /// What a read across the border to `caller` is decided and logged with.
    fn crossing(&self, caller: &Caller) -> Result<Crossing, Status> {
        let planner = self.planner(caller, false)?;
        let set = self.rt.policy();
        let route = planner.route();
        Ok(Crossing {
            route_name: format!("{} -> {}", route.from, route.to),
            origin_j: set.jurisdiction(planner.origin()).code.to_string(),
            dest_j: set.jurisdiction(planner.destination()).code.to_string(),
            now: dss_core::time::now_rfc3339(),
            run_id: format!("read:{}", caller.name),
            planner,
        })
    }

    /// The head count a read across the border `c` admits its subjects through, when one of
    /// them could reach a threshold: with the subjects of `items` already counted looked up.
    async fn head_count<T: ReadItem>(
        &self,
        c: &Crossing,
        items: &[T],
    ) -> Result<Option<HeadCount>, Status> {
        let Some(mut heads) = HeadCount::start(&self.rt, &c.planner, &self.store, &c.dest_j)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        // Each item names one subject at most.
        if !heads.may_reach(items.len()) {
            return Ok(None);
        }
        let subjects = items.iter().filter_map(ReadItem::subject_id);
        heads
            .prefetch(&self.rt, &self.store, &self.region, subjects)
            .await
            .map_err(internal)?;
        Ok(Some(heads))
    }

    /// Decides `items` in order: untouched without a crossing, else through its plan (and
    /// `heads`, when given).
    fn decide<T: ReadItem, U>(
        &self,
        crossing: Option<&Crossing>,
        mut heads: Option<&mut HeadCount>,
        items: Vec<T>,
        respond: &impl Fn(Seen) -> Option<U>,
    ) -> Result<Decided<U>, Status> {
        let mut out = Decided {
            answers: Vec::with_capacity(items.len()),
            ..Decided::default()
        };
        let Some(c) = crossing else {
            for item in items {
                let r = item.into_record()?;
                out.answers.extend(respond(Seen {
                    id: r.id.clone(),
                    record: Some(r),
                    decision: None,
                }));
            }
            return Ok(out);
        };
        let set = self.rt.policy();
        let route = c.planner.route();
        let leg = Leg {
            pipeline: "gateway",
            run_id: &c.run_id,
            now: &c.now,
            origin_jurisdiction: &c.origin_j,
            dest_jurisdiction: &c.dest_j,
        };
        let mut evaluator = Evaluator::new(&c.planner, self.rt.keys(), &self.scanner)
            .collect_vault(true)
            .with_now(c.now.clone());
        let mut outcome = Outcome::default();
        let mut last: Option<Arc<proto::Decision>> = None;
        out.log.reserve(items.len());
        for item in items {
            let deleting = item.deleting();
            let mut record = item.into_record()?;
            evaluator.evaluate(&mut record, &mut outcome);
            if let Some(heads) = heads.as_deref_mut()
                && !deleting
            {
                heads.admit(&mut outcome, RuleRef::Level(c.planner.origin()));
            }
            // A deletion tells only the id as it crosses, whatever the content would be
            // decided: logged as `delete`, never counted, no vault entry (as in a pipeline).
            let transfer = outcome.decision == Decision::Transfer && !deleting;
            let decision = match (deleting, transfer) {
                (true, _) => "delete",
                (false, true) => "transfer",
                (false, false) => "block",
            };
            let entry = transfer_entry(set, route, leg, &record, &outcome, decision);
            let transformed = outcome
                .fields
                .iter()
                .any(|d| d.action != dss_policies::ActionKind::Pass);
            if !deleting {
                out.counts[match (transfer, transformed) {
                    (false, _) => 0,
                    (true, true) => 1,
                    (true, false) => 2,
                }]
                .1 += 1;
            }
            if transfer {
                out.vault
                    .extend(seal_vault(self.rt.keys(), &mut outcome).map_err(internal)?);
            }
            let decision = match last.take() {
                Some(d) if tells(&d, &entry) => d,
                _ => Arc::new(decision_of(&entry)),
            };
            last = Some(decision.clone());
            out.answers.extend(respond(Seen {
                id: record.id.clone(),
                decision: Some(decision),
                record: transfer.then_some(record),
            }));
            out.log.push(entry);
        }
        Ok(out)
    }
}

/// An item of a read: a record, or a stored one parsed when decided.
pub trait ReadItem: Send {
    /// The data subject's id, read before deciding (for head-counts).
    fn subject_id(&self) -> Option<String>;
    /// The record.
    fn into_record(self) -> Result<Record, Status>;
    /// Whether the item tells the record's deletion (only its id crosses).
    fn deleting(&self) -> bool {
        false
    }
}

/// The deletion of a record (its last version), as `Watch` tells it.
pub(super) struct Deletion(pub Record);

impl ReadItem for Deletion {
    fn subject_id(&self) -> Option<String> {
        None
    }
    fn into_record(self) -> Result<Record, Status> {
        Ok(self.0)
    }
    fn deleting(&self) -> bool {
        true
    }
}

impl ReadItem for Record {
    fn subject_id(&self) -> Option<String> {
        self.subject.as_ref()?.id.clone()
    }
    fn into_record(self) -> Result<Record, Status> {
        Ok(self)
    }
}

impl ReadItem for Listed {
    fn subject_id(&self) -> Option<String> {
        Record::subject_id_in_json(&self.body)
    }
    fn into_record(self) -> Result<Record, Status> {
        self.record().map_err(internal)
    }
}

/// The route of a read across a border, decided once per call.
struct Crossing {
    planner: Arc<Planner>,
    route_name: String,
    origin_j: String,
    dest_j: String,
    now: String,
    run_id: String,
}

/// What deciding some of a read's items made: the answers, and what the log must hold
/// before they leave.
struct Decided<U> {
    answers: Vec<U>,
    vault: Vec<dss_core::vault::VaultEntry>,
    log: Vec<dss_store::ledger::Transfer>,
    /// Records per outcome, counted into the metrics once per call.
    counts: [(&'static str, u64); 3],
}

impl<U> Default for Decided<U> {
    fn default() -> Self {
        Self {
            answers: Vec::new(),
            vault: Vec::new(),
            log: Vec::new(),
            counts: [("blocked", 0), ("transformed", 0), ("transferred", 0)],
        }
    }
}

impl<U> Decided<U> {
    fn append(&mut self, mut other: Self) {
        self.answers.append(&mut other.answers);
        self.vault.append(&mut other.vault);
        self.log.append(&mut other.log);
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            mine.1 += theirs.1;
        }
    }
}

/// Whether `d` says what the entry `t` of the same read holds (the route and policy version
/// are the read's).
fn tells(d: &proto::Decision, t: &dss_store::ledger::Transfer) -> bool {
    d.decision == t.decision
        && d.reasons == t.reasons
        && d.fields.len() == t.fields.len()
        && d.fields.iter().zip(&t.fields).all(|(a, b)| {
            a.path == b.path && a.class == b.class && a.action == b.action && a.rule == b.rule
        })
}

/// The decision message of a transfer-log entry: what the caller is told is what the log
/// holds.
pub(super) fn decision_of(t: &dss_store::ledger::Transfer) -> proto::Decision {
    proto::Decision {
        decision: t.decision.clone(),
        route: format!("{} -> {}", t.origin_region, t.dest_region),
        fields: t
            .fields
            .iter()
            .map(|f| proto::FieldAction {
                path: f.path.clone(),
                class: f.class.clone(),
                action: f.action.clone(),
                rule: f.rule.clone(),
            })
            .collect(),
        reasons: t.reasons.clone(),
        policy_version: t.policy_version.clone(),
    }
}

/// An internal failure: logged in full here, reported without detail to the caller (it may
/// name stored values).
pub(super) fn internal(e: impl std::fmt::Display) -> Status {
    tracing::error!(error = %e, "internal error");
    Status::internal("internal error (see the gateway's log)")
}

/// The message of a record.
pub(super) fn record_proto(r: &Record) -> proto::Record {
    proto::Record {
        id: r.id.clone(),
        object: r.object.to_string(),
        tenant: r.tenant.to_string(),
        region: r.region.to_string(),
        version: r.version,
        json: dss_core::json::record_to_string(r),
    }
}
