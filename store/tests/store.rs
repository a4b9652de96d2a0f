//! One store test suite, run against SQLite and PostgreSQL.
//!
//! PostgreSQL tests need `DSS_TEST_POSTGRES_URL` (a role that may create databases, e.g.
//! `postgres://dss:dss@127.0.0.1/dss_test`); each test gets a database of its own. `.ci/run`
//! installs and starts a server and sets it; without it the PostgreSQL half says it skipped.

use dss_core::Record;
use dss_core::vault::{SealedValue, VaultEntry};
use dss_store::dead_letters::DeadLetter;
use dss_store::ledger::{self, FieldAction, Transfer};
use dss_store::outbox::OutboxRow;
use dss_store::{Backend, Store};

fn transfer(n: usize) -> Transfer {
    Transfer {
        timestamp: format!("2026-11-27T10:00:{:02}Z", n % 60),
        pipeline: "eu-to-hq".into(),
        run_id: "run-1".into(),
        origin_region: "eu-frankfurt".into(),
        origin_jurisdiction: "DE".into(),
        dest_region: "cn-beijing".into(),
        dest_jurisdiction: "CN".into(),
        object: "contact".into(),
        record_id: format!("con-{n}"),
        subject: Some(format!("tok_k1_subject{n:015}")),
        decision: "transfer".into(),
        fields: vec![FieldAction {
            path: "name".into(),
            class: "personal.name".into(),
            action: "tokenize".into(),
            rule: "level:light:DE".into(),
        }],
        reasons: vec![],
        legal_basis: Some("contract".into()),
        conditions: vec!["standard_contract".into()],
        policy_version: "91a7a04be0b3c96b".into(),
    }
}

async fn chain(store: &Store, region: &str, n: usize) -> Vec<i64> {
    let mut tx = store.begin().await.unwrap();
    let seqs = tx
        .append_transfers(region, &(1..=n).map(transfer).collect::<Vec<_>>())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    seqs
}

async fn exec(store: &Store, sql: &str) {
    let mut tx = store.begin().await.unwrap();
    tx.raw_execute_for_tests(sql).await.unwrap();
    tx.commit().await.unwrap();
}

/// How many rows `sql` (an `UPDATE … SET x = x WHERE …`) touches, in a transaction rolled
/// back: a count for tests, without a query API the store does not need.
async fn rows_touched(store: &Store, sql: &str) -> u64 {
    let mut tx = store.begin().await.unwrap();
    let n = tx.raw_execute_for_tests(sql).await.unwrap();
    tx.rollback().await.unwrap();
    n
}

async fn tampering(store: &Store, region: &str) -> Option<(i64, String)> {
    ledger::verify(store, region)
        .await
        .unwrap()
        .tampering
        .map(|t| (t.seq, t.what))
}

async fn the_transfer_log_verifies_and_names_the_first_tampered_entry(store: Store) {
    assert_eq!(chain(&store, "clean", 5).await, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        chain(&store, "clean", 3).await,
        vec![6, 7, 8],
        "a second batch continues the chain"
    );
    let v = ledger::verify(&store, "clean").await.unwrap();
    assert_eq!((v.entries, v.tampering), (8, None));

    chain(&store, "edit", 5).await;
    exec(
        &store,
        "UPDATE transfer_log SET decision = 'block' WHERE region = 'edit' AND seq = 3",
    )
    .await;
    let (seq, what) = tampering(&store, "edit").await.unwrap();
    assert_eq!(seq, 3);
    assert!(what.contains("does not match its hash"), "{what}");

    chain(&store, "delete", 5).await;
    exec(
        &store,
        "DELETE FROM transfer_log WHERE region = 'delete' AND seq = 2",
    )
    .await;
    assert_eq!(
        tampering(&store, "delete").await.unwrap(),
        (2, "entry 2 is missing (the next stored entry is 3)".into())
    );

    chain(&store, "swap", 5).await;
    exec(
        &store,
        "UPDATE transfer_log SET seq = 100 WHERE region = 'swap' AND seq = 2",
    )
    .await;
    exec(
        &store,
        "UPDATE transfer_log SET seq = 2 WHERE region = 'swap' AND seq = 3",
    )
    .await;
    exec(
        &store,
        "UPDATE transfer_log SET seq = 3 WHERE region = 'swap' AND seq = 100",
    )
    .await;
    assert_eq!(tampering(&store, "swap").await.unwrap().0, 2);

    chain(&store, "truncate", 5).await;
    exec(
        &store,
        "DELETE FROM transfer_log WHERE region = 'truncate' AND seq = 5",
    )
    .await;
    let (seq, what) = tampering(&store, "truncate").await.unwrap();
    assert_eq!(seq, 5);
    assert!(what.contains("removed from the end"), "{what}");

    let filter = ledger::Filter {
        subject: Some("tok_k1_subject000000000000002".into()),
        ..ledger::Filter::default()
    };
    let found = store
        .query_transfers("clean", &filter, 0, 100)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 7]);
    let filter = ledger::Filter {
        since: Some("2026-11-27T10:00:03Z".into()),
        decision: Some("transfer".into()),
        ..ledger::Filter::default()
    };
    assert_eq!(
        store
            .query_transfers("clean", &filter, 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![3, 4, 5, 8]
    );
    let none = ledger::Filter {
        decision: Some("block".into()),
        ..ledger::Filter::default()
    };
    assert!(
        store
            .query_transfers("clean", &none, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );

    let (routes, subjects) = store.report("clean", None, None).await.unwrap();
    assert_eq!(routes.len(), 1);
    assert_eq!(
        (
            routes[0].dest_jurisdiction.as_str(),
            routes[0].object.as_str(),
            routes[0].decision.as_str(),
            routes[0].count
        ),
        ("CN", "contact", "transfer", 8)
    );
    assert_eq!(subjects.len(), 1);
    assert_eq!(
        (
            subjects[0].year.as_str(),
            subjects[0].subjects,
            subjects[0].sensitive_subjects
        ),
        ("2026", 5, 0),
        "8 transfers of 5 distinct subjects"
    );

    let entries = store.transfers("clean", 6, 10).await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![7, 8]
    );
    assert_eq!(entries[0].transfer, transfer(2));
    assert_eq!(
        entries[0].prev_hash,
        store.transfers("clean", 5, 1).await.unwrap()[0].hash
    );
}

fn record(id: &str, version: u64, name: &str) -> Record {
    let json = format!(
        r#"{{"id":"{id}","object":"contact","tenant":"cn-hq","region":"cn-beijing","version":{version},"fields":{{"name":"{name}"}}}}"#
    );
    Record::from_json(json.as_bytes()).unwrap()
}

async fn records_are_idempotent_by_version_and_feed_changes_in_order(store: Store) {
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.upsert_record(&record("c1", 1, "a"), Some("s1"))
            .await
            .unwrap()
    );
    assert!(
        !tx.upsert_record(&record("c1", 1, "a"), Some("s1"))
            .await
            .unwrap(),
        "same version: no change"
    );
    assert!(
        tx.upsert_record(&record("c1", 3, "c"), Some("s1"))
            .await
            .unwrap()
    );
    assert!(
        !tx.upsert_record(&record("c1", 2, "b"), Some("s1"))
            .await
            .unwrap(),
        "older version: ignored"
    );
    assert!(
        tx.upsert_record(&record("c2", 1, "x"), Some("s2"))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let stored = store
        .record("cn-hq", "contact", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.record.version, stored.deleted), (3, false));
    assert_eq!(
        stored.record.fields.get("name").unwrap().as_str(),
        Some("c")
    );
    assert_eq!(store.count_records("cn-hq").await.unwrap(), 2);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_record("cn-hq", "contact", "c1", 4).await.unwrap());
    assert!(
        !tx.upsert_record(&record("c1", 3, "c"), Some("s1"))
            .await
            .unwrap(),
        "a late older upsert does not resurrect"
    );
    assert!(
        tx.delete_record("cn-hq", "contact", "never", 1)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert!(
        store
            .record("cn-hq", "contact", "c1")
            .await
            .unwrap()
            .unwrap()
            .deleted
    );
    assert_eq!(store.count_records("cn-hq").await.unwrap(), 1);
    assert_eq!(
        store.records_of_subject("s2").await.unwrap(),
        vec![("cn-hq".into(), "contact".into(), "c2".into())]
    );

    let changes = store.changes("cn-hq", 0, 100).await.unwrap();
    let seen: Vec<(i64, &str, i64, &str)> = changes
        .iter()
        .map(|c| (c.seq, c.id.as_str(), c.version, c.op.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (1, "c1", 1, "upsert"),
            (2, "c1", 3, "upsert"),
            (3, "c2", 1, "upsert"),
            (4, "c1", 4, "delete"),
            (5, "never", 1, "delete")
        ]
    );
    assert_eq!(store.changes("cn-hq", 3, 1).await.unwrap()[0].seq, 4);
    assert!(
        store
            .changes("other-tenant", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn batched_upserts_keep_the_newest_version_and_feed_what_changed(store: Store) {
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.upsert_record(&record("c1", 5, "e"), Some("s1"))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let batch: Vec<(Record, Option<String>)> = vec![
        (record("c1", 4, "d"), None),
        (record("c2", 1, "a"), Some("s2".into())),
        (record("c2", 2, "b"), Some("s2".into())),
        (record("c3", 1, "x"), None),
    ];
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.upsert_records(&batch).await.unwrap(),
        2,
        "c1 is older than stored; c2 twice counts once"
    );
    assert_eq!(
        tx.upsert_records(&batch).await.unwrap(),
        0,
        "the same batch again changes nothing"
    );
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .record("cn-hq", "contact", "c1")
            .await
            .unwrap()
            .unwrap()
            .record
            .version,
        5
    );
    assert_eq!(
        store
            .record("cn-hq", "contact", "c2")
            .await
            .unwrap()
            .unwrap()
            .record
            .version,
        2
    );
    let feed: Vec<(String, i64)> = store
        .changes("cn-hq", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.version))
        .collect();
    assert_eq!(
        feed,
        vec![("c1".into(), 5), ("c2".into(), 2), ("c3".into(), 1)]
    );
    let many: Vec<(Record, Option<String>)> = (0..1000)
        .map(|i| (record(&format!("m{i}"), 1, "m"), None))
        .collect();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.upsert_records(&many).await.unwrap(), 1000);
    tx.commit().await.unwrap();
    assert_eq!(store.count_records("cn-hq").await.unwrap(), 1003);
}

fn outbox_row(id: &str) -> OutboxRow {
    OutboxRow {
        seq: 0,
        destination: "cn-beijing".into(),
        pipeline: "eu-to-hq".into(),
        tenant: "cn-hq".into(),
        object: "contact".into(),
        id: id.into(),
        version: 1,
        op: "upsert".into(),
        body: "{}".into(),
    }
}

async fn outbox_rows_and_log_entries_commit_or_roll_back_together(store: Store) {
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(&outbox_row("a")).await.unwrap();
    tx.append_transfers("eu-frankfurt", &[transfer(1)])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(store.pending("cn-beijing", 10).await.unwrap().is_empty());
    assert_eq!(
        ledger::verify(&store, "eu-frankfurt")
            .await
            .unwrap()
            .entries,
        0
    );

    let mut tx = store.begin().await.unwrap();
    let s1 = tx.enqueue(&outbox_row("a")).await.unwrap();
    let s2 = tx.enqueue_all(&[outbox_row("b")]).await.unwrap();
    tx.append_transfers("eu-frankfurt", &[transfer(1), transfer(2)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (s1, s2),
        (1, 2),
        "sequences restart where the rolled-back transaction left nothing"
    );
    let pending = store.pending("cn-beijing", 10).await.unwrap();
    assert_eq!(
        pending.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["a", "b"]
    );
    store.mark_published("cn-beijing", s1).await.unwrap();
    assert_eq!(store.pending("cn-beijing", 10).await.unwrap()[0].id, "b");
    store.mark_published("cn-beijing", 0).await.unwrap();
    assert_eq!(
        store.pending("cn-beijing", 10).await.unwrap().len(),
        1,
        "the cursor never moves back"
    );
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(&OutboxRow {
        destination: "hk-central".into(),
        ..outbox_row("c")
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    store.mark_published("cn-beijing", s2).await.unwrap();
    assert!(store.pending("cn-beijing", 10).await.unwrap().is_empty());
    assert_eq!(
        rows_touched(&store, "UPDATE outbox SET seq = seq").await,
        1,
        "published rows are deleted; another destination's pending row stays"
    );
    assert_eq!(store.pending("hk-central", 10).await.unwrap()[0].id, "c");
    assert_eq!(
        ledger::verify(&store, "eu-frankfurt")
            .await
            .unwrap()
            .entries,
        2
    );
}

async fn checkpoints_vault_and_dead_letters(store: Store) {
    assert_eq!(store.checkpoint("src").await.unwrap(), None);
    store.set_checkpoint("src", "41").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.set_checkpoint("src", "42").await.unwrap();
    let entry = VaultEntry {
        token: "tok_k1_aaaaaaaaaaaaaaaaaaaaaa".into(),
        subject: Some("s1".into()),
        sealed: SealedValue {
            key_id: "k1".into(),
            nonce: [7; 12],
            ciphertext: vec![1, 2, 3],
        },
    };
    // The token of subject s1 itself, and another subject's value.
    let own = VaultEntry {
        token: "s1".into(),
        ..entry.clone()
    };
    let other = VaultEntry {
        token: "tok_k1_bbbbbbbbbbbbbbbbbbbbbb".into(),
        subject: Some("s2".into()),
        ..entry.clone()
    };
    tx.put_vault(&entry).await.unwrap();
    tx.put_vault_all(&[entry.clone(), own.clone(), other.clone(), entry.clone()])
        .await
        .unwrap();
    let d = DeadLetter {
        seq: 0,
        timestamp: "2026-11-27T10:00:00Z".into(),
        pipeline: "p".into(),
        stage: "read".into(),
        object: None,
        record_id: None,
        reason: "invalid JSON at column 3".into(),
    };
    assert_eq!(tx.dead_letter(&d, Some("{bad")).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(
        store.checkpoint("src").await.unwrap().as_deref(),
        Some("42")
    );
    assert_eq!(
        store.vault_get(&entry.token).await.unwrap(),
        Some(entry.sealed.clone())
    );
    assert_eq!(
        store.vault_tokens_of_subject("s1").await.unwrap(),
        vec![own.token.clone(), entry.token.clone()]
    );
    assert_eq!(store.shred_subject("s1").await.unwrap(), 2);
    assert_eq!(store.vault_get(&entry.token).await.unwrap(), None);
    assert_eq!(store.vault_get(&own.token).await.unwrap(), None);
    assert_eq!(
        store.vault_get(&other.token).await.unwrap(),
        Some(other.sealed.clone()),
        "another subject's entry stays"
    );
    let listed = store.dead_letters(0, 10).await.unwrap();
    assert_eq!(listed, vec![DeadLetter { seq: 1, ..d }]);
    assert_eq!(
        store.dead_letter_payload(1).await.unwrap().as_deref(),
        Some("{bad")
    );
}

async fn verification_crosses_pages_and_keeps_exact_texts(store: Store) {
    // More entries than one verification page, with texts JSON must escape.
    let mut log: Vec<Transfer> = (1..=2_100).map(transfer).collect();
    log[10].reasons = vec!["quote \" backslash \\ newline \n tab \t ü 中 \u{1}".into()];
    let mut tx = store.begin().await.unwrap();
    tx.append_transfers("big", &log).await.unwrap();
    tx.commit().await.unwrap();
    let v = ledger::verify(&store, "big").await.unwrap();
    assert_eq!((v.entries, v.tampering), (2_100, None));
    exec(
        &store,
        "UPDATE transfer_log SET record_id = 'con-x' WHERE region = 'big' AND seq = 2050",
    )
    .await;
    let (seq, what) = tampering(&store, "big").await.unwrap();
    assert_eq!(seq, 2050, "{what}");
}

async fn subjects_are_counted_per_destination_and_year(store: Store) {
    let mut log: Vec<Transfer> = (1..=6).map(transfer).collect();
    log[1].subject = log[0].subject.clone(); // the same person twice
    log[2].decision = "block".into(); // not sent: not counted
    log[3].dest_jurisdiction = "HK".into(); // another destination
    log[4].timestamp = "2025-12-31T23:59:59Z".into(); // last year
    let mut tx = store.begin().await.unwrap();
    tx.append_transfers("eu-frankfurt", &log).await.unwrap();
    tx.commit().await.unwrap();
    let count = |region: &'static str, dest: &'static str, year| {
        let store = store.clone();
        async move {
            store
                .subjects_transferred(region, dest, year)
                .await
                .unwrap()
        }
    };
    // Subjects 1 and 6 (subject 1 twice).
    assert_eq!(count("eu-frankfurt", "CN", 2026).await, 2);
    assert_eq!(count("eu-frankfurt", "CN", 2025).await, 1);
    assert_eq!(count("eu-frankfurt", "HK", 2026).await, 1);
    let asked: Vec<String> = log.iter().filter_map(|t| t.subject.clone()).collect();
    let known = |year| {
        let (store, asked) = (store.clone(), asked.clone());
        async move {
            let mut known: Vec<String> = store
                .subjects_already_transferred("eu-frankfurt", "CN", year, &asked)
                .await
                .unwrap()
                .into_iter()
                .collect();
            known.sort();
            known
        }
    };
    assert_eq!(
        known(2026).await,
        [
            log[0].subject.clone().unwrap(),
            log[5].subject.clone().unwrap()
        ]
    );
    assert_eq!(known(2025).await, [log[4].subject.clone().unwrap()]);

    // A later append: subject 1 again counts once; subject 3, blocked before, now sent; another
    // region's log counts apart.
    let again = vec![log[0].clone(), transfer(3)];
    let mut tx = store.begin().await.unwrap();
    tx.append_transfers("eu-frankfurt", &again).await.unwrap();
    tx.append_transfers("ap-hongkong", &again).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count("eu-frankfurt", "CN", 2026).await, 3);
    assert_eq!(count("ap-hongkong", "CN", 2026).await, 2);
    assert_eq!(known(2026).await.len(), 3);
}

/// Thresholds read the head-count tables, outside the hash chain: `verify` checks them
/// against the distinct subjects of the log's transfers.
async fn verify_checks_the_head_counts_that_thresholds_read(store: Store) {
    let mixed = || {
        let mut log: Vec<Transfer> = (1..=7).map(transfer).collect();
        log[1].subject = log[0].subject.clone(); // the same person twice
        log[2].decision = "block".into(); // not sent: not counted
        log[3].dest_jurisdiction = "HK".into();
        log[4].timestamp = "2025-12-31T23:59:59Z".into();
        log[6].subject = None; // no data subject
        log
    };
    for region in ["clean", "edited", "planted"] {
        let mut tx = store.begin().await.unwrap();
        tx.append_transfers(region, &mixed()).await.unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(tampering(&store, "clean").await, None);

    // A count lowered, so that a threshold would be passed later than it should.
    exec(
        &store,
        "UPDATE transfer_subject_counts SET subjects = subjects - 1 \
         WHERE region = 'edited' AND dest_jurisdiction = 'CN' AND year = '2026'",
    )
    .await;
    let (seq, what) = tampering(&store, "edited").await.unwrap();
    assert_eq!(seq, 0, "no entry is bad: {what}");
    assert!(
        what.contains("sent to CN in 2026 is 1 but the log holds 2"),
        "{what}"
    );

    // A subject planted as already counted: sending them later does not count them.
    exec(
        &store,
        "INSERT INTO transfer_subjects (region, dest_jurisdiction, year, subject) \
         VALUES ('planted', 'CN', '2026', 'tok_k1_subject000000000000009')",
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    tx.append_transfers("planted", &[transfer(9)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (seq, what) = tampering(&store, "planted").await.unwrap();
    assert_eq!(seq, 0, "{what}");
    assert!(
        what.contains("sent to CN in 2026 is 2 but the log holds 3"),
        "{what}"
    );

    // A count removed altogether.
    exec(
        &store,
        "DELETE FROM transfer_subject_counts WHERE region = 'clean' AND dest_jurisdiction = 'HK'",
    )
    .await;
    let (_, what) = tampering(&store, "clean").await.unwrap();
    assert!(
        what.contains("sent to HK in 2026 is 0 but the log holds 1"),
        "{what}"
    );
}

async fn field_actions_are_stored_once_per_list_and_checked_by_verify(store: Store) {
    let mut log: Vec<Transfer> = (1..=6).map(transfer).collect();
    log[3].fields = vec![]; // short enough to stay inline
    log[4].fields.push(FieldAction {
        path: "health".into(),
        class: "sensitive.health".into(),
        action: "block".into(),
        rule: "level:strong:CN".into(),
    });
    // Reasons and conditions that repeat, change and come back (written once per run of
    // equal lists): each entry must read back its own.
    for t in &mut log[1..3] {
        t.reasons = vec!["held back".into()];
    }
    log[4].reasons = vec!["held back".into(), "and why".into()];
    log[3].conditions = vec![];
    log[5].conditions = vec!["standard_contract".into(), "regulator_filing".into()];
    let mut tx = store.begin().await.unwrap();
    tx.append_transfers("sets", &log).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        rows_touched(&store, "UPDATE field_action_sets SET id = id").await,
        2,
        "two distinct lists longer than an id"
    );
    assert_eq!(
        rows_touched(
            &store,
            "UPDATE transfer_log SET seq = seq WHERE fields LIKE '[%'"
        )
        .await,
        1,
        "only the empty list is inline"
    );
    let read = store
        .query_transfers("sets", &ledger::Filter::default(), 0, 100)
        .await
        .unwrap();
    assert_eq!(
        read.into_iter().map(|e| e.transfer).collect::<Vec<_>>(),
        log,
        "entries read back with their field actions"
    );
    let (_, subjects) = store.report("sets", None, None).await.unwrap();
    assert_eq!(
        (subjects[0].subjects, subjects[0].sensitive_subjects),
        (6, 1)
    );
    assert_eq!(
        ledger::verify(&store, "sets").await.unwrap().tampering,
        None
    );

    exec(
        &store,
        "UPDATE field_action_sets SET actions = REPLACE(actions, 'block', 'pass') \
         WHERE actions LIKE '%sensitive%'",
    )
    .await;
    let (seq, what) = tampering(&store, "sets").await.unwrap();
    assert_eq!(seq, 5, "{what}");
    assert!(what.contains("do not match their id"), "{what}");
    exec(
        &store,
        "DELETE FROM field_action_sets WHERE actions NOT LIKE '%sensitive%'",
    )
    .await;
    let (seq, what) = tampering(&store, "sets").await.unwrap();
    assert_eq!(seq, 1, "{what}");
    assert!(what.contains("are missing"), "{what}");
}

mod support;

store_suite!(
    the_transfer_log_verifies_and_names_the_first_tampered_entry,
    batched_upserts_keep_the_newest_version_and_feed_what_changed,
    records_are_idempotent_by_version_and_feed_changes_in_order,
    outbox_rows_and_log_entries_commit_or_roll_back_together,
    checkpoints_vault_and_dead_letters,
    subjects_are_counted_per_destination_and_year,
    verify_checks_the_head_counts_that_thresholds_read,
    verification_crosses_pages_and_keeps_exact_texts,
    field_actions_are_stored_once_per_list_and_checked_by_verify,
);

/// Commits append to SQLite's write-ahead log and a checkpointer thread copies it into the
/// database file, so the log is reused instead of growing with everything ever written. The
/// checkpointer runs at most every 150 ms, so commits here come 250 ms apart: each checkpoint
/// then completes while no transaction is open, and the next commit starts the log over. (A
/// checkpoint that lands inside a transaction leaves the log to grow until one does not, or
/// until it holds 64 MB; with commits 60 ms apart that made this test fail under load.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_write_ahead_log_is_checkpointed_off_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::sqlite(dir.path()).await;
    let wal = dir.path().join("region.db-wal");
    let mut written = 0;
    for round in 0..30 {
        let log: Vec<Transfer> = (round * 500..(round + 1) * 500).map(transfer).collect();
        written += log.len();
        let mut tx = store.begin().await.unwrap();
        tx.append_transfers("r", &log).await.unwrap();
        tx.commit().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let db_len = std::fs::metadata(dir.path().join("region.db"))
        .unwrap()
        .len();
    let wal_len = std::fs::metadata(&wal).unwrap().len();
    assert!(
        wal_len * 3 < db_len,
        "the log holds {wal_len} bytes, the database {db_len} after {written} entries"
    );
    let v = ledger::verify(&store, "r").await.unwrap();
    assert_eq!((v.entries, v.tampering), (written as u64, None));
}

/// A store closed and opened again (migrations run again on an up-to-date database) has what
/// was committed, and nothing of a transaction dropped before committing.
#[tokio::test]
async fn sqlite_reopening_keeps_what_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::sqlite(dir.path()).await;
    assert_eq!(store.backend(), Backend::Sqlite);
    chain(&store, "r", 3).await;
    let mut tx = store.begin().await.unwrap();
    tx.upsert_record(&record("con-1", 1, "Ann"), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.upsert_record(&record("con-2", 1, "Bo"), None)
        .await
        .unwrap();
    drop(tx);
    store.close().await;
    drop(store);
    let store = support::sqlite(dir.path()).await;
    let v = ledger::verify(&store, "r").await.unwrap();
    assert_eq!((v.entries, v.tampering), (3, None));
    let versions = store.record_versions("cn-hq").await.unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
}
