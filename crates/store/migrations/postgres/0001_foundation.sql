-- Foundation schema, PostgreSQL flavour. Mirrors migrations/sqlite/0001_foundation.sql.
-- Portable to PostgreSQL-compatible distributed engines: every workspace-owned table leads with
-- workspace_id, which starts its primary key and every foreign and unique key; ids are UUIDv7
-- made by the application; no sequences, triggers, ENUM types or extensions.

CREATE TABLE workspaces (
    id UUID NOT NULL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    corporate_currency TEXT NOT NULL,
    fiscal_year_start_month BIGINT NOT NULL CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE teams (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE users (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'rep', 'viewer')),
    manager_id UUID,
    team_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, email),
    FOREIGN KEY (workspace_id, manager_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id)
);

CREATE TABLE accounts (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    domain TEXT,
    industry TEXT,
    employee_band TEXT CHECK (employee_band IN
        ('1-10', '11-50', '51-200', '201-500', '501-1000', '1001-5000', '5001-10000', '10001+')),
    region TEXT,
    segment TEXT,
    tier TEXT CHECK (tier IN ('tier_1', 'tier_2', 'tier_3')),
    owner_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, owner_id) REFERENCES users (workspace_id, id)
);

CREATE TABLE contacts (
    workspace_id UUID NOT NULL,
    id UUID NOT NULL,
    account_id UUID NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    title TEXT,
    buying_role TEXT CHECK (buying_role IN ('economic_buyer', 'champion', 'decision_maker',
        'signer', 'blocker', 'influencer', 'procurement', 'legal')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, account_id) REFERENCES accounts (workspace_id, id)
);

CREATE TABLE opportunities (
    workspace_id UUID NOT NULL,
    id UUID NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    name TEXT NOT NULL,
    account_id UUID NOT NULL,
    owner_id UUID NOT NULL,
    process TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    amount_minor BIGINT CHECK (amount_minor >= 0),
    currency TEXT,
    close_date DATE NOT NULL,
    category_override TEXT CHECK (category_override IN ('pipeline', 'best_case', 'commit', 'omitted')),
    category_override_reason TEXT,
    source TEXT,
    segment TEXT,
    competitor TEXT,
    next_step TEXT,
    next_step_owner_id UUID,
    next_step_due DATE,
    loss_type TEXT CHECK (loss_type IN ('competition', 'no_decision', 'disqualified', 'duplicate')),
    loss_reason TEXT,
    -- Gate decisions, scorecards, mutual action plan, stakeholders, success criteria and
    -- checklist, as JSON: read and written whole with the deal, never queried by SQL.
    evidence JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, id),
    CHECK ((amount_minor IS NULL) = (currency IS NULL)),
    CHECK ((category_override IS NULL) = (category_override_reason IS NULL)),
    CHECK ((next_step IS NULL) = (next_step_due IS NULL)),
    CHECK ((next_step IS NULL) = (next_step_owner_id IS NULL)),
    CHECK ((status = 'lost') = (loss_type IS NOT NULL)),
    FOREIGN KEY (workspace_id, account_id) REFERENCES accounts (workspace_id, id),
    FOREIGN KEY (workspace_id, owner_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, next_step_owner_id) REFERENCES users (workspace_id, id)
);

-- The append-only event log: the source of truth for every history-based number. An event is
-- identified by its opportunity and position, so two writers can never both append event n.
CREATE TABLE opportunity_events (
    workspace_id UUID NOT NULL,
    opportunity_id UUID NOT NULL,
    seq BIGINT NOT NULL CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('created', 'stage_changed', 'amount_changed',
        'close_date_changed', 'category_overridden', 'owner_changed', 'closed_won',
        'closed_lost', 'reopened', 'field_changed', 'evidence_recorded')),
    actor_id UUID NOT NULL,
    effective_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    process_version BIGINT NOT NULL,
    data JSONB NOT NULL,
    PRIMARY KEY (workspace_id, opportunity_id, seq),
    FOREIGN KEY (workspace_id, opportunity_id) REFERENCES opportunities (workspace_id, id)
);

-- Leads and activities are log-like records written in bulk (imports, the demo generator).
-- Their references are checked by the application when they are recorded, not by foreign
-- keys: a foreign key costs a B-tree lookup per reference per row, which multiplied the cost
-- of loading them several times over.
CREATE TABLE leads (
    workspace_id UUID NOT NULL,
    id UUID NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    company TEXT,
    source TEXT,
    status TEXT NOT NULL CHECK (status IN ('new', 'working', 'mql', 'sql', 'sal', 'disqualified')),
    owner_id UUID,
    account_id UUID,
    opportunity_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE activities (
    workspace_id UUID NOT NULL,
    id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    occurred_at TIMESTAMPTZ NOT NULL,
    user_id UUID NOT NULL,
    account_id UUID,
    contact_id UUID,
    lead_id UUID,
    opportunity_id UUID,
    subject TEXT NOT NULL,
    outcome TEXT,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE targets (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    id UUID NOT NULL,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'team', 'workspace')),
    user_id UUID,
    team_id UUID,
    period TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    CHECK ((owner_kind = 'user') = (user_id IS NOT NULL)),
    CHECK ((owner_kind = 'team') = (team_id IS NOT NULL)),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id)
);
