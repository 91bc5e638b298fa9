-- The lead queue reads only the leads waiting for a sales attempt (queued, open, not in
-- nurture) and the activities logged on them, not every lead and every activity.
CREATE INDEX leads_waiting ON leads (workspace_id, id)
    WHERE queued_at IS NOT NULL AND nurture IS NULL AND status NOT IN ('sal', 'disqualified');
CREATE INDEX activities_by_lead ON activities (workspace_id, lead_id, id)
    WHERE lead_id IS NOT NULL;
