-- SQLite flavour of migrations/postgres/0009_deal_order.sql.
-- The deal list in close-date order, a page at a time, without sorting every deal.
CREATE INDEX opportunities_by_close_date ON opportunities (workspace_id, close_date, id);
