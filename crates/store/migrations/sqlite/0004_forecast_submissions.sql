-- Forecast calls and adjustments, kept as history: rows are only ever added. `body` holds a
-- call's lines or an adjustment's amount and note, as JSON tagged by `kind`.
CREATE TABLE forecast_submissions (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id),
    id BLOB NOT NULL,
    period TEXT NOT NULL,
    subject_id BLOB NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'adjustment')),
    body TEXT NOT NULL,
    submitted_by BLOB NOT NULL,
    submitted_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, subject_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, submitted_by) REFERENCES users (workspace_id, id)
) WITHOUT ROWID;

CREATE INDEX forecast_submissions_by_period
    ON forecast_submissions (workspace_id, period, submitted_at);
