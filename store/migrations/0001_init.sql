-- DSS store, version 1. One schema for SQLite and PostgreSQL: only BIGINT, TEXT and INTEGER
-- columns, no auto-increment (sequences are assigned by the store under a row lock on
-- `sequences` and `transfer_log_heads`), JSON kept as TEXT.

-- CRM domain records, tenant-scoped, with their version.
CREATE TABLE records (
    tenant      TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    subject     TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    body        TEXT    NOT NULL,
    feed_seq    BIGINT  NOT NULL,
    PRIMARY KEY (tenant, object, id)
);
CREATE INDEX records_subject ON records (subject);

-- Per-tenant monotonic change feed that sources read from.
CREATE TABLE change_feed (
    tenant   TEXT   NOT NULL,
    seq      BIGINT NOT NULL,
    object   TEXT   NOT NULL,
    id       TEXT   NOT NULL,
    version  BIGINT NOT NULL,
    op       TEXT   NOT NULL,
    PRIMARY KEY (tenant, seq)
);

-- Named gap-free sequences (`feed:<tenant>`, `outbox`, `dead_letters`).
CREATE TABLE sequences (
    name TEXT   NOT NULL PRIMARY KEY,
    seq  BIGINT NOT NULL
);

-- Transformed records waiting to be published, per destination.
CREATE TABLE outbox (
    seq          BIGINT NOT NULL PRIMARY KEY,
    destination  TEXT   NOT NULL,
    pipeline     TEXT   NOT NULL,
    tenant       TEXT   NOT NULL,
    object       TEXT   NOT NULL,
    id           TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    op           TEXT   NOT NULL,
    body         TEXT   NOT NULL,
    published    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (destination, published, seq);

-- The transfer log: append-only, hash-chained per region.
CREATE TABLE transfer_log (
    region               TEXT   NOT NULL,
    seq                  BIGINT NOT NULL,
    ts                   TEXT   NOT NULL,
    pipeline             TEXT   NOT NULL,
    run_id               TEXT   NOT NULL,
    origin_region        TEXT   NOT NULL,
    origin_jurisdiction  TEXT   NOT NULL,
    dest_region          TEXT   NOT NULL,
    dest_jurisdiction    TEXT   NOT NULL,
    object               TEXT   NOT NULL,
    record_id            TEXT   NOT NULL,
    subject              TEXT,
    decision             TEXT   NOT NULL,
    fields               TEXT   NOT NULL,
    reasons              TEXT   NOT NULL,
    legal_basis          TEXT,
    conditions           TEXT   NOT NULL,
    policy_version       TEXT   NOT NULL,
    prev_hash            TEXT   NOT NULL,
    hash                 TEXT   NOT NULL,
    PRIMARY KEY (region, seq)
);
CREATE INDEX transfer_log_subject ON transfer_log (subject);

CREATE TABLE transfer_log_heads (
    region TEXT   NOT NULL PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT   NOT NULL
);

-- Source cursors and sink positions.
CREATE TABLE checkpoints (
    name      TEXT NOT NULL PRIMARY KEY,
    position  TEXT NOT NULL
);

-- The durable token vault: sealed values only (AES-256-GCM ciphertext), never plaintext.
CREATE TABLE vault (
    token       TEXT NOT NULL PRIMARY KEY,
    subject     TEXT,
    key_id      TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    ciphertext  TEXT NOT NULL
);
CREATE INDEX vault_subject ON vault (subject);

-- Records that could not be read, mapped or written; kept in the origin region.
CREATE TABLE dead_letters (
    seq       BIGINT NOT NULL PRIMARY KEY,
    ts        TEXT   NOT NULL,
    pipeline  TEXT   NOT NULL,
    stage     TEXT   NOT NULL,
    object    TEXT,
    record_id TEXT,
    reason    TEXT   NOT NULL,
    payload   TEXT
);
