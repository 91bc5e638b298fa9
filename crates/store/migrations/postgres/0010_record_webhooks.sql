-- Webhooks carry record changes as well as deal events. A record change's deliveries are kept
-- beside the deal events' ones, keyed by subscription, record and version and referencing the
-- change they carry, and queued in the transaction that writes it (the same outbox).
-- `event_type` is `account.changed`, `lead.created`, …; subscriptions list such types, deal
-- event types (`opportunity.stage_changed`) and `subject.*` patterns, and read a bare kind
-- stored before this migration (`stage_changed`) as a deal event type.
CREATE TABLE record_change_deliveries (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    webhook_id UUID NOT NULL,
    record_id UUID NOT NULL,
    version BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ,
    last_status BIGINT,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, webhook_id, record_id, version),
    FOREIGN KEY (workspace_id, webhook_id) REFERENCES webhooks (workspace_id, id),
    FOREIGN KEY (workspace_id, record_id, version)
        REFERENCES record_changes (workspace_id, record_id, version)
);

CREATE INDEX record_change_deliveries_due
    ON record_change_deliveries (workspace_id, status, next_attempt_at);
