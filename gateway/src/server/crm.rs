//! `CrmService`: the CRM domain of a region, residency-aware.

use std::pin::Pin;
use std::sync::Arc;

use dss_core::Record;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::auth::{Rpc, authorize, tenant_allowed};
use super::proto::{self, crm_service_server::CrmService};
use super::residency::{Deletion, Gate, Seen, decision_of, internal, record_proto};

/// Largest page of `List`.
const MAX_PAGE: u32 = 1_000;

pub(super) struct Crm(pub(super) Arc<Gate>);

fn seen_proto(s: Seen) -> proto::RecordResponse {
    proto::RecordResponse {
        record: s.record.as_ref().map(record_proto),
        decision: s.decision.map(Arc::unwrap_or_clone),
        decision_index: 0,
    }
}

/// How many of a page's latest distinct decisions a new one is compared with: a page whose
/// records all decide differently lists a decision twice now and then rather than comparing
/// each with every other.
const DECISIONS_SEARCHED: usize = 16;

/// The index of `d` among a List page's `decisions`, added if not among the latest.
fn decision_index(decisions: &mut Vec<Arc<proto::Decision>>, d: Arc<proto::Decision>) -> u32 {
    let from = decisions.len().saturating_sub(DECISIONS_SEARCHED);
    let same = |known: &Arc<proto::Decision>| Arc::ptr_eq(known, &d) || **known == *d;
    let index = match decisions[from..].iter().rposition(same) {
        Some(i) => from + i,
        None => {
            decisions.push(d);
            decisions.len() - 1
        }
    };
    u32::try_from(index).expect("a page holds at most MAX_PAGE items")
}

fn reference(r: Option<proto::RecordRef>) -> Result<proto::RecordRef, Status> {
    r.ok_or_else(|| Status::invalid_argument("`ref` is required"))
}

#[tonic::async_trait]
impl CrmService for Crm {
    #[tracing::instrument(name = "crm.get", skip_all, fields(caller, tenant, route))]
    async fn get(
        &self,
        req: Request<proto::GetRequest>,
    ) -> Result<Response<proto::RecordResponse>, Status> {
        let caller = authorize(&req, Rpc::CrmGet)?;
        let r = reference(req.into_inner().r#ref)?;
        self.0.trace(&caller, &r.tenant);
        tenant_allowed(&caller, &r.tenant)?;
        self.0.local_tenant(&r.tenant)?;
        let stored = self
            .0
            .store
            .record(&r.tenant, &r.object, &r.id)
            .await
            .map_err(internal)?
            .filter(|s| !s.deleted)
            .ok_or_else(|| Status::not_found("no such record"))?;
        let seen = self.0.read(&caller, vec![stored.record]).await?;
        Ok(Response::new(seen_proto(
            seen.into_iter().next().expect("one record in, one out"),
        )))
    }

    #[tracing::instrument(name = "crm.list", skip_all, fields(caller, tenant, route))]
    async fn list(
        &self,
        req: Request<proto::ListRequest>,
    ) -> Result<Response<proto::ListResponse>, Status> {
        let caller = authorize(&req, Rpc::CrmList)?;
        let q = req.into_inner();
        self.0.trace(&caller, &q.tenant);
        tenant_allowed(&caller, &q.tenant)?;
        self.0.local_tenant(&q.tenant)?;
        let size = match q.page_size {
            0 => 100,
            n => n.min(MAX_PAGE),
        };
        // The cursor is the change-feed position of the last record of the page: it names no
        // record, so nothing personal travels in it.
        let after: i64 = if q.cursor.is_empty() {
            0
        } else {
            q.cursor
                .parse()
                .map_err(|_| Status::invalid_argument("invalid cursor"))?
        };
        let page = self
            .0
            .store
            .list_records(&q.tenant, &q.object, after, i64::from(size))
            .await
            .map_err(internal)?;
        let next_cursor = match page.last() {
            Some(last) if page.len() == size as usize => last.feed_seq.to_string(),
            _ => String::new(),
        };
        let answers = self
            .0
            .read_each(&caller, page, |mut seen| {
                // Filters see what the caller sees: a transformed value matches only as
                // transformed, so a filter cannot probe a masked one.
                let kept = q.filters.iter().all(|f| {
                    seen.record.as_ref().is_some_and(|r| {
                        field_text(r, &f.path).as_deref() == Some(f.equals.as_str())
                    })
                });
                kept.then(|| {
                    let decision = seen.decision.take();
                    (seen_proto(seen), decision)
                })
            })
            .await?;
        let mut decisions = Vec::new();
        let items = answers
            .into_iter()
            .map(|(mut item, decision)| {
                if let Some(d) = decision {
                    item.decision_index = decision_index(&mut decisions, d);
                }
                item
            })
            .collect();
        Ok(Response::new(proto::ListResponse {
            items,
            next_cursor,
            decisions: decisions.into_iter().map(Arc::unwrap_or_clone).collect(),
        }))
    }

    #[tracing::instrument(name = "crm.upsert", skip_all, fields(caller, tenant, route))]
    async fn upsert(
        &self,
        req: Request<proto::UpsertRequest>,
    ) -> Result<Response<proto::UpsertResponse>, Status> {
        let caller = authorize(&req, Rpc::CrmUpsert)?;
        let q = req.into_inner();
        let mut record = Record::from_json(q.json.as_bytes())
            .map_err(|e| Status::invalid_argument(format!("record: {e}")))?;
        self.0.trace(&caller, &record.tenant);
        tenant_allowed(&caller, &record.tenant)?;
        self.0.local_tenant(&record.tenant)?;
        let gate = &self.0;
        // A write from another jurisdiction is a transfer into this one: allowed only as far
        // as the policy of that direction allows, stored as it crossed, and logged here.
        let entry = if gate.crosses(&caller) {
            let entry = gate.inbound(&caller, &mut record)?;
            if entry.decision == "block" {
                let mut tx = gate.store.begin().await.map_err(internal)?;
                tx.append_transfers(&gate.region, std::slice::from_ref(&entry))
                    .await
                    .map_err(internal)?;
                tx.commit().await.map_err(internal)?;
                return Err(Status::failed_precondition(format!(
                    "the policy does not let this record into {}: {}",
                    gate.region,
                    entry.reasons.join("; ")
                )));
            }
            Some(entry)
        } else {
            None
        };
        record.region = dss_core::RegionId::new(&gate.region).expect("configured region");
        let current = gate
            .store
            .record(&record.tenant, record.object.as_str(), &record.id)
            .await
            .map_err(internal)?
            .map_or(0, |s| s.record.version);
        if current != q.expected_version {
            return Err(Status::aborted(format!(
                "version conflict: the stored version is {current}, not {}",
                q.expected_version
            )));
        }
        record.version = q.expected_version + 1;
        let subject = record.subject.as_ref().and_then(|s| s.id.clone());
        let mut tx = gate.store.begin().await.map_err(internal)?;
        let written = tx
            .upsert_records(&[(record.clone(), subject)])
            .await
            .map_err(internal)?;
        if let Some(entry) = &entry
            && written > 0
        {
            tx.append_transfers(&gate.region, std::slice::from_ref(entry))
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        if written == 0 {
            return Err(Status::aborted(
                "version conflict: the record changed meanwhile",
            ));
        }
        gate.changed.send_modify(|n| *n += 1);
        Ok(Response::new(proto::UpsertResponse {
            version: record.version,
            decision: entry.as_ref().map(decision_of),
        }))
    }

    #[tracing::instrument(name = "crm.delete", skip_all, fields(caller, tenant, route))]
    async fn delete(
        &self,
        req: Request<proto::DeleteRequest>,
    ) -> Result<Response<proto::DeleteResponse>, Status> {
        let caller = authorize(&req, Rpc::CrmDelete)?;
        let q = req.into_inner();
        let r = reference(q.r#ref)?;
        self.0.trace(&caller, &r.tenant);
        tenant_allowed(&caller, &r.tenant)?;
        self.0.local_tenant(&r.tenant)?;
        let gate = &self.0;
        let current = gate
            .store
            .record(&r.tenant, &r.object, &r.id)
            .await
            .map_err(internal)?
            .filter(|s| !s.deleted)
            .ok_or_else(|| Status::not_found("no such record"))?
            .record
            .version;
        if current != q.expected_version {
            return Err(Status::aborted(format!(
                "version conflict: the stored version is {current}, not {}",
                q.expected_version
            )));
        }
        let version = current + 1;
        let mut tx = gate.store.begin().await.map_err(internal)?;
        let done = tx
            .delete_record(&r.tenant, &r.object, &r.id, version as i64)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        if !done {
            return Err(Status::aborted(
                "version conflict: the record changed meanwhile",
            ));
        }
        gate.changed.send_modify(|n| *n += 1);
        Ok(Response::new(proto::DeleteResponse { version }))
    }

    type WatchStream = Pin<Box<dyn Stream<Item = Result<proto::Change, Status>> + Send>>;

    #[tracing::instrument(name = "crm.watch", skip_all, fields(caller, tenant, route))]
    async fn watch(
        &self,
        req: Request<proto::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let caller = authorize(&req, Rpc::CrmWatch)?;
        let q = req.into_inner();
        self.0.trace(&caller, &q.tenant);
        tenant_allowed(&caller, &q.tenant)?;
        self.0.local_tenant(&q.tenant)?;
        let gate = self.0.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        tokio::spawn(async move {
            let mut after = q.after_seq;
            let mut changed = gate.changed.subscribe();
            let mut stop = gate.stop.clone();
            // The stream ends when the gateway stops, so that shutdown can drain.
            while !*stop.borrow() {
                let changes = match gate.store.changes(&q.tenant, after, 500).await {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(internal(e))).await;
                        return;
                    }
                };
                if changes.is_empty() {
                    // New changes come from this gateway (woken at once) or from pipelines
                    // and other writers (seen at the next poll).
                    tokio::select! {
                        _ = changed.changed() => {}
                        _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                        _ = tx.closed() => return,
                        _ = stop.changed() => return,
                    }
                    continue;
                }
                for c in changes {
                    after = c.seq;
                    if !q.objects.is_empty() && !q.objects.contains(&c.object) {
                        continue;
                    }
                    let change = match watch_change(&gate, &caller, &q.tenant, c).await {
                        Ok(Some(change)) => Ok(change),
                        Ok(None) => continue,
                        Err(e) => Err(e),
                    };
                    let failed = change.is_err();
                    if tx.send(change).await.is_err() || failed {
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

/// A change as the caller may see it: the record through the route's plan; a deletion with
/// the id as it crossed.
async fn watch_change(
    gate: &Gate,
    caller: &dss_pipelines::gateway_config::Caller,
    tenant: &str,
    c: dss_store::records::Change,
) -> Result<Option<proto::Change>, Status> {
    let Some(stored) = gate
        .store
        .record(tenant, &c.object, &c.id)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    let deleting = c.op == "delete";
    let seen = if deleting {
        gate.read_each(caller, vec![Deletion(stored.record)], Some)
            .await?
    } else {
        gate.read(caller, vec![stored.record]).await?
    }
    .into_iter()
    .next()
    .expect("one record in, one out");
    Ok(Some(proto::Change {
        seq: c.seq,
        op: c.op,
        object: c.object,
        id: seen.id,
        version: c.version as u64,
        record: if deleting {
            None
        } else {
            seen.record.as_ref().map(record_proto)
        },
        decision: seen.decision.map(Arc::unwrap_or_clone),
    }))
}

/// The text of a field (dotted path) of a record: scalars as text.
fn field_text(r: &Record, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let mut value = r.fields.get(parts.next()?);
    for part in parts {
        value = match value {
            Some(dss_core::Value::Object(m)) => m.get(part),
            _ => None,
        };
    }
    value?.scalar_text().map(|t| t.into_owned())
}
