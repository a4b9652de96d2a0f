//! Residency-aware access: a caller from another jurisdiction sees a region's CRM records only
//! as the policy plan of that route lets them cross, exactly as a pipeline transfer would,
//! and every such read is written to the region's transfer log (with the vault entries of the
//! tokens it made) before the answer leaves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dss_core::Record;
use dss_pipelines::gateway_config::Caller;
use dss_pipelines::{Leg, Runtime, seal_vault, transfer_entry};
use dss_policies::{Decision, Evaluator, Outcome, Planner, RouteSpec, Scanner};
use dss_store::Store;
use tonic::Status;

use super::limits::Limits;
use super::metrics::Metrics;
use super::proto;

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
    /// The decision, for reads across a border.
    pub decision: Option<proto::Decision>,
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
        if !self.crosses(caller) {
            return Ok(records
                .into_iter()
                .map(|r| Seen {
                    id: r.id.clone(),
                    record: Some(r),
                    decision: None,
                })
                .collect());
        }
        let planner = self.planner(caller, false)?;
        let set = self.rt.policy();
        let route = planner.route();
        let route_name = format!("{} -> {}", route.from, route.to);
        let origin_j = set.jurisdiction(planner.origin()).code.to_string();
        let dest_j = set.jurisdiction(planner.destination()).code.to_string();
        let now = dss_core::time::now_rfc3339();
        let run_id = format!("read:{}", caller.name);
        let leg = Leg {
            pipeline: "gateway",
            run_id: &run_id,
            now: &now,
            origin_jurisdiction: &origin_j,
            dest_jurisdiction: &dest_j,
        };
        let mut evaluator = Evaluator::new(&planner, self.rt.keys(), &self.scanner)
            .collect_vault(true)
            .with_now(now.clone());
        let mut outcome = Outcome::default();
        let mut vault = Vec::new();
        let mut log = Vec::new();
        let mut seen = Vec::with_capacity(records.len());
        // Records per outcome, counted into the metrics once per call.
        let mut counts = [("blocked", 0u64), ("transformed", 0), ("transferred", 0)];
        for mut record in records {
            evaluator.evaluate(&mut record, &mut outcome);
            let transfer = outcome.decision == Decision::Transfer;
            let decision = if transfer { "transfer" } else { "block" };
            let entry = transfer_entry(set, route, leg, &record, &outcome, decision);
            let transformed = outcome
                .fields
                .iter()
                .any(|d| d.action != dss_policies::ActionKind::Pass);
            counts[match (transfer, transformed) {
                (false, _) => 0,
                (true, true) => 1,
                (true, false) => 2,
            }]
            .1 += 1;
            if transfer {
                vault.extend(seal_vault(self.rt.keys(), &mut outcome).map_err(internal)?);
            }
            seen.push(Seen {
                id: record.id.clone(),
                decision: Some(decision_of(&entry)),
                record: transfer.then_some(record),
            });
            log.push(entry);
        }
        tracing::debug!(records = seen.len(), "read across a border, logged");
        let mut tx = self.store.begin().await.map_err(internal)?;
        tx.put_vault_all(&vault).await.map_err(internal)?;
        tx.append_transfers(&self.region, &log)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        for (outcome, n) in counts {
            self.metrics.record(&route_name, outcome, n);
        }
        Ok(seen)
    }
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
