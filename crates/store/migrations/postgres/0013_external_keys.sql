-- Which pipewise record each imported record became, by the id its source system gives it, so
-- importing the same export again (or finishing an interrupted import) adds only what is new.
CREATE TABLE external_keys (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    system TEXT NOT NULL CHECK (system IN ('salesforce', 'hubspot', 'csv')),
    kind TEXT NOT NULL CHECK (kind IN ('user', 'account', 'contact', 'lead', 'opportunity', 'activity')),
    external_id TEXT NOT NULL,
    record_id UUID NOT NULL,
    PRIMARY KEY (workspace_id, system, kind, external_id)
);
