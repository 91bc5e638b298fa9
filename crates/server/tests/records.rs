//! Accounts, contacts, leads, activities and targets over HTTP: versions and `If-Match`,
//! located errors, history, and who may read and change which, on both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use pipewise_core::ids::UserId;
use pipewise_core::org::{Role, User};
use serde_json::{Value, json};

use common::TestApp;

const WS: &str = "/api/v1/workspaces/demo";

/// Sends as the admin, expecting `status`; returns the body and the ETag.
async fn admin(
    app: &TestApp,
    method: Method,
    uri: &str,
    if_match: Option<&str>,
    body: Option<Value>,
    status: StatusCode,
) -> (Value, String) {
    let headers: Vec<(&str, &str)> = if_match.map(|tag| ("if-match", tag)).into_iter().collect();
    let reply = app
        .with_token(&app.admin_token, method.clone(), uri, &headers, body)
        .await;
    assert_eq!(reply.status, status, "{method} {uri}: {}", reply.body);
    (reply.body.clone(), reply.header("etag").to_owned())
}

/// Creates a record as the admin; returns its id.
async fn create(app: &TestApp, kind: &str, body: Value) -> String {
    let (body, _) = admin(
        app,
        Method::POST,
        &format!("{WS}/{kind}"),
        None,
        Some(body),
        StatusCode::CREATED,
    )
    .await;
    body["id"].as_str().unwrap().to_owned()
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of every record of `kind` the token's list holds, following the cursor.
async fn listed(app: &TestApp, token: &str, kind: &str) -> Vec<String> {
    if kind == "targets" {
        let reply = app
            .with_token(token, Method::GET, &format!("{WS}/targets"), &[], None)
            .await;
        let all = reply.body.as_array().unwrap();
        return all
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
    }
    let mut found = Vec::new();
    let mut uri = format!("{WS}/{kind}?limit=200");
    loop {
        let reply = app.with_token(token, Method::GET, &uri, &[], None).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
        found.extend(ids(&reply.body));
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => uri = format!("{WS}/{kind}?limit=200&cursor={cursor}"),
            None => return found,
        }
    }
}

on_both_backends_app! {
    async fn an_account_is_created_changed_on_its_version_and_kept_in_history(app) {
        let reply = app.with_token(&app.admin_token, Method::POST, &format!("{WS}/accounts"), &[],
            Some(json!({"name": "Hooli", "domain": "https://www.hooli.example/", "tier": "tier_1"}))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.header("etag"), "\"1\"");
        let id = reply.body["id"].as_str().unwrap().to_owned();
        let uri = format!("{WS}/accounts/{id}");
        assert_eq!(reply.header("location"), uri);
        assert_eq!(reply.body["domain"], "hooli.example");
        // A new account is its creator's unless another owner is named.
        let admin_id = app.user(Role::Admin).id.to_string();
        assert_eq!(reply.body["owner_id"], admin_id);

        // A change names the version it was made on.
        let without = app.with_token(&app.admin_token, Method::PATCH, &uri, &[],
            Some(json!({"tier": null}))).await;
        assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED);
        let (changed, tag) = admin(&app, Method::PATCH, &uri, Some("\"1\""),
            Some(json!({"tier": null, "segment": "Enterprise"})), StatusCode::OK).await;
        assert_eq!(tag, "\"2\"");
        assert_eq!((changed["tier"].clone(), changed["segment"].clone(), changed["name"].clone()),
                   (Value::Null, json!("Enterprise"), json!("Hooli")));
        let stale = app.with_token(&app.admin_token, Method::PATCH, &uri, &[("if-match", "\"1\"")],
            Some(json!({"name": "Hooli Inc"}))).await;
        assert_eq!((stale.status, stale.body["current_version"].clone()),
                   (StatusCode::PRECONDITION_FAILED, json!(2)));

        // Bad fields are all named, and nothing is written.
        let bad = app.with_token(&app.admin_token, Method::PATCH, &uri, &[("if-match", "\"2\"")],
            Some(json!({"employee_band": "huge", "owner_id": "nobody"}))).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let fields: Vec<&str> = bad.body["errors"].as_array().unwrap().iter()
            .map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["employee_band", "owner_id"]);
        let unknown = app.with_token(&app.admin_token, Method::PATCH, &uri, &[("if-match", "\"2\"")],
            Some(json!({"website": "hooli.example"}))).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        let (_, tag) = admin(&app, Method::GET, &uri, None, None, StatusCode::OK).await;
        assert_eq!(tag, "\"2\"");

        let (history, _) = admin(&app, Method::GET, &format!("{uri}/history"), None, None, StatusCode::OK).await;
        let history = history.as_array().unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!((history[0]["action"].clone(), history[0]["version"].clone()), (json!("created"), json!(1)));
        assert_eq!(history[1]["actor_id"], admin_id);
        assert_eq!(history[1]["before"], json!({"tier": "tier_1", "segment": null}));
        assert_eq!(history[1]["after"], json!({"tier": null, "segment": "Enterprise"}));

        // Writers overwriting whatever is there (`*`) are all applied, one after another.
        let overwrites = (0..4).map(|n| app.with_token(&app.admin_token, Method::PATCH, &uri,
            &[("if-match", "*")], Some(json!({"industry": format!("Industry {n}")}))));
        let replies = futures_util::future::join_all(overwrites).await;
        assert!(replies.iter().all(|r| r.status == StatusCode::OK), "{:?}",
                replies.iter().map(|r| r.body.clone()).collect::<Vec<_>>());
        let (_, tag) = admin(&app, Method::GET, &uri, None, None, StatusCode::OK).await;
        assert_eq!(tag, "\"6\"");
        let (history, _) = admin(&app, Method::GET, &format!("{uri}/history"), None, None, StatusCode::OK).await;
        let versions: Vec<u64> = history.as_array().unwrap().iter().map(|c| c["version"].as_u64().unwrap()).collect();
        assert_eq!(versions, [1, 2, 3, 4, 5, 6]);

        // The list finds it by domain.
        let (found, _) = admin(&app, Method::GET, &format!("{WS}/accounts?domain=hooli.example"), None, None, StatusCode::OK).await;
        assert_eq!(ids(&found), [id]);
    }

    async fn contacts_activities_and_targets_refuse_what_is_not_there_and_delete_on_a_version(app) {
        let account = create(&app, "accounts", json!({"name": "Hooli"})).await;
        let missing = app.with_token(&app.admin_token, Method::POST, &format!("{WS}/contacts"), &[],
            Some(json!({"name": "Dana Ruiz", "account_id": "0190c2a5-0000-7000-8000-000000000000"}))).await;
        assert_eq!((missing.status, missing.body["errors"][0]["field"].clone()),
                   (StatusCode::BAD_REQUEST, json!("account_id")));
        let contact = create(&app, "contacts", json!({"name": "Dana Ruiz", "account_id": account, "buying_role": "champion"})).await;
        let (listed, _) = admin(&app, Method::GET, &format!("{WS}/contacts?account_id={account}"), None, None, StatusCode::OK).await;
        assert_eq!(ids(&listed), std::slice::from_ref(&contact));

        let rep = app.user(Role::Rep).clone();
        let call = create(&app, "activities", json!({
            "kind": "call", "subject": "Discovery call", "contact_id": contact,
            "user_id": rep.id.to_string(), "occurred_at": "2026-11-20T15:00:00Z"
        })).await;
        let uri = format!("{WS}/activities/{call}");
        let (shown, _) = admin(&app, Method::GET, &uri, None, None, StatusCode::OK).await;
        assert_eq!((shown["user_id"].clone(), shown["occurred_at"].clone()),
                   (json!(rep.id.to_string()), json!("2026-11-20T15:00:00Z")));
        let (on_contact, _) = admin(&app, Method::GET, &format!("{WS}/activities?contact_id={contact}"), None, None, StatusCode::OK).await;
        assert_eq!(ids(&on_contact), std::slice::from_ref(&call));
        admin(&app, Method::DELETE, &uri, Some("\"3\""), None, StatusCode::PRECONDITION_FAILED).await;
        admin(&app, Method::DELETE, &uri, Some("\"1\""), None, StatusCode::NO_CONTENT).await;
        admin(&app, Method::GET, &uri, None, None, StatusCode::NOT_FOUND).await;

        let target = create(&app, "targets", json!({
            "owner_kind": "user", "owner_id": rep.id.to_string(), "period": "2027-Q1", "amount": "300000"
        })).await;
        let (listed, _) = admin(&app, Method::GET, &format!("{WS}/targets?period=2027-Q1"), None, None, StatusCode::OK).await;
        let mine: Vec<&Value> = listed.as_array().unwrap().iter().filter(|t| t["id"] == json!(target)).collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["amount"], json!({"minor": 30_000_000, "currency": "USD"}));
        assert_eq!(mine[0]["owner"], json!({"kind": "user", "id": rep.id.to_string()}));
        let bad = app.with_token(&app.admin_token, Method::POST, &format!("{WS}/targets"), &[],
            Some(json!({"owner_kind": "region", "period": "2027-Q5", "amount": "-1"}))).await;
        let fields: Vec<&str> = bad.body["errors"].as_array().unwrap().iter()
            .map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!((bad.status, fields), (StatusCode::BAD_REQUEST, vec!["owner_kind", "period", "amount"]));
    }

    async fn each_role_reads_and_changes_only_the_records_it_may(app) {
        let users: HashMap<UserId, User> = app.users.iter().map(|u| (u.id, u.clone())).collect();
        // A rep, a teammate under the same manager, and a rep of another team.
        let rep = app.users.iter().find(|u| u.role == Role::Rep
            && app.users.iter().any(|t| t.id != u.id && t.role == Role::Rep && t.team_id == u.team_id && t.manager_id == u.manager_id))
            .unwrap().clone();
        let mate = app.users.iter().find(|t| t.id != rep.id && t.role == Role::Rep && t.team_id == rep.team_id && t.manager_id == rep.manager_id).unwrap().clone();
        let stranger = app.users.iter().find(|t| t.role == Role::Rep && t.team_id != rep.team_id && t.manager_id != rep.manager_id).unwrap().clone();
        let manager = users[&rep.manager_id.unwrap()].clone();
        let viewer = app.user(Role::Viewer).clone();
        let admin_user = app.user(Role::Admin).clone();

        // One record of each kind per owner: own, team, other.
        let mut records: Vec<(&str, [String; 3])> = Vec::new();
        let owners = [&rep, &mate, &stranger];
        let of_each = |kind: &'static str, body: &dyn Fn(&User) -> Value| {
            let bodies: Vec<Value> = owners.iter().map(|o| body(o)).collect();
            (kind, bodies)
        };
        let planned = [
            of_each("accounts", &|o| json!({"name": format!("Account of {}", o.name), "owner_id": o.id.to_string()})),
            of_each("leads", &|o| json!({"name": format!("Lead of {}", o.name), "owner_id": o.id.to_string(),
                "email": format!("lead.{}@example.com", o.id), "title": "COO", "company": "Acme", "source": "webinar"})),
            of_each("activities", &|o| json!({"kind": "note", "subject": "Notes", "user_id": o.id.to_string()})),
            of_each("targets", &|o| json!({"owner_kind": "user", "owner_id": o.id.to_string(), "period": "2027-Q2", "amount": "1000"})),
        ];
        for (kind, bodies) in planned {
            let mut made = Vec::new();
            for body in bodies {
                made.push(create(&app, kind, body).await);
            }
            records.push((kind, made.try_into().unwrap()));
        }
        // A harmless change of each kind; `n` makes every attempt a real change.
        let change = |kind: &str, n: usize| match kind {
            "accounts" => json!({"industry": format!("Industry {n}")}),
            "leads" => json!({"source": format!("Source {n}")}),
            "activities" => json!({"outcome": format!("Outcome {n}")}),
            _ => json!({"amount": format!("{}", 1000 + n)}),
        };
        // An account in another workspace.
        let acme = common::store_common::org("acme", 1);
        common::store_common::install(app.store(), &acme).await;
        let foreign = acme.accounts[0].to_string();

        // Per kind, per role: (read, edit) for own, team, other.
        let ok = (200, 200);
        let expected: HashMap<(&str, Role), [(u16, u16); 3]> = HashMap::from([
            (("accounts", Role::Admin), [ok; 3]),
            (("accounts", Role::Manager), [ok, ok, (200, 403)]),
            (("accounts", Role::Rep), [ok, (200, 403), (200, 403)]),
            (("accounts", Role::Viewer), [(200, 403); 3]),
            (("leads", Role::Admin), [ok; 3]),
            (("leads", Role::Manager), [ok, ok, (404, 404)]),
            (("leads", Role::Rep), [ok, (200, 403), (404, 404)]),
            (("leads", Role::Viewer), [(200, 403); 3]),
            (("activities", Role::Admin), [ok; 3]),
            (("activities", Role::Manager), [ok, ok, (404, 404)]),
            (("activities", Role::Rep), [ok, (200, 403), (404, 404)]),
            (("activities", Role::Viewer), [(200, 403); 3]),
            (("targets", Role::Admin), [ok; 3]),
            (("targets", Role::Manager), [(200, 403), (200, 403), (404, 404)]),
            (("targets", Role::Rep), [(200, 403), (200, 403), (404, 404)]),
            (("targets", Role::Viewer), [(200, 403); 3]),
        ]);
        let mut attempt = 0;
        for user in [&admin_user, &manager, &rep, &viewer] {
            let token = app.token(user, "write").await;
            for (kind, ids) in &records {
                let want = expected[&(*kind, user.role)];
                for ((whose, id), (read, edit)) in ["own", "team", "other"].iter().zip(ids).zip(want) {
                    let uri = format!("{WS}/{kind}/{id}");
                    let got = app.with_token(&token, Method::GET, &uri, &[], None).await;
                    assert_eq!(got.status.as_u16(), read, "{:?} reads {whose} {kind}", user.role);
                    let (_, tag) = admin(&app, Method::GET, &uri, None, None, StatusCode::OK).await;
                    attempt += 1;
                    let changed = app.with_token(&token, Method::PATCH, &uri, &[("if-match", &tag)],
                        Some(change(kind, attempt))).await;
                    assert_eq!(changed.status.as_u16(), edit, "{:?} edits {whose} {kind}: {}", user.role, changed.body);
                }
                // The list holds what the role reads, of these three.
                let listed_ids = listed(&app, &token, kind).await;
                let seen: Vec<bool> = ids.iter().map(|id| listed_ids.contains(id)).collect();
                let readable: Vec<bool> = want.iter().map(|(read, _)| *read == 200).collect();
                assert_eq!(seen, readable, "{:?} lists {kind}", user.role);
            }
            // Nobody reaches another workspace's account through this one.
            let through_ours = app.with_token(&token, Method::GET, &format!("{WS}/accounts/{foreign}"), &[], None).await;
            assert_eq!(through_ours.status, StatusCode::NOT_FOUND);
        }

        // A rep takes a lead from the queue, but gives none away; logging for a teammate is
        // giving them the activity.
        let rep_token = app.token(&rep, "write").await;
        let queued = create(&app, "leads", json!({"name": "Queued lead", "owner_id": null,
            "phone": "+1 555 010 2030", "title": "COO", "company": "Acme", "source": "webinar"})).await;
        let uri = format!("{WS}/leads/{queued}");
        let taken = app.with_token(&rep_token, Method::PATCH, &uri, &[("if-match", "\"1\"")],
            Some(json!({"owner_id": rep.id.to_string()}))).await;
        assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
        let given = app.with_token(&rep_token, Method::PATCH, &uri, &[("if-match", "\"2\"")],
            Some(json!({"owner_id": mate.id.to_string()}))).await;
        assert_eq!((given.status, given.body["detail"].clone()),
                   (StatusCode::FORBIDDEN, json!("a rep cannot give a record to someone else; ask an admin or manager")));
        let for_mate = app.with_token(&rep_token, Method::POST, &format!("{WS}/activities"), &[],
            Some(json!({"kind": "call", "subject": "Call", "user_id": mate.id.to_string()}))).await;
        assert_eq!(for_mate.status, StatusCode::FORBIDDEN);
        let quota = app.with_token(&rep_token, Method::POST, &format!("{WS}/targets"), &[],
            Some(json!({"owner_kind": "user", "owner_id": rep.id.to_string(), "period": "2027-Q2", "amount": "1"}))).await;
        assert_eq!((quota.status, quota.body["detail"].clone()),
                   (StatusCode::FORBIDDEN, json!("a rep cannot set quotas; ask an admin")));
    }

    async fn process_files_are_applied_whole_on_their_version_by_admins_only(app) {
        let uri = format!("{WS}/process");
        let (current, tag) = admin(&app, Method::GET, &uri, None, None, StatusCode::OK).await;
        assert_eq!((tag.as_str(), current["version"].clone()), ("\"1\"", json!(1)));
        let files = current["files"].as_array().unwrap().clone();
        let enterprise = files.iter().position(|f| f["name"] == "enterprise.toml").unwrap();
        let keys: Vec<&str> = current["processes"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["enterprise", "smb"]);
        let with = |text: String| {
            let mut files = files.clone();
            files[enterprise]["text"] = json!(text);
            json!({ "files": files })
        };
        let text = files[enterprise]["text"].as_str().unwrap().to_owned();

        let manager = app.user(Role::Manager).clone();
        let manager_token = app.token(&manager, "write").await;
        let refused = app.with_token(&manager_token, Method::PUT, &uri, &[("if-match", "\"1\"")],
            Some(with(text.replace("typical_days = 14", "typical_days = 21")))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        // A file with an error is refused with where it is; nothing changes.
        let broken = text.replace("conversations = \"pipeline\"", "conversations = \"maybe\"");
        let (problem, _) = admin(&app, Method::PUT, &uri, Some("\"1\""), Some(with(broken)), StatusCode::BAD_REQUEST).await;
        let field = problem["errors"][0]["field"].as_str().unwrap();
        assert!(field.starts_with("enterprise.toml:12:"), "{problem}");
        assert!(field.ends_with("categories.conversations"), "{problem}");
        // Removing a stage that open deals are in strands them.
        let (problem, _) = admin(&app, Method::PUT, &uri, Some("\"1\""),
            Some(json!({ "files": [files[1 - enterprise].clone()] })), StatusCode::CONFLICT).await;
        assert!(problem["detail"].as_str().unwrap().starts_with("process `enterprise` is removed but"), "{problem}");

        let (applied, tag) = admin(&app, Method::PUT, &uri, Some("\"1\""),
            Some(with(text.replacen("typical_days = 14", "typical_days = 21", 1))), StatusCode::OK).await;
        assert_eq!((tag.as_str(), applied["version"].clone()), ("\"2\"", json!(2)));
        admin(&app, Method::PUT, &uri, Some("\"1\""), Some(with(text.clone())), StatusCode::PRECONDITION_FAILED).await;
        let (history, _) = admin(&app, Method::GET, &format!("{uri}/history"), None, None, StatusCode::OK).await;
        let latest = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!((latest["version"].clone(), latest["changed_by"].clone()),
                   (json!(2), json!(app.user(Role::Admin).id.to_string())));
        assert_eq!(latest["changes"], json!(["enterprise: stage `qualified` changed: typical days"]));
    }
}
