-- Every version of a workspace's process definitions: who changed them, when and what, and
-- the files as they were. Events carry the version they were made under, so old history
-- stays interpretable after the process changes.
CREATE TABLE process_versions (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id),
    version INTEGER NOT NULL CHECK (version >= 1),
    -- NULL for the version a workspace starts with.
    changed_by BLOB,
    changed_at INTEGER NOT NULL,
    -- JSON array of one line per change.
    changes TEXT NOT NULL,
    PRIMARY KEY (workspace_id, version),
    FOREIGN KEY (workspace_id, changed_by) REFERENCES users (workspace_id, id)
) WITHOUT ROWID;

CREATE TABLE process_files (
    workspace_id BLOB NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL CHECK (position >= 0),
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (workspace_id, version, position),
    UNIQUE (workspace_id, version, name),
    FOREIGN KEY (workspace_id, version) REFERENCES process_versions (workspace_id, version)
) WITHOUT ROWID;
