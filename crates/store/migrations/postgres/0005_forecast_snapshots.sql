-- Forecasts frozen at a moment: every method's number, every person's and every open deal,
-- as JSON. Taken weekly by the server and on demand; only ever added.
CREATE TABLE forecast_snapshots (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    id UUID NOT NULL,
    period TEXT NOT NULL,
    taken_at TIMESTAMPTZ NOT NULL,
    body JSONB NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE INDEX forecast_snapshots_by_period
    ON forecast_snapshots (workspace_id, period, taken_at);
