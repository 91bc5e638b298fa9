-- Leads carry what qualification needs: the contact's role and phone, the company's web site,
-- the territory assignment matches on, the nurture track and the disposition of the last
-- change, when the lead entered the sales queue, and the evidence its fit and intent scores
-- rest on. `email_key` is the address without case or `+tag`, which finds a duplicate.
ALTER TABLE leads ADD COLUMN title TEXT;
ALTER TABLE leads ADD COLUMN phone TEXT;
ALTER TABLE leads ADD COLUMN website TEXT;
ALTER TABLE leads ADD COLUMN region TEXT;
ALTER TABLE leads ADD COLUMN segment TEXT;
ALTER TABLE leads ADD COLUMN product_line TEXT;
ALTER TABLE leads ADD COLUMN nurture TEXT CHECK (nurture IN ('worked', 'paused'));
ALTER TABLE leads ADD COLUMN disposition TEXT CHECK (disposition IN (
    'attempting', 'marketing_qualified', 'qualified_needs_confirmed', 'not_ready', 'no_timeline',
    'attempted_no_reply', 'competitor_selected', 'not_a_fit_wrong_role', 'not_a_fit_profile',
    'duplicate', 'referred', 're_engaged'));
ALTER TABLE leads ADD COLUMN queued_at TIMESTAMPTZ;
ALTER TABLE leads ADD COLUMN evidence JSONB NOT NULL DEFAULT '{}';
ALTER TABLE leads ADD COLUMN email_key TEXT;

CREATE INDEX leads_by_email_key ON leads (workspace_id, email_key);
