-- A workspace's lead settings, as the TOML an admin applied over the shipped ones: the rubric,
-- signals, thresholds, response windows, business hours and assignment rules. Every version is
-- kept; the highest is in force. A lead the rules could not place keeps the routing issue.
CREATE TABLE lead_settings (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    version BIGINT NOT NULL CHECK (version >= 1),
    settings TEXT NOT NULL,
    applied_by UUID NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, version),
    FOREIGN KEY (workspace_id, applied_by) REFERENCES users (workspace_id, id)
);

ALTER TABLE leads ADD COLUMN routing_issue JSONB;
