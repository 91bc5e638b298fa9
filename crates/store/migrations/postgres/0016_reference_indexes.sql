-- Every foreign key's columns lead an index. A row that others may refer to is removed only
-- once the database has looked for rows still referring to it; without an index that look
-- is a scan of the whole referring table, once per row removed, and deleting a workspace of
-- 1M deals (its accounts after its deals, its users after its accounts) did not finish.
CREATE INDEX users_by_team ON users (workspace_id, team_id);
CREATE INDEX users_by_manager ON users (workspace_id, manager_id);
CREATE INDEX accounts_by_owner ON accounts (workspace_id, owner_id);
CREATE INDEX opportunities_by_account ON opportunities (workspace_id, account_id);
CREATE INDEX opportunities_by_next_step_owner ON opportunities (workspace_id, next_step_owner_id);
CREATE INDEX targets_by_user ON targets (workspace_id, user_id);
CREATE INDEX targets_by_team ON targets (workspace_id, team_id);
CREATE INDEX process_versions_by_author ON process_versions (workspace_id, changed_by);
CREATE INDEX forecast_submissions_by_subject ON forecast_submissions (workspace_id, subject_id);
CREATE INDEX forecast_submissions_by_submitter ON forecast_submissions (workspace_id, submitted_by);
CREATE INDEX sessions_by_user ON sessions (workspace_id, user_id);
CREATE INDEX api_tokens_by_user ON api_tokens (workspace_id, user_id);
CREATE INDEX webhooks_by_author ON webhooks (workspace_id, created_by);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (workspace_id, opportunity_id, seq);
CREATE INDEX record_changes_by_actor ON record_changes (workspace_id, actor_id);
CREATE INDEX record_change_deliveries_by_change
    ON record_change_deliveries (workspace_id, record_id, version);
CREATE INDEX lead_settings_by_author ON lead_settings (workspace_id, applied_by);
