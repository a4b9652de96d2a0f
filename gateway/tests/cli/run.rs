//! `dss run` and `dss audit …` on a small three-region deployment in a temporary directory.

use std::path::Path;

use super::policy::{dss, dss_command, text};

const CONFIG: &str = r#"
version: 1
data_dir: data
regions:
  eu-frankfurt: {}
  cn-beijing: {}
  ru-moscow: {}
tenants:
  eu-sales: { region: eu-frankfurt, seed: { accounts: 40, contacts: 150, orders: 60, seed: 5 } }
  cn-hq: { region: cn-beijing, seed: { products: 20, seed: 6 } }
  ru-partner: { region: ru-moscow }
pipelines:
  eu-to-hq:
    source: { connector: crm, region: eu-frankfurt, tenant: eu-sales }
    destination: { connector: crm, region: cn-beijing, tenant: cn-hq }
    objects: [account, contact, order]
    purpose: crm_sync
    legal_basis: contract
    conditions: [standard_contract]
    max_batch_records: 64
  eu-to-ru:
    source: { connector: crm, region: eu-frankfurt, tenant: eu-sales }
    destination: { connector: crm, region: ru-moscow, tenant: ru-partner }
    objects: [contact]
    purpose: partner_sync
    legal_basis: contract
    conditions: [standard_contract]
"#;

fn deployment() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dss.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let path = config.display().to_string();
    (dir, path)
}

/// Runs one pipeline of the deployment and asserts it succeeded.
fn run_ok(config: &str, pipeline: &str) {
    let out = dss(&["run", "--config", config, "--pipeline", pipeline]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Runs `f` on the store at `db`, on a runtime of its own, and closes the store.
fn with_store<T>(db: &Path, f: impl AsyncFnOnce(&dss_store::Store) -> T) -> T {
    let url = format!("sqlite://{}", db.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = dss_store::Store::open(&url).await.unwrap();
        let out = f(&store).await;
        store.close().await;
        out
    })
}

fn sql(db: &Path, statement: &str) {
    with_store(db, async |store| {
        let mut tx = store.begin().await.unwrap();
        tx.raw_execute_for_tests(statement).await.unwrap();
        tx.commit().await.unwrap();
    });
}

fn count(db: &Path, tenant: &str) -> i64 {
    with_store(db, async |store| store.count_records(tenant).await.unwrap())
}

/// Rows of `destination` in the outbox of the store at `db` not yet marked published.
fn pending(db: &Path, destination: &str) -> usize {
    with_store(db, async |store| {
        store.pending(destination, 1_000_000).await.unwrap().len()
    })
}

fn summary_row<'a>(stdout: &'a str, pipeline: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find(|l| l.starts_with(pipeline))
        .unwrap_or_else(|| panic!("no row for {pipeline} in\n{stdout}"))
        .split_whitespace()
        .collect()
}

#[test]
fn a_run_syncs_logs_and_blocks_and_a_rerun_sends_nothing_twice() {
    let (dir, config) = deployment();
    let out = dss(&["run", "--config", &config]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}{stdout}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("seeded eu-sales: 250 records"),
        "{}",
        text(&out.stderr)
    );
    let row = summary_row(&stdout, "eu-to-hq");
    let (sent, blocked): (i64, i64) = (row[4].parse().unwrap(), row[5].parse().unwrap());
    assert_eq!(
        sent + blocked,
        250,
        "every record is either sent or blocked: {row:?}"
    );
    assert!(blocked > 0 && sent > 200, "{row:?}");
    let ru = summary_row(&stdout, "eu-to-ru");
    assert_eq!(
        (ru[4], ru[5]),
        ("0", "150"),
        "nothing goes into the strong-control jurisdiction: {ru:?}"
    );

    let data = dir.path().join("data");
    // The destination holds exactly what was sent, next to its own 20 products.
    assert_eq!(count(&data.join("cn-beijing.db"), "cn-hq"), 20 + sent);
    assert_eq!(count(&data.join("ru-moscow.db"), "ru-partner"), 0);
    // What was delivered is marked published, the last batch's rows included.
    assert_eq!(pending(&data.join("eu-frankfurt.db"), "eu-to-hq"), 0);

    // The log of the origin counts one entry per decision, and verifies.
    let log = dss(&[
        "audit",
        "export",
        "--config",
        &config,
        "--region",
        "eu-frankfurt",
        "--pipeline",
        "eu-to-hq",
    ]);
    let entries: Vec<serde_json::Value> = text(&log.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["decision"] == "transfer")
            .count() as i64,
        sent
    );
    assert_eq!(
        entries.iter().filter(|e| e["decision"] == "block").count() as i64,
        blocked
    );
    for e in &entries {
        assert!(
            e["subject"].as_str().unwrap().starts_with("tok_dev1_"),
            "subjects are logged as tokens: {e}"
        );
    }
    let verify = dss(&["audit", "verify", "--config", &config]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));

    // The record of processing counts what the log holds.
    let report = dss(&["audit", "report", "--config", &config, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let to_cn: i64 = report["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["to"] == "cn-beijing" && r["decision"] == "transfer")
        .map(|r| r["count"].as_i64().unwrap())
        .sum();
    assert_eq!(to_cn, sent);
    let heads = report["data_subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["to_jurisdiction"] == "CN")
        .unwrap();
    assert_eq!(
        heads["subjects"].as_i64().unwrap(),
        sent,
        "one synthetic subject per record"
    );

    // A second run finds nothing new: nothing is sent or logged twice.
    let again = dss(&["run", "--config", &config]);
    let again = text(&again.stdout);
    let row = summary_row(&again, "eu-to-hq");
    assert_eq!((row[4], row[5]), ("0", "0"), "{row:?}");
    assert_eq!(count(&data.join("cn-beijing.db"), "cn-hq"), 20 + sent);
}

#[test]
fn editing_deleting_or_swapping_a_log_entry_makes_verify_fail_and_name_it() {
    let cases: [(&[&str], i64, &str); 5] = [
        (
            &["UPDATE transfer_log SET decision = 'edited' WHERE seq = 12"],
            12,
            "does not match its hash",
        ),
        (
            &["UPDATE transfer_log SET dest_region = 'us-washington' WHERE seq = 13"],
            13,
            "does not match its hash",
        ),
        (
            &["DELETE FROM transfer_log WHERE seq = 30"],
            30,
            "entry 30 is missing",
        ),
        (
            &[
                "UPDATE transfer_log SET seq = -1 WHERE seq = 40",
                "UPDATE transfer_log SET seq = 40 WHERE seq = 41",
                "UPDATE transfer_log SET seq = 41 WHERE seq = -1",
            ],
            40,
            "entry 40 does not match its hash",
        ),
        (
            // The field actions entries share are stored once: editing them is tampering
            // with every entry that names them, and the first is reported.
            &[
                "UPDATE field_action_sets SET actions = REPLACE(actions, 'tokenize', 'pass') \
                 WHERE id = (SELECT fields FROM transfer_log WHERE seq = 1)",
            ],
            1,
            "do not match their id",
        ),
    ];
    for (statements, seq, what) in cases {
        let (dir, config) = deployment();
        run_ok(&config, "eu-to-hq");
        let db = dir.path().join("data/eu-frankfurt.db");
        for statement in statements {
            sql(&db, statement);
        }
        let out = dss(&["audit", "verify", "--config", &config]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{statements:?}: {stdout}");
        assert!(
            stdout.contains(&format!("eu-frankfurt: TAMPERED at entry {seq}: "))
                && stdout.contains(what),
            "{statements:?}: {stdout}"
        );
        assert!(
            stdout.contains("cn-beijing: ok"),
            "other regions still verify: {stdout}"
        );
    }
}

#[test]
fn lowering_a_head_count_that_thresholds_read_makes_verify_fail_and_say_so() {
    let (dir, config) = deployment();
    run_ok(&config, "eu-to-hq");
    let verify = || {
        let out = dss(&["audit", "verify", "--config", &config]);
        (out.status.code(), text(&out.stdout))
    };
    assert_eq!(verify().0, Some(0), "{}", verify().1);
    sql(
        &dir.path().join("data/eu-frankfurt.db"),
        "UPDATE transfer_subject_counts SET subjects = subjects - 1",
    );
    let (code, stdout) = verify();
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("eu-frankfurt: TAMPERED: the head-count of subjects sent to CN in ")
            && stdout.contains("the head-count tables were edited"),
        "{stdout}"
    );
}

#[test]
fn environment_variables_override_the_configuration_file() {
    let (dir, config) = deployment();
    let cn = dir.path().join("cn.db");
    let out = dss_command(&["run", "--config", &config, "--pipeline", "eu-to-ru"])
        .env("DSS_DATA_DIR", "elsewhere")
        .env(
            "DSS_REGIONS__CN_BEIJING__STORE",
            format!("sqlite://{}", cn.display()),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.path().join("elsewhere/eu-frankfurt.db").exists());
    assert!(cn.exists());
    assert!(!dir.path().join("data").exists());

    // A bad value names the variable, with the exit code of a configuration problem.
    let out = dss_command(&["audit", "verify", "--config", &config])
        .env("DSS_TENANTS__EU_SALES__REGION", "eu-paris")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "environment variable DSS_TENANTS__EU_SALES__REGION: tenants.eu-sales.region: \
             region \"eu-paris\" is not configured"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_command_for_one_region_opens_no_other_region_store() {
    let (_dir, config) = deployment();
    run_ok(&config, "eu-to-hq");
    // Beijing's database is out of reach: auditing Frankfurt does not touch it.
    let unreachable = (
        "DSS_REGIONS__CN_BEIJING__STORE",
        "sqlite:///nonexistent/dir/cn.db",
    );
    for args in [
        &[
            "audit",
            "verify",
            "--config",
            &config,
            "--region",
            "eu-frankfurt",
        ][..],
        &[
            "audit",
            "query",
            "--config",
            &config,
            "--region",
            "eu-frankfurt",
        ],
        &[
            "audit",
            "dead-letters",
            "--config",
            &config,
            "--region",
            "eu-frankfurt",
        ],
    ] {
        let out = dss_command(args)
            .env(unreachable.0, unreachable.1)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = dss_command(&["audit", "verify", "--config", &config])
        .env(unreachable.0, unreachable.1)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("store of cn-beijing"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_malformed_source_record_goes_to_dead_letters_and_the_pipeline_goes_on() {
    let (dir, config) = deployment();
    // Seed first (running only the pipeline into Russia leaves eu-to-hq untouched).
    run_ok(&config, "eu-to-ru");
    let db = dir.path().join("data/eu-frankfurt.db");
    sql(
        &db,
        "UPDATE records SET body = '{\"id\": broken' WHERE id = 'con-de-000050'",
    );
    let out = dss(&["run", "--config", &config, "--pipeline", "eu-to-hq"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let row = summary_row(&stdout, "eu-to-hq");
    assert_eq!(row[7], "1", "one dead letter: {row:?}");
    let (sent, blocked): (i64, i64) = (row[4].parse().unwrap(), row[5].parse().unwrap());
    assert_eq!(sent + blocked, 249, "the other records went on: {row:?}");
}

#[test]
fn erasing_a_data_subject_deletes_shreds_and_propagates() {
    let (dir, config) = deployment();
    run_ok(&config, "eu-to-hq");
    // A contact that crossed: its subject id follows the generator's numbering.
    let log = dss(&[
        "audit",
        "export",
        "--config",
        &config,
        "--region",
        "eu-frankfurt",
        "--object",
        "contact",
        "--decision",
        "transfer",
        "--limit",
        "1",
    ]);
    let entry: serde_json::Value =
        serde_json::from_str(text(&log.stdout).lines().next().unwrap()).unwrap();
    let record_id = entry["record_id"].as_str().unwrap().to_owned();
    let subject = record_id.replace("con-", "subj-");
    let token = entry["subject"].as_str().unwrap().to_owned();

    let access = |json: bool| {
        let mut args = vec!["dsr", "access", "--config", &config, "--subject", &subject];
        if json {
            args.push("--json");
        }
        let out = dss(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_str::<serde_json::Value>(&text(&out.stdout)).unwrap()
    };
    let before = access(true);
    assert_eq!(before["subject_token"], token.as_str());
    let held: Vec<&str> = before["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["held_as"].as_str().unwrap())
        .collect();
    assert!(
        held.contains(&"identity") && held.contains(&"token"),
        "at home by identity, abroad by token: {before}"
    );
    assert!(
        before["transfers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["to"] == "cn-beijing" && t["legal_basis"] == "contract"),
        "{before}"
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let origin_url = format!(
        "sqlite://{}",
        dir.path().join("data/eu-frankfurt.db").display()
    );
    let dest_url = format!(
        "sqlite://{}",
        dir.path().join("data/cn-beijing.db").display()
    );
    let tokens_before = rt.block_on(async {
        dss_store::Store::open(&origin_url)
            .await
            .unwrap()
            .vault_tokens_of_subject(&token)
            .await
            .unwrap()
    });
    assert!(!tokens_before.is_empty());

    let out = dss(&["dsr", "erase", "--config", &config, "--subject", &subject]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}{stdout}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "erased data subject {token}: 1 records deleted at home, {} vault entries destroyed",
            tokens_before.len()
        )),
        "{stdout}"
    );

    let after = access(true);
    assert!(
        after["records"].as_array().unwrap().is_empty(),
        "no record of the subject remains: {after}"
    );
    rt.block_on(async {
        let origin = dss_store::Store::open(&origin_url).await.unwrap();
        assert!(
            origin
                .vault_tokens_of_subject(&token)
                .await
                .unwrap()
                .is_empty()
        );
        for t in &tokens_before {
            assert_eq!(
                origin.vault_get(t).await.unwrap(),
                None,
                "the vault can no longer detokenize"
            );
        }
        let dest = dss_store::Store::open(&dest_url).await.unwrap();
        assert!(
            dest.record("cn-hq", "contact", &record_id)
                .await
                .unwrap()
                .unwrap()
                .deleted,
            "the destination deleted its copy"
        );
    });
    let deletes = after["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["decision"] == "delete" && t["to"] == "cn-beijing")
        .count();
    assert_eq!(
        deletes, 1,
        "the delete event to the recipient is logged: {after}"
    );
    assert_eq!(
        dss(&["audit", "verify", "--config", &config]).status.code(),
        Some(0)
    );
}

#[test]
fn past_a_head_count_threshold_further_subjects_are_blocked_until_its_condition_is_met() {
    let policies = super::policy::default_policies_with_cn_threshold(5);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dss.yaml");
    let pipeline = |conditions: &str| {
        format!(
            r#"
version: 1
data_dir: data
policies: {}
regions: {{ cn-beijing: {{}}, eu-frankfurt: {{}} }}
tenants:
  cn-hq: {{ region: cn-beijing, seed: {{ contacts: 20, seed: 3 }} }}
  eu-sales: {{ region: eu-frankfurt }}
pipelines:
  hq-to-eu:
    source: {{ connector: crm, region: cn-beijing, tenant: cn-hq }}
    destination: {{ connector: crm, region: eu-frankfurt, tenant: eu-sales }}
    objects: [contact]
    purpose: crm_sync
    legal_basis: contract
    conditions: [{conditions}]
"#,
            policies.path().display()
        )
    };
    std::fs::write(&config, pipeline("standard_contract, regulator_filing")).unwrap();
    let config = config.display().to_string();
    run_ok(&config, "hq-to-eu");
    let eu = dir.path().join("data/eu-frankfurt.db");
    assert_eq!(count(&eu, "eu-sales"), 5, "five people, then the threshold");
    let blocked = dss(&[
        "audit",
        "query",
        "--config",
        &config,
        "--decision",
        "block",
        "--format",
        "json",
    ]);
    let blocked = text(&blocked.stdout);
    assert!(
        blocked.contains("5 distinct data subjects sent to DE since")
            && blocked.contains("reach the threshold of 5 (CAC Provisions")
            && blocked.contains("`security_assessment` is required"),
        "{blocked}"
    );

    // With the assessment in place the route goes on; the records blocked before are not
    // re-read (their log entries say why they did not cross), new changes are.
    std::fs::write(
        dir.path().join("dss.yaml"),
        pipeline("standard_contract, regulator_filing, security_assessment"),
    )
    .unwrap();
    sql(
        &dir.path().join("data/cn-beijing.db"),
        "UPDATE checkpoints SET position = '0' WHERE name = 'pipeline:hq-to-eu:source'",
    );
    run_ok(&config, "hq-to-eu");
    assert!(count(&eu, "eu-sales") > 15, "{}", count(&eu, "eu-sales"));
}
