//! `dss run` and `dss audit …`: commands that read or change a deployment's state, all taking
//! the same `--config FILE`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow, bail};
use dss_pipelines::{Config, RouteSummary, Runtime};
use dss_store::ledger::{self, Entry, Filter};

use crate::files::ConfigError;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn load(config: &Path) -> anyhow::Result<Config> {
    Config::load(config).map_err(|e| anyhow!(ConfigError(e.to_string())))
}

/// `dss run --config FILE`: seed empty demo tenants, run every pipeline (all at once, each on
/// its schedule) until they are done or Ctrl-C, print a summary per route.
pub fn run(config: &Path, only: Option<&str>) -> anyhow::Result<u8> {
    let config = load(config)?;
    let path = config.path.clone();
    runtime()?.block_on(async move {
        let rt = Arc::new(Runtime::open(config).await?);
        let mut err = std::io::stderr();
        let tty = err.is_terminal();
        for (tenant, n) in rt.seed().await? {
            writeln!(err, "seeded {tenant}: {n} records")?;
        }
        let pipelines: Vec<_> = rt.config().pipelines.iter().filter(|p| only.is_none_or(|o| o == p.name)).cloned().collect();
        if pipelines.is_empty() {
            bail!("no pipeline to run{}", only.map(|o| format!(" named {o:?}")).unwrap_or_default());
        }
        // Ctrl-C (or SIGTERM) stops every pipeline after the batch in flight.
        let stopper = rt.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = writeln!(std::io::stderr(), "\nstopping after the batches in flight…");
            stopper.shutdown();
        });
        let progress = Arc::new(Mutex::new(BTreeMap::<String, RouteSummary>::new()));
        let mut tasks = tokio::task::JoinSet::new();
        for p in pipelines {
            let rt = rt.clone();
            let progress = progress.clone();
            tasks.spawn(async move {
                let started = std::time::Instant::now();
                let name = p.name.clone();
                let result = rt
                    .run_scheduled(
                        &p,
                        |s| {
                            let mut all = progress.lock().expect("progress lock");
                            all.insert(name.clone(), s.clone());
                            if tty {
                                let line: Vec<String> = all.iter().map(|(n, s)| format!("{n}: {} sent, {} blocked", s.sent, s.blocked)).collect();
                                let _ = write!(std::io::stderr(), "\r{}", line.join(" | "));
                            }
                        },
                        |attempt, error, wait| {
                            let _ = writeln!(std::io::stderr(), "{}: {error}; retry {attempt} in {wait:.2?}", p.name);
                        },
                    )
                    .await;
                (p, started.elapsed(), result)
            });
        }
        let mut summaries = Vec::new();
        let mut failed = None;
        while let Some(joined) = tasks.join_next().await {
            let (p, took, result) = joined.context("a pipeline task panicked")?;
            match result {
                Ok(s) => summaries.push((s, took)),
                Err(e) => {
                    // The others stop at their next batch; the first failure is the answer.
                    rt.shutdown();
                    let _ = writeln!(err, "{}: {e}", p.name);
                    failed.get_or_insert(e);
                }
            }
        }
        if tty {
            writeln!(err)?;
        }
        summaries.sort_by(|a, b| a.0.pipeline.cmp(&b.0.pipeline));
        for (s, took) in &summaries {
            writeln!(err, "{}: {} changes read in {took:.2?} ({:.0} records/s)", s.pipeline, s.read, s.read as f64 / took.as_secs_f64().max(1e-9))?;
        }
        let summaries: Vec<RouteSummary> = summaries.into_iter().map(|(s, _)| s).collect();
        print_summary(&summaries);
        if let Some(e) = failed {
            return Err(e.into());
        }
        let first = rt.config().pipelines[0].route.from.as_str();
        println!(
            "\naudit what happened:\n  dss audit verify --config {0}\n  dss audit query --config {0} --region {first} --decision block\n  dss audit dead-letters --config {0}\n  dss audit export --config {0} --format csv > transfers.csv",
            path.display()
        );
        Ok(0)
    })
}

/// `dss serve`: the gateways of the given regions (every region with a `gateway.listen`
/// address by default) in one process, until Ctrl-C or SIGTERM; then each stops accepting
/// calls and drains the ones in flight.
pub fn serve(config: &Path, only: &[String]) -> anyhow::Result<u8> {
    let config = load(config)?;
    // Request spans and errors go to stderr; `DSS_LOG` filters them (`info` by default,
    // `dss_gateway=debug` for every call).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DSS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    runtime()?.block_on(async move {
        let scope = (!only.is_empty()).then(|| config.regions_serving(only));
        let rt = Arc::new(Runtime::open_for(config, scope.as_deref()).await?);
        let regions: Vec<String> = if only.is_empty() {
            rt.config().gateway.listen.keys().cloned().collect()
        } else {
            only.to_vec()
        };
        if regions.is_empty() {
            bail!("no region to serve: add `gateway.listen` to the configuration");
        }
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let mut serving = Vec::new();
        for region in &regions {
            let s = crate::server::start(rt.clone(), region, stopping.clone()).await?;
            let tls = if rt.config().gateway.tls.is_some() {
                "TLS"
            } else {
                "plaintext"
            };
            eprintln!(
                "{}: gRPC on {} ({tls}){}",
                s.region,
                s.addr,
                s.metrics_addr
                    .map(|m| format!(", metrics on http://{m}/metrics"))
                    .unwrap_or_default()
            );
            serving.push(s);
        }
        shutdown_signal().await;
        eprintln!("stopping: draining calls in flight…");
        stop.send_replace(true);
        rt.shutdown();
        for s in serving {
            s.done.await.context("a gateway task panicked")??;
        }
        Ok(0)
    })
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `dss audit dead-letters`: what could not be read, mapped or written, per region, without
/// payloads (they may hold personal data and stay in their region).
pub fn dead_letters(config: &Path, region: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let config = load(config)?;
    runtime()?.block_on(async move {
        let rt = open_region(config, region).await?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let mut total = 0u64;
        for r in regions(&rt, region)? {
            let store = rt.store(&r).expect("configured region");
            let mut after = 0;
            loop {
                let page = store.dead_letters(after, 5_000).await?;
                let Some(last) = page.last().map(|d| d.seq) else { break };
                for d in &page {
                    total += 1;
                    if json {
                        let line = serde_json::json!({"region": r, "seq": d.seq, "timestamp": d.timestamp, "pipeline": d.pipeline,
                            "stage": d.stage, "object": d.object, "record_id": d.record_id, "reason": d.reason});
                        writeln!(out, "{line}")?;
                    } else {
                        writeln!(out, "{:<12} {:>6}  {}  {:<20} {:<6} {}", r, d.seq, d.timestamp, d.pipeline, d.stage, d.reason)?;
                    }
                }
                after = last;
            }
        }
        out.flush()?;
        if !json {
            eprintln!("{total} dead letter(s)");
        }
        Ok(0)
    })
}

fn print_summary(summaries: &[RouteSummary]) {
    println!(
        "{:<24} {:<28} {:>7} {:>7} {:>7} {:>6}  transformed fields",
        "pipeline", "route", "sent", "blocked", "skipped", "dead"
    );
    for s in summaries {
        println!(
            "{:<24} {:<28} {:>7} {:>7} {:>7} {:>6}  {}",
            s.pipeline,
            format!("{} -> {}", s.from, s.to),
            s.sent,
            s.blocked,
            s.skipped,
            s.dead_letters,
            s.describe_actions()
        );
    }
}

/// `dss audit verify`: recompute every chain (or one region's); exit 1 naming the first bad
/// entry.
pub fn verify(config: &Path, region: Option<&str>) -> anyhow::Result<u8> {
    let config = load(config)?;
    runtime()?.block_on(async move {
        let rt = open_region(config, region).await?;
        let mut bad = false;
        for r in regions(&rt, region)? {
            let store = rt.store(&r).expect("configured region");
            let started = std::time::Instant::now();
            let v = ledger::verify(store, &r).await?;
            match v.tampering {
                None => println!(
                    "{r}: ok, {} entries verified in {:.2?}",
                    v.entries,
                    started.elapsed()
                ),
                Some(t) => {
                    bad = true;
                    match t.seq {
                        // No entry is bad: a head-count disagrees with the log.
                        0 => println!("{r}: TAMPERED: {}", t.what),
                        seq => println!("{r}: TAMPERED at entry {seq}: {}", t.what),
                    }
                }
            }
        }
        Ok(u8::from(bad))
    })
}

/// The runtime with the store of `region` only (every region's for `None`).
async fn open_region(config: Config, region: Option<&str>) -> anyhow::Result<Runtime> {
    let only = region.map(str::to_owned);
    Ok(Runtime::open_for(config, only.as_ref().map(std::slice::from_ref)).await?)
}

fn regions(rt: &Runtime, region: Option<&str>) -> anyhow::Result<Vec<String>> {
    match region {
        Some(r) if rt.store(r).is_some() => Ok(vec![r.to_owned()]),
        Some(r) => bail!(
            "region {r:?} is not configured (configured: {})",
            rt.config()
                .regions
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => Ok(rt.config().regions.keys().cloned().collect()),
    }
}

/// Output formats of `dss audit query` and `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// A table for people.
    Table,
    /// One JSON object per entry.
    Json,
    /// CSV with a header row.
    Csv,
}

/// `dss audit query` / `export`: entries matching `filter`, in every configured region (or
/// one).
pub fn query(
    config: &Path,
    region: Option<&str>,
    filter: Filter,
    format: AuditFormat,
    limit: Option<u64>,
) -> anyhow::Result<u8> {
    let config = load(config)?;
    runtime()?.block_on(async move {
        let rt = open_region(config, region).await?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        if format == AuditFormat::Csv {
            writeln!(out, "region,seq,timestamp,pipeline,run_id,origin_region,origin_jurisdiction,dest_region,dest_jurisdiction,object,record_id,subject,decision,fields,reasons,legal_basis,conditions,policy_version,prev_hash,hash")?;
        }
        let mut left = limit.unwrap_or(u64::MAX);
        for r in regions(&rt, region)? {
            let store = rt.store(&r).expect("configured region");
            let mut after = 0;
            while left > 0 {
                let page = store.query_transfers(&r, &filter, after, 5_000.min(left as i64)).await?;
                let Some(last) = page.last().map(|e| e.seq) else { break };
                for e in &page {
                    write_entry(&mut out, e, format)?;
                }
                left -= page.len() as u64;
                after = last;
            }
        }
        out.flush()?;
        Ok(0)
    })
}

fn write_entry(out: &mut dyn Write, e: &Entry, format: AuditFormat) -> std::io::Result<()> {
    let t = &e.transfer;
    let actions = || {
        t.fields
            .iter()
            .filter(|f| f.action != "pass")
            .map(|f| format!("{}:{}", f.path, f.action))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match format {
        AuditFormat::Table => writeln!(
            out,
            "{:<12} {:>6}  {}  {:<20} {} -> {}  {:<8} {:<24} {:<8} {}",
            e.region,
            e.seq,
            t.timestamp,
            t.pipeline,
            t.origin_jurisdiction,
            t.dest_jurisdiction,
            t.object,
            t.record_id,
            t.decision,
            if t.decision == "block" {
                t.reasons.join("; ")
            } else {
                actions()
            }
        ),
        AuditFormat::Json => {
            let doc = serde_json::json!({
                "region": e.region, "seq": e.seq, "timestamp": t.timestamp, "pipeline": t.pipeline, "run_id": t.run_id,
                "route": { "from": t.origin_region, "from_jurisdiction": t.origin_jurisdiction, "to": t.dest_region, "to_jurisdiction": t.dest_jurisdiction },
                "object": t.object, "record_id": t.record_id, "subject": t.subject, "decision": t.decision,
                "fields": t.fields.iter().map(|f| serde_json::json!({"path": f.path, "class": f.class, "action": f.action, "rule": f.rule})).collect::<Vec<_>>(),
                "reasons": t.reasons, "legal_basis": t.legal_basis, "conditions": t.conditions, "policy_version": t.policy_version,
                "prev_hash": e.prev_hash, "hash": e.hash,
            });
            writeln!(out, "{doc}")
        }
        AuditFormat::Csv => {
            let fields = t
                .fields
                .iter()
                .map(|f| format!("{}={}:{}:{}", f.path, f.class, f.action, f.rule))
                .collect::<Vec<_>>()
                .join(";");
            let cells = [
                e.region.clone(),
                e.seq.to_string(),
                t.timestamp.clone(),
                t.pipeline.clone(),
                t.run_id.clone(),
                t.origin_region.clone(),
                t.origin_jurisdiction.clone(),
                t.dest_region.clone(),
                t.dest_jurisdiction.clone(),
                t.object.clone(),
                t.record_id.clone(),
                t.subject.clone().unwrap_or_default(),
                t.decision.clone(),
                fields,
                t.reasons.join("; "),
                t.legal_basis.clone().unwrap_or_default(),
                t.conditions.join(";"),
                t.policy_version.clone(),
                e.prev_hash.clone(),
                e.hash.clone(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            writeln!(out, "{}", line.join(","))
        }
    }
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_owned()
    }
}

/// Records of a data subject (region, tenant, object, id, held under its identity) and its
/// transfers, in every region.
#[allow(clippy::type_complexity)]
pub(crate) async fn subject_access(
    rt: &Runtime,
    subject: &str,
) -> anyhow::Result<(
    String,
    Vec<(String, String, String, String, bool)>,
    Vec<Entry>,
)> {
    let token = rt.subject_token(subject);
    let mut records = Vec::new();
    let mut transfers = Vec::new();
    for region in rt.config().regions.keys() {
        let store = rt.store(region).expect("configured region");
        for key in [subject, token.as_str()] {
            for (tenant, object, id) in store.records_of_subject(key).await? {
                records.push((region.clone(), tenant, object, id, key == subject));
            }
        }
        let filter = Filter {
            subject: Some(token.clone()),
            ..Filter::default()
        };
        transfers.extend(store.query_transfers(region, &filter, 0, i64::MAX).await?);
    }
    Ok((token, records, transfers))
}

/// The access report as JSON.
pub(crate) fn access_json(
    token: &str,
    records: &[(String, String, String, String, bool)],
    transfers: &[Entry],
) -> serde_json::Value {
    serde_json::json!({
        "subject_token": token,
        "records": records.iter().map(|(r, t, o, i, home)| serde_json::json!({"region": r, "tenant": t, "object": o, "id": i, "held_as": if *home { "identity" } else { "token" }})).collect::<Vec<_>>(),
        "transfers": transfers.iter().map(|e| serde_json::json!({"region": e.region, "seq": e.seq, "timestamp": e.transfer.timestamp, "pipeline": e.transfer.pipeline, "to": e.transfer.dest_region, "to_jurisdiction": e.transfer.dest_jurisdiction, "object": e.transfer.object, "record_id": e.transfer.record_id, "decision": e.transfer.decision, "legal_basis": e.transfer.legal_basis, "conditions": e.transfer.conditions})).collect::<Vec<_>>(),
    })
}

/// `dss dsr access`: every record of a data subject (at home, by identity; abroad, by token)
/// and every transfer of it.
pub fn dsr_access(config: &Path, subject: &str, json: bool) -> anyhow::Result<u8> {
    let config = load(config)?;
    runtime()?.block_on(async move {
        let rt = Runtime::open(config).await?;
        let (token, records, transfers) = subject_access(&rt, subject).await?;
        let mut out = std::io::stdout().lock();
        if json {
            let doc = access_json(&token, &records, &transfers);
            writeln!(out, "{doc}")?;
        } else {
            writeln!(
                out,
                "data subject token: {token}\n\nrecords ({}):",
                records.len()
            )?;
            for (r, t, o, i, home) in &records {
                writeln!(
                    out,
                    "  {r:<14} {t:<12} {o:<10} {i:<28} held as {}",
                    if *home { "identity" } else { "token" }
                )?;
            }
            writeln!(out, "\ntransfers ({}):", transfers.len())?;
            for e in &transfers {
                let t = &e.transfer;
                writeln!(
                    out,
                    "  {} {:>6}  {}  {:<18} {} -> {} ({})  {:<8} {:<24} {:<8} basis {}",
                    e.region,
                    e.seq,
                    t.timestamp,
                    t.pipeline,
                    t.origin_region,
                    t.dest_region,
                    t.dest_jurisdiction,
                    t.object,
                    t.record_id,
                    t.decision,
                    t.legal_basis.as_deref().unwrap_or("-")
                )?;
            }
        }
        Ok(0)
    })
}

/// Erases a data subject everywhere: (token, records deleted, vault entries destroyed, delete
/// events sent through the pipelines).
pub(crate) async fn erase_subject(
    rt: &Runtime,
    subject: &str,
) -> anyhow::Result<(String, u64, u64, u64)> {
    let token = rt.subject_token(subject);
    let mut deleted = 0;
    let mut shredded = 0;
    for region in rt.config().regions.keys() {
        let store = rt.store(region).expect("configured region");
        let mut mine = Vec::new();
        for (tenant, object, id) in store.records_of_subject(subject).await? {
            let version = store
                .record(&tenant, &object, &id)
                .await?
                .map_or(0, |s| s.record.version as i64);
            mine.push((tenant, object, id, version));
        }
        // A delete is a new version: the change feed carries it to every pipeline.
        let mut tx = store.begin().await?;
        for (tenant, object, id, version) in &mine {
            if tx.delete_record(tenant, object, id, version + 1).await? {
                deleted += 1;
            }
        }
        tx.commit().await?;
        shredded += store.shred_subject(&token).await?;
    }
    let mut sent = 0;
    for p in rt.config().pipelines.clone() {
        sent += rt.run_pipeline(&p, |_| {}).await?.sent;
    }
    Ok((token, deleted, shredded, sent))
}

/// `dss dsr erase`: delete the subject's records where they live, destroy their vault entries
/// (tokens abroad become irreversible), and run the pipelines so that every tenant that
/// received them deletes its copy. Everything is logged.
pub fn dsr_erase(config: &Path, subject: &str) -> anyhow::Result<u8> {
    let config = load(config)?;
    runtime()?.block_on(async move {
        let rt = Runtime::open(config).await?;
        let (token, deleted, shredded, sent) = erase_subject(&rt, subject).await?;
        println!("erased data subject {token}: {deleted} records deleted at home, {shredded} vault entries destroyed");
        println!("delete events sent through the pipelines: {sent} (see `dss audit query --subject {token} --decision delete`)");
        Ok(0)
    })
}

type ReportData = (Vec<ledger::RouteCount>, Vec<(String, ledger::SubjectCount)>);

/// Transfers per route and distinct subjects per destination and year, in every region.
pub(crate) async fn report_data(
    rt: &Runtime,
    since: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<ReportData> {
    let mut routes = Vec::new();
    let mut subjects = Vec::new();
    for region in rt.config().regions.keys() {
        let (r, s) = rt
            .store(region)
            .expect("configured region")
            .report(region, since, until)
            .await?;
        routes.extend(r);
        subjects.extend(s.into_iter().map(|s| (region.clone(), s)));
    }
    Ok((routes, subjects))
}

/// The report as JSON.
pub(crate) fn report_json(
    since: Option<&str>,
    until: Option<&str>,
    routes: &[ledger::RouteCount],
    subjects: &[(String, ledger::SubjectCount)],
) -> serde_json::Value {
    serde_json::json!({
        "period": { "since": since, "until": until },
        "transfers": routes.iter().map(|r| serde_json::json!({
            "from": r.origin_region, "to": r.dest_region, "to_jurisdiction": r.dest_jurisdiction, "object": r.object,
            "legal_basis": r.legal_basis, "decision": r.decision, "count": r.count,
        })).collect::<Vec<_>>(),
        "data_subjects": subjects.iter().map(|(origin, s)| serde_json::json!({
            "from": origin, "to_jurisdiction": s.dest_jurisdiction, "year": s.year, "subjects": s.subjects, "sensitive_subjects": s.sensitive_subjects,
        })).collect::<Vec<_>>(),
    })
}

/// `dss audit report`: the summary a DPO files as a record of processing.
pub fn report(
    config: &Path,
    since: Option<&str>,
    until: Option<&str>,
    json: bool,
) -> anyhow::Result<u8> {
    let config = load(config)?;
    runtime()?.block_on(async move {
        let rt = Runtime::open(config).await?;
        let (routes, subjects) = report_data(&rt, since, until).await?;
        let mut out = std::io::stdout().lock();
        if json {
            let doc = report_json(since, until, &routes, &subjects);
            writeln!(out, "{doc}")?;
            return Ok(0);
        }
        writeln!(out, "transfers{}:", period(since, until))?;
        writeln!(
            out,
            "  {:<14} {:<14} {:<4} {:<10} {:<12} {:<8} {:>8}",
            "from", "to", "", "object", "legal basis", "decision", "count"
        )?;
        for r in &routes {
            writeln!(
                out,
                "  {:<14} {:<14} {:<4} {:<10} {:<12} {:<8} {:>8}",
                r.origin_region,
                r.dest_region,
                r.dest_jurisdiction,
                r.object,
                if r.legal_basis.is_empty() {
                    "-"
                } else {
                    &r.legal_basis
                },
                r.decision,
                r.count
            )?;
        }
        writeln!(
            out,
            "\ndistinct data subjects transferred, per destination jurisdiction and calendar year:"
        )?;
        writeln!(
            out,
            "  {:<14} {:<4} {:<6} {:>9} {:>10}",
            "from", "to", "year", "subjects", "sensitive"
        )?;
        for (origin, s) in &subjects {
            writeln!(
                out,
                "  {:<14} {:<4} {:<6} {:>9} {:>10}",
                origin, s.dest_jurisdiction, s.year, s.subjects, s.sensitive_subjects
            )?;
        }
        Ok(0)
    })
}

fn period(since: Option<&str>, until: Option<&str>) -> String {
    match (since, until) {
        (None, None) => String::new(),
        (s, u) => format!(
            " from {} until {}",
            s.unwrap_or("the start"),
            u.unwrap_or("now")
        ),
    }
}
