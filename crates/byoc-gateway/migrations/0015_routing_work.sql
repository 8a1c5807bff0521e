-- The workstream router's waiting set: per conversation waiting in a queue or offered to an
-- agent, what the router needs to take it up again after a restart (its queue, priority,
-- time entered, skills, preferred agent, decliners, failed offers, the offer outstanding and
-- until when), as the router's own JSON record. Rewritten with every step that moves it.
-- Writes decided in one order may commit in another (they are decided under the routing
-- lock and committed after it), so each carries the version it was decided at and a row is
-- only replaced by a later one; a conversation that left the waiting set keeps a row
-- without `item` until pruning deletes it (after the dedupe retention). Times are milliseconds since the Unix
-- epoch (UTC). Numbered after the issue that added it.
CREATE TABLE routing_work (
    conversation_id TEXT    PRIMARY KEY,
    workstream      TEXT    NOT NULL,
    conv_key        TEXT    NOT NULL,
    item            TEXT,
    version         INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
