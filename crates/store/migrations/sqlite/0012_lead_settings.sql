-- SQLite flavour of migrations/postgres/0012_lead_settings.sql.
-- A workspace's lead settings, as the TOML an admin applied over the shipped ones: the rubric,
-- signals, thresholds, response windows, business hours and assignment rules. Every version is
-- kept; the highest is in force. A lead the rules could not place keeps the routing issue.
CREATE TABLE lead_settings (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id),
    version INTEGER NOT NULL CHECK (version >= 1),
    settings TEXT NOT NULL,
    applied_by BLOB NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, version),
    FOREIGN KEY (workspace_id, applied_by) REFERENCES users (workspace_id, id)
);

ALTER TABLE leads ADD COLUMN routing_issue TEXT;
