-- Foundation schema, SQLite flavour. Mirrors migrations/postgres/0001_foundation.sql.
-- Ids are UUIDv7 stored as 16-byte BLOBs; timestamps are INTEGER microseconds since the Unix
-- epoch (UTC); dates are 'YYYY-MM-DD' TEXT; money is INTEGER minor units plus a currency code.

CREATE TABLE workspaces (
    id BLOB NOT NULL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    corporate_currency TEXT NOT NULL,
    fiscal_year_start_month INTEGER NOT NULL CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
    created_at INTEGER NOT NULL
);

CREATE TABLE teams (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE users (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'rep', 'viewer')),
    manager_id BLOB,
    team_id BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, email),
    FOREIGN KEY (workspace_id, manager_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id)
);

CREATE TABLE accounts (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    domain TEXT,
    industry TEXT,
    employee_band TEXT CHECK (employee_band IN
        ('1-10', '11-50', '51-200', '201-500', '501-1000', '1001-5000', '5001-10000', '10001+')),
    region TEXT,
    segment TEXT,
    tier TEXT CHECK (tier IN ('tier_1', 'tier_2', 'tier_3')),
    owner_id BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, owner_id) REFERENCES users (workspace_id, id)
);

CREATE TABLE contacts (
    workspace_id BLOB NOT NULL,
    id BLOB NOT NULL,
    account_id BLOB NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    title TEXT,
    buying_role TEXT CHECK (buying_role IN ('economic_buyer', 'champion', 'decision_maker',
        'signer', 'blocker', 'influencer', 'procurement', 'legal')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, account_id) REFERENCES accounts (workspace_id, id)
);

CREATE TABLE opportunities (
    workspace_id BLOB NOT NULL,
    id BLOB NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    name TEXT NOT NULL,
    account_id BLOB NOT NULL,
    owner_id BLOB NOT NULL,
    process TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    amount_minor INTEGER CHECK (amount_minor >= 0),
    currency TEXT,
    close_date TEXT NOT NULL,
    category_override TEXT CHECK (category_override IN ('pipeline', 'best_case', 'commit', 'omitted')),
    category_override_reason TEXT,
    source TEXT,
    segment TEXT,
    competitor TEXT,
    next_step TEXT,
    next_step_owner_id BLOB,
    next_step_due TEXT,
    loss_type TEXT CHECK (loss_type IN ('competition', 'no_decision', 'disqualified', 'duplicate')),
    loss_reason TEXT,
    -- Gate decisions, scorecards, mutual action plan, stakeholders, success criteria and
    -- checklist, as JSON: read and written whole with the deal, never queried by SQL.
    evidence TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
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
    workspace_id BLOB NOT NULL,
    opportunity_id BLOB NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('created', 'stage_changed', 'amount_changed',
        'close_date_changed', 'category_overridden', 'owner_changed', 'closed_won',
        'closed_lost', 'reopened', 'field_changed', 'evidence_recorded')),
    actor_id BLOB NOT NULL,
    effective_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    process_version INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (workspace_id, opportunity_id, seq),
    FOREIGN KEY (workspace_id, opportunity_id) REFERENCES opportunities (workspace_id, id)
) WITHOUT ROWID;

-- Leads and activities are log-like records written in bulk (imports, the demo generator).
-- Their references are checked by the application when they are recorded, not by foreign
-- keys: a foreign key costs a B-tree lookup per reference per row, which multiplied the cost
-- of loading them several times over.
CREATE TABLE leads (
    workspace_id BLOB NOT NULL,
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    company TEXT,
    source TEXT,
    status TEXT NOT NULL CHECK (status IN ('new', 'working', 'mql', 'sql', 'sal', 'disqualified')),
    owner_id BLOB,
    account_id BLOB,
    opportunity_id BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE activities (
    workspace_id BLOB NOT NULL,
    id BLOB NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    occurred_at INTEGER NOT NULL,
    user_id BLOB NOT NULL,
    account_id BLOB,
    contact_id BLOB,
    lead_id BLOB,
    opportunity_id BLOB,
    subject TEXT NOT NULL,
    outcome TEXT,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE targets (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id),
    id BLOB NOT NULL,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'team', 'workspace')),
    user_id BLOB,
    team_id BLOB,
    period TEXT NOT NULL,
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    CHECK ((owner_kind = 'user') = (user_id IS NOT NULL)),
    CHECK ((owner_kind = 'team') = (team_id IS NOT NULL)),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id)
);
