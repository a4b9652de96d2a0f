//! Sources and sinks of the connectors `dss run` provides: `crm` (a tenant of the CRM domain
//! store) and `file` (JSON Lines or CSV, [`crate::file`]).

use dss_core::{ObjectKind, Record};
use dss_policies::pipeline::{Connector, Pipeline};
use dss_store::outbox::OutboxRow;
use dss_store::records::RecordRow;
use dss_store::{Store, StoreError};

use crate::file::{Defaults, FileSink, FileSource};
use crate::runtime::RunError;

/// One change read from a source.
pub(crate) struct Change {
    /// Its position in the source (the checkpoint moves to it).
    pub(crate) seq: i64,
    /// Object kind, when the source knows it before the body is read.
    pub(crate) object: Option<String>,
    /// The version changed to (deletions carry it; upserts use the record's own).
    pub(crate) version: i64,
    /// A deletion.
    pub(crate) delete: bool,
    /// Nothing to do: superseded by a later change, or a blank line.
    pub(crate) skip: bool,
    /// The record's canonical JSON, or why it cannot be read.
    pub(crate) body: Result<String, String>,
    /// Where it was read, for dead letters (`orders.csv:12`).
    pub(crate) at: Option<String>,
}

/// Where a pipeline reads.
pub(crate) enum Source<'a> {
    Crm {
        store: &'a Store,
        tenant: &'a str,
        region: &'a str,
    },
    File {
        source: FileSource,
        path: String,
    },
}

impl<'a> Source<'a> {
    pub(crate) fn new(p: &'a Pipeline, origin: &'a Store) -> Result<Self, RunError> {
        match &p.source {
            Connector::Crm => Ok(Source::Crm {
                store: origin,
                tenant: &p.source_tenant,
                region: p.route.from.as_str(),
            }),
            Connector::File { path, format, .. } => Ok(Source::File {
                source: FileSource::new(
                    path,
                    *format,
                    Defaults {
                        tenant: p.source_tenant.clone(),
                        region: p.route.from.to_string(),
                        object: match p.objects.as_slice() {
                            [one] => Some(one.clone()),
                            _ => None,
                        },
                    },
                    p.schedule != dss_policies::pipeline::Schedule::Once,
                ),
                path: path.clone(),
            }),
            Connector::Other(name) => Err(RunError::Connector(format!(
                "{}: connector {name:?} is not available in `dss run` yet",
                p.name
            ))),
        }
    }

    /// Up to `max` changes after position `after`. File reads are buffered and short (one
    /// batch), so they run on the calling task.
    pub(crate) async fn read(&mut self, after: i64, max: i64) -> Result<Vec<Change>, RunError> {
        match self {
            Source::Crm {
                store,
                tenant,
                region,
            } => {
                let changes = store
                    .changes_with_records(tenant, after, max)
                    .await
                    .map_err(|error| RunError::Store {
                        region: (*region).to_owned(),
                        error,
                    })?;
                Ok(changes
                    .into_iter()
                    .map(|c| Change {
                        seq: c.change.seq,
                        skip: c.change.version < c.current_version || c.body.is_none(),
                        object: Some(c.change.object),
                        version: c.change.version,
                        delete: c.change.op == "delete",
                        body: Ok(c.body.unwrap_or_default()),
                        at: None,
                    })
                    .collect())
            }
            Source::File { source, path } => {
                let lines = source
                    .read(after, usize::try_from(max).unwrap_or(usize::MAX))
                    .map_err(RunError::Connector)?;
                let name = std::path::Path::new(path.as_str())
                    .file_name()
                    .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
                Ok(lines
                    .into_iter()
                    .map(|l| Change {
                        seq: l.number,
                        object: None,
                        version: 0,
                        delete: false,
                        skip: l.body.as_ref().is_ok_and(String::is_empty),
                        body: l.body,
                        at: Some(format!("{name}:{}", l.number)),
                    })
                    .collect())
            }
        }
    }

    /// Whether the source wants object kind `object` checked against the pipeline's before the
    /// body is parsed.
    pub(crate) fn wanted(p: &Pipeline, object: &str) -> bool {
        ObjectKind::parse(object).is_some_and(|k| p.objects.contains(&k))
    }
}

/// Where a pipeline delivers.
pub(crate) enum Sink {
    Crm(Store),
    File(FileSink),
}

impl Sink {
    pub(crate) fn new(
        p: &Pipeline,
        store: impl FnOnce() -> Result<Store, RunError>,
    ) -> Result<Self, RunError> {
        match &p.destination {
            Connector::Crm => Ok(Sink::Crm(store()?)),
            Connector::File {
                path,
                format,
                columns,
            } => Ok(Sink::File(FileSink::new(path, *format, columns.clone()))),
            Connector::Other(name) => Err(RunError::Connector(format!(
                "{}: connector {name:?} is not available in `dss run` yet",
                p.name
            ))),
        }
    }

    /// Writes outbox rows (in order) to the destination: upserts idempotent by (tenant,
    /// object, id, version) in a store, exactly-once lines in a file.
    pub(crate) async fn write(&self, rows: &[OutboxRow]) -> Result<(), SinkError> {
        match self {
            Sink::Crm(dest) => {
                let mut tx = dest.begin().await?;
                // Upserts go in batches; a delete first flushes the upserts before it, so the
                // destination sees the origin's order. Bodies are written as they came: the
                // record crossed as this JSON, and only its subject's key is read from it.
                let mut upserts: Vec<RecordRow<'_>> = Vec::new();
                let subjects: Vec<Option<String>> = rows
                    .iter()
                    .map(|row| {
                        (row.op != "delete")
                            .then(|| Record::subject_id_in_json(&row.body))
                            .flatten()
                    })
                    .collect();
                for (row, subject) in rows.iter().zip(&subjects) {
                    if row.op == "delete" {
                        tx.upsert_rows(&upserts).await?;
                        upserts.clear();
                        tx.delete_record(&row.tenant, &row.object, &row.id, row.version)
                            .await?;
                    } else {
                        upserts.push(RecordRow {
                            tenant: &row.tenant,
                            object: &row.object,
                            id: &row.id,
                            version: row.version,
                            subject: subject.as_deref(),
                            body: &row.body,
                        });
                    }
                }
                tx.upsert_rows(&upserts).await?;
                tx.commit().await?;
                Ok(())
            }
            Sink::File(file) => file.write(rows).map(drop).map_err(SinkError::File),
        }
    }
}

/// Why a sink failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SinkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    File(String),
}
