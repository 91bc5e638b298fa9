-- The board and the deal list read open deals, everyone's or one owner's, in close-date
-- order: without these, every closed deal due earlier was passed over first.
CREATE INDEX opportunities_by_status ON opportunities (workspace_id, status, close_date, id);
CREATE INDEX opportunities_by_owner ON opportunities (workspace_id, owner_id, status, close_date, id);
