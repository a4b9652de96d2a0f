//! `PolicyService`, `PipelineService`, `AuditService` and `DsrService`.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use dss_policies::diag::Source;
use dss_policies::{Keyring, Planner};
use dss_store::ledger::{self, Filter};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::auth::{Rpc, authorize};
use super::proto::{self, audit_service_server::AuditService, dsr_service_server::DsrService};
use super::proto::{
    pipeline_service_server::PipelineService, policy_service_server::PolicyService,
};
use super::residency::{Gate, internal};
use crate::check::{Checker, Format};

pub(super) struct Policy(pub(super) Arc<Gate>);

#[tonic::async_trait]
impl PolicyService for Policy {
    async fn dry_run(
        &self,
        req: Request<proto::DryRunRequest>,
    ) -> Result<Response<proto::DryRunResponse>, Status> {
        authorize(&req, Rpc::PolicyDryRun)?;
        let q = req.into_inner();
        let source = Source {
            name: "request".into(),
            text: q.pipeline_yaml,
        };
        let bad = |d: dss_policies::Diagnostics| Status::invalid_argument(d.to_string());
        let file = dss_policies::pipeline::parse(&source).map_err(bad)?;
        let set = self.0.rt.policy();
        let pipelines = dss_policies::pipeline::validate(&source, &file, set).map_err(bad)?;
        let pipeline = match (q.pipeline.as_str(), pipelines.as_slice()) {
            ("", [one]) => one,
            ("", _) => {
                return Err(Status::invalid_argument(
                    "the file holds several pipelines: name one",
                ));
            }
            (name, all) => all
                .iter()
                .find(|p| p.name == name)
                .ok_or_else(|| Status::invalid_argument(format!("no pipeline {name:?}")))?,
        };
        let planner = Planner::new(set.clone(), pipeline.route.clone())
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        // Dry runs tokenize with a throwaway key: the service must not be an oracle for the
        // real tokens of values a caller submits.
        let keys = throwaway_keys()?;
        let scanner = dss_policies::Scanner::new();
        let mut checker = Checker::new(
            &planner,
            &keys,
            &scanner,
            &pipeline.objects,
            &pipeline.name,
            dss_core::time::now_rfc3339(),
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        checker
            .run(
                q.records_jsonl.as_bytes(),
                "request",
                Format::Json,
                &mut out,
                &mut err,
                false,
            )
            .map_err(internal)?;
        let lines = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let s = &checker.summary;
        Ok(Response::new(proto::DryRunResponse {
            results: lines(&out),
            transferred: s.transferred,
            blocked: s.blocked,
            errors: s.errors,
            problems: lines(&err),
        }))
    }
}

fn throwaway_keys() -> Result<Keyring, Status> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(internal)?;
    use base64::Engine as _;
    Keyring::from_key_file(&format!(
        "dryrun:{}\n",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
    .map_err(internal)
}

/// Pipelines of the configuration, with the status of runs started through the API.
pub(super) struct Pipelines {
    gate: Arc<Gate>,
    status: Arc<Mutex<HashMap<String, proto::PipelineStatus>>>,
}

impl Pipelines {
    pub(super) fn new(gate: Arc<Gate>) -> Self {
        Self {
            gate,
            status: Arc::default(),
        }
    }
}

#[tonic::async_trait]
impl PipelineService for Pipelines {
    async fn list(
        &self,
        req: Request<proto::ListPipelinesRequest>,
    ) -> Result<Response<proto::ListPipelinesResponse>, Status> {
        authorize(&req, Rpc::PipelineList)?;
        let pipelines = self
            .gate
            .rt
            .config()
            .pipelines
            .iter()
            .map(|p| proto::PipelineInfo {
                name: p.name.clone(),
                from_region: p.route.from.to_string(),
                to_region: p.route.to.to_string(),
                objects: p.objects.iter().map(ToString::to_string).collect(),
                source_connector: p.source.name().to_owned(),
                destination_connector: p.destination.name().to_owned(),
            })
            .collect();
        Ok(Response::new(proto::ListPipelinesResponse { pipelines }))
    }

    async fn validate(
        &self,
        req: Request<proto::ValidateRequest>,
    ) -> Result<Response<proto::ValidateResponse>, Status> {
        authorize(&req, Rpc::PipelineValidate)?;
        let text = req.into_inner().config_yaml;
        let path = &self.gate.rt.config().path;
        let problems = match dss_pipelines::Config::from_text(path, text) {
            Ok(_) => Vec::new(),
            Err(e) => e.to_string().lines().map(str::to_owned).collect(),
        };
        Ok(Response::new(proto::ValidateResponse {
            valid: problems.is_empty(),
            problems,
        }))
    }

    async fn run(
        &self,
        req: Request<proto::RunRequest>,
    ) -> Result<Response<proto::PipelineStatus>, Status> {
        authorize(&req, Rpc::PipelineRun)?;
        let name = req.into_inner().pipeline;
        let rt = self.gate.rt.clone();
        let p = rt
            .config()
            .pipelines
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("no pipeline {name:?}")))?;
        let running = proto::PipelineStatus {
            pipeline: name.clone(),
            state: "running".into(),
            ..Default::default()
        };
        {
            let mut all = self.status.lock().expect("status lock");
            if all.get(&name).is_some_and(|s| s.state == "running") {
                return Err(Status::already_exists(format!("{name} is running")));
            }
            all.insert(name, running.clone());
        }
        let status = self.status.clone();
        tokio::spawn(async move {
            let progress_status = status.clone();
            let update = move |s: &dss_pipelines::RouteSummary, state: &str, error: String| {
                progress_status.lock().expect("status lock").insert(
                    s.pipeline.clone(),
                    proto::PipelineStatus {
                        pipeline: s.pipeline.clone(),
                        state: state.into(),
                        read: s.read,
                        sent: s.sent,
                        blocked: s.blocked,
                        dead_letters: s.dead_letters,
                        last_error: error,
                    },
                );
            };
            let result = rt
                .run_pipeline_retrying(&p, |s| update(s, "running", String::new()), |_, _, _| {})
                .await;
            match result {
                Ok(s) => update(&s, "done", String::new()),
                Err(e) => {
                    let mut all = status.lock().expect("status lock");
                    let s = all.entry(p.name.clone()).or_default();
                    s.state = "failed".into();
                    s.last_error = e.to_string();
                }
            }
        });
        Ok(Response::new(running))
    }

    async fn status(
        &self,
        req: Request<proto::StatusRequest>,
    ) -> Result<Response<proto::PipelineStatus>, Status> {
        authorize(&req, Rpc::PipelineStatus)?;
        let name = req.into_inner().pipeline;
        if !self
            .gate
            .rt
            .config()
            .pipelines
            .iter()
            .any(|p| p.name == name)
        {
            return Err(Status::not_found(format!("no pipeline {name:?}")));
        }
        let status = self.status.lock().expect("status lock").get(&name).cloned();
        Ok(Response::new(status.unwrap_or(proto::PipelineStatus {
            pipeline: name,
            state: "idle".into(),
            ..Default::default()
        })))
    }
}

pub(super) struct Audit(pub(super) Arc<Gate>);

fn filter_of(q: &proto::AuditQuery) -> Filter {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Filter {
        since: opt(&q.since),
        until: opt(&q.until),
        pipeline: opt(&q.pipeline),
        dest_region: opt(&q.dest_region),
        object: opt(&q.object),
        subject: opt(&q.subject),
        decision: opt(&q.decision),
    }
}

fn entry_proto(e: &ledger::Entry) -> proto::AuditEntry {
    proto::AuditEntry {
        seq: e.seq,
        json: serde_json::to_string(&e.transfer).expect("entries serialize"),
        hash: e.hash.clone(),
    }
}

#[tonic::async_trait]
impl AuditService for Audit {
    async fn query(
        &self,
        req: Request<proto::AuditQuery>,
    ) -> Result<Response<proto::AuditEntries>, Status> {
        authorize(&req, Rpc::AuditQuery)?;
        let q = req.into_inner();
        let limit = if q.limit == 0 {
            1_000
        } else {
            q.limit.min(10_000)
        };
        let entries = self
            .0
            .store
            .query_transfers(&self.0.region, &filter_of(&q), 0, i64::from(limit))
            .await
            .map_err(internal)?;
        Ok(Response::new(proto::AuditEntries {
            entries: entries.iter().map(entry_proto).collect(),
        }))
    }

    async fn verify(
        &self,
        req: Request<proto::VerifyRequest>,
    ) -> Result<Response<proto::VerifyResponse>, Status> {
        authorize(&req, Rpc::AuditVerify)?;
        let v = ledger::verify(&self.0.store, &self.0.region)
            .await
            .map_err(internal)?;
        Ok(Response::new(proto::VerifyResponse {
            entries: v.entries,
            ok: v.tampering.is_none(),
            bad_seq: v.tampering.as_ref().map_or(0, |t| t.seq),
            problem: v.tampering.map(|t| t.what).unwrap_or_default(),
        }))
    }

    type ExportStream = Pin<Box<dyn Stream<Item = Result<proto::AuditEntry, Status>> + Send>>;

    async fn export(
        &self,
        req: Request<proto::AuditQuery>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        authorize(&req, Rpc::AuditExport)?;
        let filter = filter_of(req.get_ref());
        let gate = self.0.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(1_000);
        tokio::spawn(async move {
            let mut after = 0;
            loop {
                let page = match gate
                    .store
                    .query_transfers(&gate.region, &filter, after, 1_000)
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Err(internal(e))).await;
                        return;
                    }
                };
                let Some(last) = page.last().map(|e| e.seq) else {
                    return;
                };
                for e in &page {
                    if tx.send(Ok(entry_proto(e))).await.is_err() {
                        return;
                    }
                }
                after = last;
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn report(
        &self,
        req: Request<proto::ReportRequest>,
    ) -> Result<Response<proto::ReportResponse>, Status> {
        authorize(&req, Rpc::AuditReport)?;
        let q = req.into_inner();
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let (since, until) = (opt(&q.since), opt(&q.until));
        let (routes, subjects) =
            crate::ops::report_data(&self.0.rt, since.as_deref(), until.as_deref())
                .await
                .map_err(internal)?;
        let json = crate::ops::report_json(since.as_deref(), until.as_deref(), &routes, &subjects);
        Ok(Response::new(proto::ReportResponse {
            json: json.to_string(),
        }))
    }
}

pub(super) struct Dsr(pub(super) Arc<Gate>);

#[tonic::async_trait]
impl DsrService for Dsr {
    async fn access(
        &self,
        req: Request<proto::SubjectRequest>,
    ) -> Result<Response<proto::AccessResponse>, Status> {
        authorize(&req, Rpc::DsrAccess)?;
        let subject = req.into_inner().subject;
        let (token, records, transfers) = crate::ops::subject_access(&self.0.rt, &subject)
            .await
            .map_err(internal)?;
        Ok(Response::new(proto::AccessResponse {
            json: crate::ops::access_json(&token, &records, &transfers).to_string(),
        }))
    }

    async fn erase(
        &self,
        req: Request<proto::SubjectRequest>,
    ) -> Result<Response<proto::EraseResponse>, Status> {
        authorize(&req, Rpc::DsrErase)?;
        let subject = req.into_inner().subject;
        let (_, deleted, shredded, sent) = crate::ops::erase_subject(&self.0.rt, &subject)
            .await
            .map_err(internal)?;
        Ok(Response::new(proto::EraseResponse {
            records_deleted: deleted,
            vault_entries_shredded: shredded,
            deletes_sent: sent,
        }))
    }
}
