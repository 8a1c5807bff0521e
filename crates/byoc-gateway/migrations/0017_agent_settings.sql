-- An agent's own routing settings, chosen through the agent API and kept across restarts.

-- The queues an agent signed in to or out of (an agent without a row for a queue that
-- lists it works that queue).
CREATE TABLE agent_queues (
    agent_id   TEXT    NOT NULL,
    queue      TEXT    NOT NULL,
    joined     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, queue)
);

-- An agent's own capacity, overriding its workstreams' (conversations, or the units of
-- its capacity profile); no row: as configured.
CREATE TABLE agent_capacity (
    agent_id   TEXT    PRIMARY KEY,
    capacity   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
