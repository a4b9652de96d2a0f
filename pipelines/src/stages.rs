//! What happens to a pipeline's batch after the policy decided it, as two stages that run
//! beside the loop that reads and decides the next batch (so the three use both cores):
//!
//! - the **committer** writes the batch to the origin region's store in one transaction —
//!   vault entries, outbox rows, transfer-log entries, dead letters and the source
//!   checkpoint — and hands the outbox rows to the courier (a batch already waiting joins
//!   the transaction, see [`next_transaction`]);
//! - the **courier** delivers them to the sink (idempotent upserts, exactly-once file lines)
//!   and tells the committer how far it got; the committer's next transaction moves the
//!   origin's published cursor there and deletes the delivered rows (the last batch's, when
//!   the run ends). Rows delivered but not yet retired when the process dies are delivered
//!   again on the next run, which the sink's idempotence absorbs.
//!
//! Both stages run on threads of their own ([`spawn_stage`]). The channels hold two batches
//! and one, so memory holds at most a few batches however large the backlog. Batches keep
//! their order through both. A batch counts as done once committed: if delivering it fails,
//! it stays pending in the outbox and the next run (or retry) delivers it first.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dss_core::vault::VaultEntry;
use dss_policies::pipeline::Pipeline;
use dss_store::dead_letters::DeadLetter;
use dss_store::ledger::Entries;
use dss_store::outbox::OutboxRow;
use dss_store::{Store, StoreError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::connectors::{Sink, SinkError};
use crate::runtime::RouteSummary;

/// A decided batch, ready to commit.
pub(crate) struct Batch {
    pub(crate) vault: Vec<VaultEntry>,
    pub(crate) rows: Vec<OutboxRow>,
    /// Its transfer-log entries, prepared by the loop that decides rather than by the
    /// committer (one set per batch joined, in order).
    pub(crate) transfers: Vec<Entries<'static>>,
    /// Records that could not be read, with what was read.
    pub(crate) dead: Vec<(DeadLetter, Option<String>)>,
    /// The source position the batch ends at.
    pub(crate) last: i64,
    /// What the batch counts for in the summary (without deliveries).
    pub(crate) counts: RouteSummary,
}

impl Batch {
    /// Adds the batch decided after this one.
    fn append(&mut self, next: Batch) {
        self.vault.extend(next.vault);
        self.rows.extend(next.rows);
        self.transfers.extend(next.transfers);
        self.dead.extend(next.dead);
        self.last = next.last;
        self.counts.add(&next.counts);
    }
}

/// Why a stage stopped.
#[derive(Debug)]
pub(crate) enum StageError {
    /// The origin's store failed.
    Origin(StoreError),
    /// The destination failed.
    Sink(SinkError),
}

/// The running committer and courier of one pipeline run.
pub(crate) struct Stages {
    committer: JoinHandle<Result<(), StageError>>,
    courier: JoinHandle<Result<(), StageError>>,
    committed: Arc<Mutex<RouteSummary>>,
    delivered: Arc<AtomicU64>,
    /// The last outbox `seq` the courier delivered (0: none yet).
    published: Arc<AtomicI64>,
    origin: Store,
    destination: String,
}

impl Stages {
    /// Starts both stages; batches go into the returned sender.
    pub(crate) fn start(
        p: &Pipeline,
        origin: &Store,
        sink: &Arc<Sink>,
        checkpoint: String,
    ) -> (Self, mpsc::Sender<Batch>) {
        let (batches, mut inbox) = batch_channel();
        let (to_courier, mut parcels) = mpsc::channel::<Batch>(1);
        let committed = Arc::new(Mutex::new(RouteSummary::default()));
        let delivered = Arc::new(AtomicU64::new(0));
        let published = Arc::new(AtomicI64::new(0));

        let (store, region, counts) = (origin.clone(), p.route.from.to_string(), committed.clone());
        let (destination, upto) = (p.name.clone(), published.clone());
        let committer = spawn_stage(async move {
            while let Some(mut b) = next_transaction(&mut inbox).await {
                let mut tx = store.begin().await.map_err(StageError::Origin)?;
                let first_seq = async {
                    tx.put_vault_all(&b.vault).await?;
                    let first_seq = tx.enqueue_all(&b.rows).await?;
                    for entries in &b.transfers {
                        tx.append_entries(&region, entries).await?;
                    }
                    for (d, payload) in &b.dead {
                        tx.dead_letter(d, payload.as_deref()).await?;
                    }
                    tx.set_checkpoint(&checkpoint, &b.last.to_string()).await?;
                    let delivered = upto.load(Ordering::Acquire);
                    if delivered > 0 {
                        tx.mark_published(&destination, delivered).await?;
                    }
                    tx.commit().await?;
                    Ok(first_seq)
                }
                .await
                .map_err(StageError::Origin)?;
                counts.lock().expect("summary").add(&b.counts);
                if b.rows.is_empty() {
                    continue;
                }
                for (i, row) in b.rows.iter_mut().enumerate() {
                    row.seq = first_seq + i as i64;
                }
                // The whole batch goes: the courier frees what the committer no longer needs
                // (the log and vault entries), off the committer's thread.
                if to_courier.send(b).await.is_err() {
                    // The courier stopped on an error, reported by `finish`.
                    break;
                }
            }
            Ok(())
        });

        let (sink, count, upto) = (sink.clone(), delivered.clone(), published.clone());
        let courier = spawn_stage(async move {
            while let Some(batch) = parcels.recv().await {
                let rows = &batch.rows;
                let Some(last) = rows.last().map(|r| r.seq) else {
                    continue;
                };
                sink.write(rows).await.map_err(StageError::Sink)?;
                upto.store(last, Ordering::Release);
                count.fetch_add(rows.len() as u64, Ordering::Relaxed);
            }
            Ok(())
        });
        let stages = Self {
            committer,
            courier,
            committed,
            delivered,
            published,
            origin: origin.clone(),
            destination: p.name.clone(),
        };
        (stages, batches)
    }

    /// What the stages have done so far: the counts of the batches committed and the rows
    /// delivered.
    pub(crate) fn done(&self) -> RouteSummary {
        done(&self.committed, &self.delivered)
    }

    /// Waits until every batch sent is committed and delivered (the sender must be dropped
    /// first), or a stage failed, and retires what was delivered since the last commit;
    /// returns what was done and the first failure.
    pub(crate) async fn finish(self) -> (RouteSummary, Result<(), StageError>) {
        let committer = join(self.committer).await;
        let courier = join(self.courier).await;
        let delivered = self.published.load(Ordering::Acquire);
        let retired = if delivered > 0 {
            self.origin
                .mark_published(&self.destination, delivered)
                .await
                .map_err(StageError::Origin)
        } else {
            Ok(())
        };
        (
            done(&self.committed, &self.delivered),
            committer.and(courier).and(retired),
        )
    }
}

/// The channel from the loop that decides to the committer. Two decided batches may wait,
/// so that the committer finds one to join the batch it takes ([`next_transaction`]): with
/// room for one, the loop was always a batch behind and no two were ever committed together.
/// Three did no better than two (docs/benchmarks.md).
fn batch_channel() -> (mpsc::Sender<Batch>, mpsc::Receiver<Batch>) {
    mpsc::channel(2)
}

/// What the committer writes in its next transaction: the next batch, joined by the one
/// after it if that is already waiting. When the origin's writes are what holds the pipeline
/// back, each of their random-key index pages (vault tokens, head-counts) and each disk sync
/// then serves twice the records. Never more than two, so a run does not end on a long
/// transaction.
async fn next_transaction(inbox: &mut mpsc::Receiver<Batch>) -> Option<Batch> {
    let mut b = inbox.recv().await?;
    if let Ok(next) = inbox.try_recv() {
        b.append(next);
    }
    Some(b)
}

/// Runs a stage on a thread of its own (tokio's blocking pool), driving its future there.
/// A stage spends most of its time in SQLite, which runs on the calling thread: as a task it
/// held a runtime worker meanwhile, and a task it woke waited in that worker's LIFO slot
/// (which the other worker cannot steal from) until it yielded — the first batch waited
/// 19 ms to be committed after it was decided, with a worker idle. On threads of their own,
/// the operating system shares both cores between the stages and the loop that decides.
fn spawn_stage<F>(stage: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(stage))
}

fn done(committed: &Mutex<RouteSummary>, delivered: &AtomicU64) -> RouteSummary {
    let mut s = committed.lock().expect("summary").clone();
    s.delivered = delivered.load(Ordering::Relaxed);
    s
}

async fn join(task: JoinHandle<Result<(), StageError>>) -> Result<(), StageError> {
    match task.await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StageError::Sink(SinkError::File(format!(
            "the pipeline's stage was cancelled: {e}"
        )))),
    }
}

#[cfg(test)]
mod tests {
    use dss_core::vault::{SealedValue, VaultEntry};

    use super::*;

    fn batch(n: i64) -> Batch {
        let transfer: dss_store::ledger::Transfer = serde_json::from_value(serde_json::json!({
            "timestamp": "2026-12-03T17:00:00Z", "pipeline": "p", "run_id": "r",
            "origin_region": "eu", "origin_jurisdiction": "DE", "dest_region": "cn",
            "dest_jurisdiction": "CN", "object": "contact", "record_id": format!("c{n}"),
            "subject": null, "decision": "transfer", "fields": [], "reasons": [],
            "legal_basis": null, "conditions": [], "policy_version": "v",
        }))
        .unwrap();
        Batch {
            vault: vec![VaultEntry {
                token: format!("tok{n}"),
                subject: None,
                sealed: SealedValue {
                    key_id: "k".into(),
                    nonce: [0; 12],
                    ciphertext: vec![],
                },
            }],
            rows: vec![OutboxRow {
                seq: 0,
                destination: "p".into(),
                pipeline: "p".into(),
                tenant: "t".into(),
                object: "contact".into(),
                id: format!("c{n}"),
                version: 1,
                op: "upsert".into(),
                body: "{}".into(),
            }],
            transfers: vec![Entries::new(vec![transfer])],
            dead: vec![(
                DeadLetter {
                    seq: 0,
                    timestamp: String::new(),
                    pipeline: "p".into(),
                    stage: "read".into(),
                    object: None,
                    record_id: None,
                    reason: format!("bad {n}"),
                },
                None,
            )],
            last: n * 10,
            counts: RouteSummary {
                read: 1,
                sent: 1,
                ..RouteSummary::default()
            },
        }
    }

    #[tokio::test]
    async fn the_committer_takes_a_waiting_batch_into_the_same_transaction() {
        let (batches, mut inbox) = batch_channel();
        for n in 1..=2 {
            batches
                .try_send(batch(n))
                .unwrap_or_else(|_| panic!("no room for batch {n} to wait"));
        }
        let first = next_transaction(&mut inbox).await.unwrap();
        assert_eq!((first.rows.len(), first.last), (2, 20));
        batches.try_send(batch(3)).unwrap();
        drop(batches);
        let second = next_transaction(&mut inbox).await.unwrap();
        assert_eq!(
            (second.rows.len(), second.last),
            (1, 30),
            "alone when none waits"
        );
        assert!(next_transaction(&mut inbox).await.is_none());
    }

    #[test]
    fn a_batch_that_joins_another_keeps_all_of_both_in_order() {
        let mut b = batch(1);
        b.append(batch(2));
        assert_eq!(
            b.vault.iter().map(|v| v.token.as_str()).collect::<Vec<_>>(),
            ["tok1", "tok2"]
        );
        assert_eq!(
            b.rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["c1", "c2"]
        );
        assert_eq!(
            b.transfers
                .iter()
                .flat_map(|e| e.transfers())
                .map(|t| t.record_id.as_str())
                .collect::<Vec<_>>(),
            ["c1", "c2"]
        );
        assert_eq!(
            b.dead
                .iter()
                .map(|(d, _)| d.reason.as_str())
                .collect::<Vec<_>>(),
            ["bad 1", "bad 2"]
        );
        assert_eq!(b.last, 20, "the source checkpoint is where the second ends");
        assert_eq!((b.counts.read, b.counts.sent), (2, 2));
    }
}
