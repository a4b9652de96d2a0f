//! Roles, tenants, residency-aware reads and writes, rate limits and Watch.

use std::time::{Duration, Instant};

use dss_gateway::server::auth::Rpc;
use dss_gateway::server::proto;
use dss_pipelines::gateway_config::Role;
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;

use super::{Deployment, bearer, crm, get_request};

/// A caller of the deployment: a channel, and a token when it has no certificate.
struct Who {
    ch: Channel,
    token: Option<&'static str>,
}

impl Who {
    fn req<T>(&self, msg: T) -> tonic::Request<T> {
        match self.token {
            Some(t) => bearer(msg, t),
            None => tonic::Request::new(msg),
        }
    }
}

async fn who(d: &Deployment, role: Role) -> Who {
    match role {
        Role::Admin => Who {
            ch: d.as_cert("cn-admin").await,
            token: None,
        },
        Role::Integration => Who {
            ch: d.as_cert("cn-app").await,
            token: None,
        },
        Role::Dpo => Who {
            ch: d.channel(None).await.unwrap(),
            token: Some("dpo-secret-token"),
        },
        Role::Reader => Who {
            ch: d.channel(None).await.unwrap(),
            token: Some("reader-secret-token"),
        },
    }
}

const PIPELINE: &str = "version: 1\npipelines:\n  p:\n    source: { connector: crm, region: cn-beijing, tenant: cn-hq }\n    destination: { connector: crm, region: eu-frankfurt, tenant: eu-sales }\n    objects: [contact]\n    purpose: crm_sync\n    legal_basis: contract\n";

/// Makes one call of `rpc` with a small valid request.
async fn call(w: &Who, rpc: Rpc, contact: &dss_core::Record) -> Result<(), tonic::Status> {
    use proto::audit_service_client::AuditServiceClient as Audit;
    use proto::dsr_service_client::DsrServiceClient as Dsr;
    use proto::pipeline_service_client::PipelineServiceClient as Pipelines;
    use proto::policy_service_client::PolicyServiceClient as Policy;
    let ch = w.ch.clone();
    let new = format!(
        r#"{{"id":"con-new-{:?}","object":"contact","tenant":"cn-hq","region":"cn-beijing","fields":{{"status":"active"}}}}"#,
        std::time::SystemTime::now()
    );
    match rpc {
        Rpc::CrmGet => crm(ch).get(w.req(get_request(contact))).await.map(drop),
        Rpc::CrmList => crm(ch)
            .list(w.req(proto::ListRequest {
                tenant: "cn-hq".into(),
                object: "contact".into(),
                ..Default::default()
            }))
            .await
            .map(drop),
        Rpc::CrmUpsert => crm(ch)
            .upsert(w.req(proto::UpsertRequest {
                json: new,
                expected_version: 0,
            }))
            .await
            .map(drop),
        Rpc::CrmDelete => crm(ch)
            .delete(w.req(proto::DeleteRequest {
                r#ref: Some(proto::RecordRef {
                    tenant: "cn-hq".into(),
                    object: "contact".into(),
                    id: "no-such".into(),
                }),
                expected_version: 1,
            }))
            .await
            .map(drop),
        Rpc::CrmWatch => crm(ch)
            .watch(w.req(proto::WatchRequest {
                tenant: "cn-hq".into(),
                after_seq: i64::MAX - 1,
                objects: vec![],
            }))
            .await
            .map(drop),
        Rpc::PolicyDryRun => Policy::new(ch)
            .dry_run(w.req(proto::DryRunRequest {
                pipeline_yaml: PIPELINE.into(),
                ..Default::default()
            }))
            .await
            .map(drop),
        Rpc::PipelineList => Pipelines::new(ch)
            .list(w.req(proto::ListPipelinesRequest {}))
            .await
            .map(drop),
        Rpc::PipelineValidate => Pipelines::new(ch)
            .validate(w.req(proto::ValidateRequest {
                config_yaml: "version: 1\nregions: {}\n".into(),
            }))
            .await
            .map(drop),
        Rpc::PipelineRun => Pipelines::new(ch)
            .run(w.req(proto::RunRequest {
                pipeline: "no-such".into(),
            }))
            .await
            .map(drop),
        Rpc::PipelineStatus => Pipelines::new(ch)
            .status(w.req(proto::StatusRequest {
                pipeline: "hq-to-eu".into(),
            }))
            .await
            .map(drop),
        Rpc::AuditQuery => Audit::new(ch)
            .query(w.req(proto::AuditQuery::default()))
            .await
            .map(drop),
        Rpc::AuditVerify => Audit::new(ch)
            .verify(w.req(proto::VerifyRequest {}))
            .await
            .map(drop),
        Rpc::AuditExport => Audit::new(ch)
            .export(w.req(proto::AuditQuery::default()))
            .await
            .map(drop),
        Rpc::AuditReport => Audit::new(ch)
            .report(w.req(proto::ReportRequest::default()))
            .await
            .map(drop),
        Rpc::DsrAccess => Dsr::new(ch)
            .access(w.req(proto::SubjectRequest {
                subject: "nobody".into(),
            }))
            .await
            .map(drop),
        Rpc::DsrErase => Dsr::new(ch)
            .erase(w.req(proto::SubjectRequest {
                subject: "nobody".into(),
            }))
            .await
            .map(drop),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_admits_exactly_its_roles_and_no_other_tenant() {
    let d = Deployment::start("").await;
    let contact = d.a_contact().await;
    for role in Role::ALL {
        let w = who(&d, role).await;
        for rpc in Rpc::ALL {
            let result = call(&w, rpc, &contact).await;
            let denied = matches!(&result, Err(s) if s.code() == tonic::Code::PermissionDenied);
            let allowed = rpc.roles().contains(&role);
            assert_eq!(denied, !allowed, "{role:?} calling {rpc:?}: {result:?}");
            if allowed {
                // Allowed calls may still fail on their input, never on authentication.
                if let Err(s) = &result {
                    assert!(
                        matches!(
                            s.code(),
                            tonic::Code::NotFound | tonic::Code::InvalidArgument
                        ),
                        "{role:?} calling {rpc:?}: {s}"
                    );
                }
            }
        }
    }
    // A tenant the caller is not granted, read or written, is denied whatever the role.
    let eu = proto::GetRequest {
        r#ref: Some(proto::RecordRef {
            tenant: "eu-sales".into(),
            object: "contact".into(),
            id: "x".into(),
        }),
    };
    let err = crm(d.as_cert("cn-app").await).get(eu).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err}");
    let err = crm(d.as_cert("eu-reader").await)
        .get(get_request(&contact))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err}");
}

/// A List of up to 1,000 of Beijing's contacts by the Frankfurt caller.
async fn contacts_seen_from_frankfurt(d: &Deployment) -> proto::ListResponse {
    crm(d.as_cert("eu-app").await)
        .list(proto::ListRequest {
            tenant: "cn-hq".into(),
            object: "contact".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_border_read_is_transformed_and_logged() {
    let d = Deployment::start("").await;
    let contact = d.a_contact().await;
    let name = contact
        .fields
        .get("name")
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let email = contact
        .fields
        .get("email")
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();

    // Same jurisdiction: the record as stored.
    let home = crm(d.as_cert("cn-app").await)
        .get(get_request(&contact))
        .await
        .unwrap()
        .into_inner();
    assert!(home.record.unwrap().json.contains(&name));
    assert!(home.decision.is_none());

    // Frankfurt reading Beijing: tokens and masks, never the raw values.
    let abroad = crm(d.as_cert("eu-app").await)
        .get(get_request(&contact))
        .await
        .unwrap()
        .into_inner();
    let decision = abroad.decision.unwrap();
    assert_eq!(decision.decision, "transfer");
    assert_eq!(decision.route, "cn-beijing -> eu-frankfurt");
    let json = abroad.record.unwrap().json;
    assert!(!json.contains(&name) && !json.contains(&email), "{json}");
    let seen: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        seen["fields"]["name"].as_str().unwrap().starts_with("tok_"),
        "{json}"
    );
    assert!(
        seen["fields"]["email"].as_str().unwrap().contains("***@"),
        "{json}"
    );
    assert!(
        decision
            .fields
            .iter()
            .any(|f| f.path == "name" && f.action == "tokenize")
    );

    // The read is in Beijing's transfer log, without values.
    let log = proto::audit_service_client::AuditServiceClient::new(d.channel(None).await.unwrap())
        .query(bearer(
            proto::AuditQuery {
                pipeline: "gateway".into(),
                ..Default::default()
            },
            "dpo-secret-token",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(log.entries.len(), 1, "{:?}", log.entries);
    let entry = &log.entries[0].json;
    assert!(
        entry.contains(r#""run_id":"read:eu-app""#)
            && entry.contains(r#""dest_region":"eu-frankfurt""#),
        "{entry}"
    );
    assert!(!entry.contains(&name) && !entry.contains(&email), "{entry}");

    // A List across the border: every item decided, the blocked ones without a record.
    let page = contacts_seen_from_frankfurt(&d).await;
    assert_eq!(page.items.len(), 30);
    for item in &page.items {
        assert_eq!(item.decision, None, "a List item names its decision");
        let d = &page.decisions[item.decision_index as usize];
        assert_eq!(item.record.is_some(), d.decision == "transfer", "{d:?}");
        assert_eq!(d.route, "cn-beijing -> eu-frankfurt");
    }
    assert!(page.items.iter().any(|i| i.record.is_some()));

    // Metrics: calls by method and code, records per route and outcome; health endpoints.
    let (status, metrics) = super::http_get(d.metrics, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    assert!(
        metrics.contains(r#"dss_grpc_requests_total{method="/dss.v1.CrmService/Get",code="0"} 2"#),
        "{metrics}"
    );
    let records = |outcome: &str| -> u64 {
        let series = format!(
            r#"dss_records_total{{route="cn-beijing -> eu-frankfurt",outcome="{outcome}"}} "#
        );
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .map_or(0, |n| n.trim().parse().unwrap())
    };
    let blocked = page.items.iter().filter(|i| i.record.is_none()).count() as u64;
    assert_eq!(
        (
            records("blocked"),
            records("transformed") + records("transferred")
        ),
        (blocked, 1 + 30 - blocked),
        "one Get and a List of 30, each record counted once: {metrics}"
    );
    assert!(
        metrics.contains("dss_grpc_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(super::http_get(d.metrics, "/livez").await.0.contains("200"));
    assert!(
        super::http_get(d.metrics, "/readyz")
            .await
            .0
            .contains("200")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_list_across_the_border_answers_and_logs_every_record_in_feed_order() {
    let d = Deployment::start("").await;
    // 400 contacts (the 30 seeded among them): a page large enough to be decided in halves.
    let store = d.rt.store("cn-beijing").unwrap();
    let mut g =
        dss_core::synth::Generator::new(7, "cn-hq", dss_core::RegionId::new("cn-beijing").unwrap());
    let contacts: Vec<_> = (0..400)
        .map(|_| {
            let r = g.contact();
            let subject = r.subject.as_ref().and_then(|s| s.id.clone());
            (r, subject)
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    tx.upsert_records(&contacts).await.unwrap();
    tx.commit().await.unwrap();
    let in_feed_order: Vec<String> = store
        .list_records("cn-hq", "contact", 0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|l| l.record().unwrap().id)
        .collect();
    assert_eq!(in_feed_order.len(), 400);

    let page = contacts_seen_from_frankfurt(&d).await;
    let told = |i: &proto::RecordResponse| &page.decisions[i.decision_index as usize];
    let answered: Vec<&str> = page
        .items
        .iter()
        .map(|i| {
            let d = told(i);
            assert_eq!(i.record.is_some(), d.decision == "transfer", "{d:?}");
            i.record.as_ref().map_or("", |r| r.id.as_str())
        })
        .collect();
    let expected: Vec<&str> = in_feed_order
        .iter()
        .zip(&page.items)
        .map(|(id, i)| if i.record.is_some() { id.as_str() } else { "" })
        .collect();
    assert_eq!(answered, expected, "items in feed order");

    let log = store
        .query_transfers(
            "cn-beijing",
            &dss_store::ledger::Filter {
                pipeline: Some("gateway".into()),
                ..Default::default()
            },
            0,
            1000,
        )
        .await
        .unwrap();
    let logged: Vec<&str> = log.iter().map(|e| e.transfer.record_id.as_str()).collect();
    assert_eq!(logged, in_feed_order, "one entry per record, in feed order");
    for (entry, item) in log.iter().zip(&page.items) {
        let told = told(item);
        let logged: Vec<(&str, &str)> = entry
            .transfer
            .fields
            .iter()
            .map(|f| (f.path.as_str(), f.action.as_str()))
            .collect();
        let said: Vec<(&str, &str)> = told
            .fields
            .iter()
            .map(|f| (f.path.as_str(), f.action.as_str()))
            .collect();
        assert_eq!(
            (entry.transfer.decision.as_str(), logged),
            (told.decision.as_str(), said),
            "each item names the decision its log entry holds"
        );
    }
    // A page's records share a few decisions, each sent once.
    assert!(
        page.decisions.len() < 40,
        "{} decisions for 400 items",
        page.decisions.len()
    );
    for (i, d) in page.decisions.iter().enumerate() {
        assert!(
            !page.decisions[..i].contains(d),
            "decision {i} is listed twice"
        );
    }
    assert_eq!(
        dss_store::ledger::verify(store, "cn-beijing")
            .await
            .unwrap()
            .tampering,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_a_head_count_threshold_a_read_from_abroad_blocks_subjects_not_yet_counted() {
    // The Frankfurt caller's route lacks the threshold's condition (a security assessment).
    let policies = crate::policy::default_policies_with_cn_threshold(5);
    let d = Deployment::start_with(&format!("policies: {}", policies.path().display()), "").await;
    let store = d.rt.store("cn-beijing").unwrap();
    let year: i32 = dss_core::time::now_rfc3339()[..4].parse().unwrap();
    let by_threshold = |d: &proto::Decision| {
        d.decision == "block"
            && d.reasons.iter().any(|r| {
                r.contains("distinct data subjects sent to DE since")
                    && r.contains("reach the threshold of 5")
                    && r.contains("`security_assessment` is required")
            })
    };
    let sent = |page: &proto::ListResponse| -> Vec<String> {
        page.items
            .iter()
            .filter_map(|i| i.record.as_ref().map(|r| r.id.clone()))
            .collect()
    };

    let first = contacts_seen_from_frankfurt(&d).await;
    assert_eq!(first.items.len(), 30);
    let blocked = first
        .items
        .iter()
        .filter(|i| by_threshold(&first.decisions[i.decision_index as usize]))
        .count();
    assert!(blocked >= 20, "{blocked} of 30 blocked by the threshold");
    assert_eq!(
        store
            .subjects_transferred("cn-beijing", "DE", year)
            .await
            .unwrap(),
        5
    );
    let log = store
        .query_transfers("cn-beijing", &dss_store::ledger::Filter::default(), 0, 1000)
        .await
        .unwrap();
    let people: std::collections::HashSet<_> = log
        .iter()
        .filter(|e| e.transfer.decision == "transfer")
        .filter_map(|e| e.transfer.subject.clone())
        .collect();
    assert_eq!(people.len(), 5, "five people crossed");
    let logged_blocks = log
        .iter()
        .filter(|e| {
            e.transfer
                .reasons
                .iter()
                .any(|r| r.contains("threshold of 5"))
        })
        .count();
    assert_eq!(
        logged_blocks, blocked,
        "each block is logged with its reason"
    );

    // The five counted go on crossing; the others stay blocked, by Get as by List.
    let again = contacts_seen_from_frankfurt(&d).await;
    assert_eq!(sent(&again), sent(&first));
    assert_eq!(
        store
            .subjects_transferred("cn-beijing", "DE", year)
            .await
            .unwrap(),
        5
    );
    let records: Vec<dss_core::Record> = store
        .list_records("cn-hq", "contact", 0, 50)
        .await
        .unwrap()
        .iter()
        .map(|l| l.record().unwrap())
        .collect();
    let eu = crm(d.as_cert("eu-app").await);
    let mut gets = (0, 0);
    for (r, item) in records.iter().zip(&first.items) {
        let got = eu.clone().get(get_request(r)).await.unwrap().into_inner();
        assert_eq!(got.record.is_some(), item.record.is_some(), "{}", r.id);
        if by_threshold(got.decision.as_ref().unwrap()) {
            gets.1 += 1;
        } else {
            gets.0 += 1;
        }
    }
    assert_eq!(gets.1, blocked, "{gets:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_from_abroad_is_stored_as_it_crossed_or_refused() {
    let d = Deployment::start("").await;
    let mut eu = crm(d.as_cert("eu-app").await);
    let record = |id: &str, extra: &str| {
        format!(
            r#"{{"id":"{id}","object":"contact","tenant":"cn-hq","region":"eu-frankfurt","subject":{{"id":"subj-de-9","country":"DE","consent":"granted"}},"fields":{{"name":"Jonas Weber","email":"jonas@beispiel.de"{extra}}}}}"#
        )
    };
    let ok = eu
        .clone()
        .upsert(proto::UpsertRequest {
            json: record("con-w1", ""),
            expected_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.version, 1);
    let stored =
        d.rt.store("cn-beijing")
            .unwrap()
            .record("cn-hq", "contact", "con-w1")
            .await
            .unwrap()
            .unwrap();
    let json = serde_json::to_string(&stored.record).unwrap();
    assert!(
        !json.contains("Jonas Weber") && !json.contains("jonas@"),
        "{json}"
    );

    let err = eu
        .clone()
        .upsert(proto::UpsertRequest {
            json: record("con-w2", r#","id_number":"110101199003074514""#),
            expected_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{err}");

    // Optimistic concurrency: a stale expected version is refused.
    let err = eu
        .upsert(proto::UpsertRequest {
            json: record("con-w1", ""),
            expected_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Aborted, "{err}");
}

/// A Watch of cn-hq's changes from now on, by `client`.
async fn watch_from_now(
    d: &Deployment,
    client: &proto::crm_service_client::CrmServiceClient<Channel>,
) -> tonic::Streaming<proto::Change> {
    let now =
        d.rt.store("cn-beijing")
            .unwrap()
            .changes("cn-hq", 0, 100_000)
            .await
            .unwrap();
    client
        .clone()
        .watch(proto::WatchRequest {
            tenant: "cn-hq".into(),
            after_seq: now.last().unwrap().seq,
            objects: vec![],
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_changes_in_order_and_resumes_from_a_sequence_number() {
    let d = Deployment::start("").await;
    let mut app = crm(d.as_cert("cn-app").await);
    let mut stream = watch_from_now(&d, &app).await;
    for n in 1..=3 {
        let json = format!(
            r#"{{"id":"w-{n}","object":"account","tenant":"cn-hq","region":"cn-beijing","fields":{{"n":{n}}}}}"#
        );
        app.clone()
            .upsert(proto::UpsertRequest {
                json,
                expected_version: 0,
            })
            .await
            .unwrap();
    }
    let mut got = Vec::new();
    while got.len() < 3 {
        let c = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        got.push((c.seq, c.id, c.op));
    }
    let ids: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
    assert_eq!(ids, ["w-1", "w-2", "w-3"]);
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "{got:?}");

    // Resume after the first: the other two, in order.
    let mut resumed = app
        .watch(proto::WatchRequest {
            tenant: "cn-hq".into(),
            after_seq: got[0].0,
            objects: vec!["account".into()],
        })
        .await
        .unwrap()
        .into_inner();
    for want in ["w-2", "w-3"] {
        let c = tokio::time::timeout(Duration::from_secs(20), resumed.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(c.id, want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_watched_from_abroad_tells_the_id_as_it_crossed_and_is_logged_as_a_delete() {
    let d = Deployment::start("").await;
    let store = d.rt.store("cn-beijing").unwrap();
    let contact = d.a_contact().await;
    let mut stream = watch_from_now(&d, &crm(d.as_cert("eu-app").await)).await;
    crm(d.as_cert("cn-app").await)
        .delete(proto::DeleteRequest {
            r#ref: Some(proto::RecordRef {
                tenant: "cn-hq".into(),
                object: "contact".into(),
                id: contact.id.clone(),
            }),
            expected_version: contact.version,
        })
        .await
        .unwrap();
    let c = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(c.op, "delete");
    assert!(c.record.is_none());
    assert_eq!(c.decision.as_ref().unwrap().decision, "delete");
    let log = store
        .query_transfers("cn-beijing", &dss_store::ledger::Filter::default(), 0, 1000)
        .await
        .unwrap();
    let last = &log.last().unwrap().transfer;
    assert_eq!(
        (
            last.decision.as_str(),
            last.record_id.as_str(),
            last.pipeline.as_str()
        ),
        ("delete", c.id.as_str(), "gateway"),
        "logged with the id the caller was told"
    );
    let year: i32 = dss_core::time::now_rfc3339()[..4].parse().unwrap();
    assert_eq!(
        store
            .subjects_transferred("cn-beijing", "DE", year)
            .await
            .unwrap(),
        0,
        "a deletion sends no one's data: not head-counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_admits_its_rate_and_rejects_the_rest_with_a_retry_hint() {
    let d =
        Deployment::start("  rate_limits: { per_client: { per_second: 20, burst: 10 } }\n").await;
    let contact = d.a_contact().await;
    let ch = d.as_cert("cn-app").await;
    let started = Instant::now();
    let run_for = Duration::from_millis(1500);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let client = crm(ch.clone());
        let req = get_request(&contact);
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut limited) = (0u32, 0u32);
            while started.elapsed() < run_for {
                match client.clone().get(req.clone()).await {
                    Ok(_) => ok += 1,
                    Err(s) if s.code() == tonic::Code::ResourceExhausted => {
                        assert!(s.metadata().get("retry-after-ms").is_some(), "{s}");
                        limited += 1;
                    }
                    Err(s) => panic!("{s}"),
                }
            }
            (ok, limited)
        }));
    }
    let (mut ok, mut limited) = (0, 0);
    for t in tasks {
        let (o, l) = t.await.unwrap();
        ok += o;
        limited += l;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // A burst of 10, then 20 a second: the admitted count follows the rate, whatever the
    // number of clients.
    let most = 10.0 + 20.0 * elapsed + 1.0;
    assert!(
        f64::from(ok) <= most,
        "{ok} admitted in {elapsed:.2} s (at most {most:.0})"
    );
    assert!(
        f64::from(ok) >= 10.0 + 20.0 * 1.4 - 3.0,
        "{ok} admitted in {elapsed:.2} s"
    );
    assert!(limited > ok, "{limited} limited");
    let (_, metrics) = super::http_get(d.metrics, "/metrics").await;
    assert!(
        metrics.contains(&format!(
            r#"dss_rate_limited_total{{scope="caller"}} {limited}"#
        )),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_streams_drains_and_refuses_new_calls() {
    let mut d = Deployment::start("").await;
    let contact = d.a_contact().await;
    let mut app = crm(d.as_cert("cn-app").await);
    let mut stream = app
        .watch(proto::WatchRequest {
            tenant: "cn-hq".into(),
            after_seq: i64::MAX - 1,
            objects: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    d.stop.send_replace(true);
    // The open stream ends, the server finishes, and nothing new is accepted.
    let end = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .unwrap();
    assert!(end.as_ref().is_none_or(|r| r.is_err()), "{end:?}");
    let done = d.done.take().unwrap();
    tokio::time::timeout(Duration::from_secs(20), done)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(app.get(get_request(&contact)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_limit_holds_across_callers() {
    let d = Deployment::start("  rate_limits: { per_tenant: { per_second: 1, burst: 5 } }\n").await;
    let contact = d.a_contact().await;
    let (mut ok, mut limited) = (0, 0);
    // Two callers on the same tenant share its bucket.
    for caller in ["cn-app", "eu-app"] {
        let client = crm(d.as_cert(caller).await);
        for _ in 0..5 {
            match client.clone().get(get_request(&contact)).await {
                Ok(_) => ok += 1,
                Err(s) if s.code() == tonic::Code::ResourceExhausted => {
                    assert!(s.message().contains("tenant \"cn-hq\""), "{s}");
                    limited += 1;
                }
                Err(s) => panic!("{s}"),
            }
        }
    }
    // Five at once, then one a second: the ten calls take well under two seconds.
    assert!((5..=6).contains(&ok), "{ok} admitted");
    assert_eq!(ok + limited, 10);
}
