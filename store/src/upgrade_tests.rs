//! Stores written under an older schema open with their data intact: the migrations that
//! rebuild tables or rewrite columns keep what they move.

use sqlx::Connection as _;

use super::{MIGRATOR, Store};

/// Creates a SQLite store at `path` migrated up to `version` only, then runs `statements`.
async fn old_store(path: &std::path::Path, version: i64, statements: &'static str) {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    MIGRATOR.run_to(version, &mut conn).await.unwrap();
    sqlx::raw_sql(statements).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schema_5_store_keeps_its_pending_outbox_rows_and_its_subjects_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    old_store(
        &path,
        5,
        "INSERT INTO outbox (seq, destination, pipeline, tenant, object, id, version, op, body) \
         VALUES (1, 'hq', 'p', 't', 'contact', 'c1', 1, 'upsert', '{\"n\":1}'), \
                (2, 'hq', 'p', 't', 'contact', 'c2', 3, 'upsert', '{\"n\":2}'), \
                (3, 'eu', 'q', 't', 'contact', 'c3', 1, 'delete', 'null'); \
         INSERT INTO checkpoints (name, position) VALUES ('outbox-published:hq', '1'); \
         INSERT INTO vault (token, subject, key_id, nonce, ciphertext) \
         VALUES ('tok_a', 'tok_a', 'k1', 'bg==', 'Yw=='), \
                ('tok_b', 'tok_a', 'k1', 'bg==', 'Yw=='), \
                ('tok_c', 'tok_z', 'k1', 'bg==', 'Yw==');",
    )
    .await;

    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    // Migration 0006 rebuilt the outbox: what was not yet published is still there.
    let hq = store.pending("hq", 10).await.unwrap();
    assert_eq!(
        hq.iter()
            .map(|r| (r.seq, r.id.as_str(), r.version, r.body.as_str()))
            .collect::<Vec<_>>(),
        [(2, "c2", 3, "{\"n\":2}")]
    );
    let eu = store.pending("eu", 10).await.unwrap();
    assert_eq!((eu.len(), eu[0].op.as_str()), (1, "delete"));
    // Migration 0007 cleared `subject` where it repeated the token: still found by subject.
    assert_eq!(
        store.vault_tokens_of_subject("tok_a").await.unwrap(),
        ["tok_a", "tok_b"]
    );
    assert_eq!(store.shred_subject("tok_a").await.unwrap(), 2);
    assert_eq!(
        store.vault_tokens_of_subject("tok_z").await.unwrap(),
        ["tok_c"]
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schema_7_log_is_head_counted_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    // Two transfers of subject a (2026), one of b in 2025, a block of c, a subject-less entry.
    let row = |seq: i64, ts: &str, subject: &str, decision: &str| {
        format!(
            "INSERT INTO transfer_log VALUES ('eu', {seq}, '{ts}', 'p', 'r', 'eu', 'DE', 'hq', 'CN', \
             'contact', 'c{seq}', {subject}, '{decision}', '[]', '[]', NULL, '[]', 'v', 'h{}', 'h{seq}');",
            seq - 1
        )
    };
    let rows = [
        row(1, "2026-02-01T00:00:00Z", "'tok_a'", "transfer"),
        row(2, "2026-03-01T00:00:00Z", "'tok_a'", "transfer"),
        row(3, "2025-03-01T00:00:00Z", "'tok_b'", "transfer"),
        row(4, "2026-03-01T00:00:00Z", "'tok_c'", "block"),
        row(5, "2026-03-01T00:00:00Z", "NULL", "transfer"),
    ]
    .concat();
    old_store(&path, 7, Box::leak(rows.into_boxed_str())).await;

    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(
        store.subjects_transferred("eu", "CN", 2026).await.unwrap(),
        1
    );
    assert_eq!(
        store.subjects_transferred("eu", "CN", 2025).await.unwrap(),
        1
    );
    let asked = ["tok_a", "tok_b", "tok_c"].map(String::from);
    assert_eq!(
        store
            .subjects_already_transferred("eu", "CN", 2026, &asked)
            .await
            .unwrap(),
        ["tok_a".to_owned()].into()
    );
    store.close().await;
}
