-- Webhook subscriptions and their deliveries. A delivery is added in the same transaction
-- as the deal event it carries (an outbox), keyed by subscription and event, so none is lost
-- or sent twice by design; its body is read from the event when it is sent.
CREATE TABLE webhooks (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    id UUID NOT NULL,
    url TEXT NOT NULL,
    -- '*' or ',kind,kind,'
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    failed_deliveries BIGINT NOT NULL,
    disabled_at TIMESTAMPTZ,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, created_by) REFERENCES users (workspace_id, id)
);

CREATE TABLE webhook_deliveries (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    webhook_id UUID NOT NULL,
    opportunity_id UUID NOT NULL,
    seq BIGINT NOT NULL,
    event_kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ,
    last_status BIGINT,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, webhook_id, opportunity_id, seq),
    FOREIGN KEY (workspace_id, webhook_id) REFERENCES webhooks (workspace_id, id),
    FOREIGN KEY (workspace_id, opportunity_id, seq)
        REFERENCES opportunity_events (workspace_id, opportunity_id, seq)
);

CREATE INDEX webhook_deliveries_due
    ON webhook_deliveries (workspace_id, status, next_attempt_at);
