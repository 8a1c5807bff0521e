-- byoc gateway store, version 1. Times are milliseconds since the Unix epoch (UTC).

-- Every accepted inbound event, in arrival order per ordering key. `dedupe_key` is the
-- provider's message id: a redelivery with the same (channel, dedupe_key) is dropped.
CREATE TABLE inbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel      TEXT    NOT NULL,
    dedupe_key   TEXT,
    conv_key     TEXT    NOT NULL,
    event        TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER
);
CREATE UNIQUE INDEX inbox_dedupe ON inbox (channel, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX inbox_pending ON inbox (conv_key, seq) WHERE processed_at IS NULL;
CREATE INDEX inbox_processed ON inbox (processed_at) WHERE processed_at IS NOT NULL;

-- The current conversation of each ordering key (a closed conversation's key gets a new
-- conversation on the customer's next message).
CREATE TABLE conversation_keys (
    conv_key        TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL
);

CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    conv_key    TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    queue       TEXT,
    owner_kind  TEXT    NOT NULL,
    owner_id    TEXT,
    record      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX conversations_queue ON conversations (queue, state);
CREATE INDEX conversations_owner ON conversations (owner_kind, owner_id, state);

CREATE TABLE transcript (
    conversation_id TEXT    NOT NULL,
    pos             INTEGER NOT NULL,
    author          TEXT    NOT NULL,
    activity        TEXT,
    note            TEXT,
    at              INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, pos)
);

-- Outbound activities. A lane (conversation + target) delivers in id order: only its
-- lowest pending row may be claimed. A claim is a lease that expires.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    lane             TEXT    NOT NULL,
    conversation_id  TEXT    NOT NULL,
    target           TEXT    NOT NULL,
    activity         TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    provider_id      TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
CREATE INDEX outbox_lanes ON outbox (lane, id) WHERE status = 'pending';
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_dead ON outbox (finished_at) WHERE status = 'dead';

CREATE TABLE timers (
    conversation_id TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    conv_key        TEXT    NOT NULL,
    due_at          INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, kind)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE agents (
    id         TEXT PRIMARY KEY,
    presence   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id   TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Direct Line conversations with bots: resumed after a restart from the watermark.
CREATE TABLE bot_sessions (
    conversation_id    TEXT NOT NULL,
    bot_id             TEXT NOT NULL,
    conv_key           TEXT NOT NULL,
    dl_conversation_id TEXT NOT NULL,
    watermark          TEXT,
    active             INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (conversation_id, bot_id)
);
