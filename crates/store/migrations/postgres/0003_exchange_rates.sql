-- Rates into the workspace's corporate currency: corporate units for one unit of `currency`,
-- from `valid_from` until the currency's next rate. `rate` is the decimal as written (up to
-- nine places), so conversions are exact.
CREATE TABLE exchange_rates (
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    currency TEXT NOT NULL CHECK (char_length(currency) = 3),
    valid_from DATE NOT NULL,
    rate TEXT NOT NULL,
    PRIMARY KEY (workspace_id, currency, valid_from)
);
