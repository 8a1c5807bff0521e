-- Relayed contact centers (Dynamics 365 Omnichannel, Salesforce): what ties a byoc
-- conversation to the platform's, and how far each platform's event stream was read.
-- Times are milliseconds since the Unix epoch (UTC). Numbered after the issue that added
-- it, so it never collides with migrations added meanwhile on other lines of work.

-- A byoc conversation's conversation on a platform (the Messaging API conversation id, the
-- Salesforce conversation identifier), recorded when the platform answers. One platform
-- conversation may serve several byoc conversations in turn (Salesforce keeps one
-- conversation per end user across sessions): its events go to the newest.
CREATE TABLE platform_links (
    platform                 TEXT    NOT NULL,
    platform_conversation_id TEXT    NOT NULL,
    conversation_id          TEXT    NOT NULL,
    conv_key                 TEXT    NOT NULL,
    end_user                 TEXT,
    work_item_id             TEXT,
    created_at               INTEGER NOT NULL,
    PRIMARY KEY (platform, platform_conversation_id, conversation_id)
);
CREATE INDEX platform_links_conversation ON platform_links (conversation_id, platform);
CREATE INDEX platform_links_end_user ON platform_links (platform, end_user, created_at);

-- The replay id after the last event persisted from a platform's stream (Salesforce
-- Pub/Sub), written in the same transaction as those events.
CREATE TABLE platform_cursors (
    platform   TEXT PRIMARY KEY,
    replay_id  BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
);
