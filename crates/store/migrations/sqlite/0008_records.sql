-- SQLite flavour of migrations/postgres/0008_records.sql.
-- Versions and an audit trail for the CRM records the API edits: accounts, contacts, leads,
-- activities and targets. Each write of one adds a row to record_changes, keyed by the record
-- and its new version, in the transaction that writes the record, so two writers can never
-- both make version n. Records loaded in bulk (demo, import) start at version 1 with no row.
ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE contacts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE leads ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE activities ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE targets ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE record_changes (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id),
    record_id BLOB NOT NULL,
    version INTEGER NOT NULL,
    record_kind TEXT NOT NULL
        CHECK (record_kind IN ('account', 'contact', 'lead', 'activity', 'target')),
    action TEXT NOT NULL CHECK (action IN ('created', 'changed', 'deleted')),
    actor_id BLOB NOT NULL,
    recorded_at INTEGER NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    PRIMARY KEY (workspace_id, record_id, version),
    FOREIGN KEY (workspace_id, actor_id) REFERENCES users (workspace_id, id)
);

-- A deal's activities and an account's contacts, without reading every row.
CREATE INDEX activities_by_opportunity ON activities (workspace_id, opportunity_id, id);
CREATE INDEX contacts_by_account ON contacts (workspace_id, account_id, id);
