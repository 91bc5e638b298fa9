-- Forecast calls and adjustments, kept as history: rows are only ever added. `body` holds a
-- call's lines or an adjustment's amount and note, as JSON tagged by `kind`.
CREATE TABLE forecast_submissions (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    id UUID NOT NULL,
    period TEXT NOT NULL,
    subject_id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'adjustment')),
    body JSONB NOT NULL,
    submitted_by UUID NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, subject_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, submitted_by) REFERENCES users (workspace_id, id)
);

CREATE INDEX forecast_submissions_by_period
    ON forecast_submissions (workspace_id, period, submitted_at);
