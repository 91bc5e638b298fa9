//! Signing in, API tokens, who may read and change which deals, and concurrent writers, on
//! both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use pipewise_core::ids::UserId;
use pipewise_core::opportunity::{Created, NextStep, Opportunity, Stamp, Status};
use pipewise_core::org::{Role, User};
use pipewise_core::testing::qualified_evidence;
use pipewise_core::text::{Name, Note};
use pipewise_store::PageRequest;
use serde_json::json;

use common::{PASSWORD, TestApp};

const DEALS: &str = "/api/v1/workspaces/demo/opportunities";

async fn all_deals(app: &TestApp) -> Vec<Opportunity> {
    let workspace = app
        .store()
        .workspace(&"demo".parse().unwrap())
        .await
        .unwrap();
    let page = PageRequest {
        after: None,
        limit: 1000,
    };
    app.store()
        .opportunities(workspace.id, page, &pipewise_store::DealFilter::default())
        .await
        .unwrap()
        .items
}

async fn open_deals(app: &TestApp) -> Vec<Opportunity> {
    let all = all_deals(app).await;
    all.into_iter()
        .filter(|d| d.status == Status::Open)
        .collect()
}

/// A rep who owns an open deal, and that deal.
async fn rep_with_a_deal(app: &TestApp) -> (User, Opportunity) {
    let deals = open_deals(app).await;
    app.users
        .iter()
        .filter(|u| u.role == Role::Rep)
        .find_map(|u| {
            Some((
                u.clone(),
                deals.iter().find(|d| d.owner_id == u.id)?.clone(),
            ))
        })
        .unwrap()
}

/// The version a GET as the admin reports.
async fn version(app: &TestApp, id: &str) -> String {
    let reply = app
        .with_token(
            &app.admin_token,
            Method::GET,
            &format!("{DEALS}/{id}"),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.header("etag").to_owned()
}

on_both_backends_app! {
    async fn signing_in_gives_a_session_whose_changes_need_the_csrf_token(app) {
        let anonymous = app.send(Method::GET, DEALS, &[], None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.header("www-authenticate"), "Bearer realm=\"pipewise\"");
        assert_eq!(anonymous.body["code"], "unauthenticated");

        let (rep, deal) = rep_with_a_deal(&app).await;
        let wrong = app
            .send(Method::POST, "/api/v1/workspaces/demo/session", &[],
                  Some(json!({ "email": rep.email.as_str(), "password": "not it at all" })))
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.body["detail"], "the e-mail or the password is wrong");
        let nobody = app
            .send(Method::POST, "/api/v1/workspaces/demo/session", &[],
                  Some(json!({ "email": "nobody@example.com", "password": PASSWORD })))
            .await;
        assert_eq!(nobody.body["detail"], "the e-mail or the password is wrong");

        let (cookie, csrf) = app.sign_in(&rep).await;
        assert!(cookie.starts_with("pipewise_session_demo="));
        let me = app.send(Method::GET, "/api/v1/workspaces/demo/session", &[("cookie", &cookie)], None).await;
        assert_eq!(me.body["user"]["email"], rep.email.as_str());
        assert_eq!(me.body["csrf_token"], csrf.as_str());

        let uri = format!("{DEALS}/{}", deal.id);
        let change = json!({ "close_date": "2027-03-31" });
        let no_csrf = app.send(Method::PATCH, &uri, &[("cookie", &cookie), ("if-match", "\"1\"")], Some(change.clone())).await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
        let no_version = app.send(Method::PATCH, &uri, &[("cookie", &cookie), ("x-csrf-token", &csrf)], Some(change.clone())).await;
        assert_eq!(no_version.status, StatusCode::PRECONDITION_REQUIRED);
        let tag = format!("\"{}\"", deal.version);
        let changed = app
            .send(Method::PATCH, &uri, &[("cookie", &cookie), ("x-csrf-token", &csrf), ("if-match", &tag)], Some(change))
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        assert_eq!(changed.body["close_date"], "2027-03-31");
        assert_eq!(changed.header("etag"), format!("\"{}\"", deal.version + 1));

        let out = app.send(Method::DELETE, "/api/v1/workspaces/demo/session", &[("cookie", &cookie), ("x-csrf-token", &csrf)], None).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        let after = app.send(Method::GET, DEALS, &[("cookie", &cookie)], None).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    }

    async fn a_sixth_failed_sign_in_is_refused_even_with_the_right_password(app) {
        let viewer = app.user(Role::Viewer).clone();
        let attempt = |password: &'static str| {
            let body = json!({ "email": viewer.email.as_str(), "password": password });
            app.send(Method::POST, "/api/v1/workspaces/demo/session", &[], Some(body))
        };
        for _ in 0..5 {
            assert_eq!(attempt("a wrong guess!").await.status, StatusCode::UNAUTHORIZED);
        }
        let locked = attempt(PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = locked.header("retry-after").parse().unwrap();
        assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    }

    async fn tokens_act_within_their_scope_until_revoked(app) {
        let (rep, deal) = rep_with_a_deal(&app).await;
        let read = app.token(&rep, "read").await;
        let listed = app.with_token(&read, Method::GET, DEALS, &[], None).await;
        assert_eq!(listed.status, StatusCode::OK);
        let write = app
            .with_token(&read, Method::PATCH, &format!("{DEALS}/{}", deal.id), &[("if-match", "*")],
                        Some(json!({ "close_date": "2027-03-31" })))
            .await;
        assert_eq!(write.status, StatusCode::FORBIDDEN);
        assert_eq!(write.body["detail"], "this API token may only read; create one with the write scope");

        // The token is kept now; another secret with its id is still refused.
        let (id_part, secret) = read.rsplit_once('_').unwrap();
        let flipped = if secret.starts_with('0') { "1" } else { "0" };
        let wrong = format!("{id_part}_{flipped}{}", &secret[1..]);
        assert_eq!(app.with_token(&wrong, Method::GET, DEALS, &[], None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.with_token(&read, Method::GET, DEALS, &[], None).await.status, StatusCode::OK);

        let tokens = app.with_token(&read, Method::GET, "/api/v1/workspaces/demo/tokens", &[], None).await;
        let mine = tokens.body.as_array().unwrap();
        assert!(mine.iter().all(|t| t["user_id"] == rep.id.to_string()), "a rep sees only their own");
        let id = mine.iter().find(|t| t["scope"] == "read").unwrap()["id"].as_str().unwrap().to_owned();
        // Revoking is a change: the admin's write token does it.
        let revoked = app
            .with_token(&app.admin_token, Method::DELETE, &format!("/api/v1/workspaces/demo/tokens/{id}"), &[], None)
            .await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT);
        let refused = app.with_token(&read, Method::GET, DEALS, &[], None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let forged = format!("{}{flipped}", &read[..read.len() - 1]);
        assert_eq!(app.with_token(&forged, Method::GET, DEALS, &[], None).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn each_role_reads_and_changes_only_what_it_may(app) {
        let deals = open_deals(&app).await;
        let users: HashMap<UserId, User> = app.users.iter().map(|u| (u.id, u.clone())).collect();
        let has_deal = |id: UserId| deals.iter().any(|d| d.owner_id == id);
        // A rep with a deal, a teammate with one, and a rep of another team with one.
        let rep = app.users.iter()
            .find(|u| u.role == Role::Rep && has_deal(u.id)
                && app.users.iter().any(|t| t.id != u.id && t.team_id == u.team_id && t.manager_id == u.manager_id && has_deal(t.id)))
            .unwrap().clone();
        let mate = app.users.iter().find(|t| t.id != rep.id && t.team_id == rep.team_id && t.manager_id == rep.manager_id && has_deal(t.id)).unwrap().clone();
        let stranger = app.users.iter().find(|t| t.role == Role::Rep && t.team_id != rep.team_id && t.manager_id != rep.manager_id && has_deal(t.id)).unwrap().clone();
        let manager = users[&rep.manager_id.unwrap()].clone();
        assert_eq!(manager.role, Role::Manager);
        let deal_of = |owner: UserId| deals.iter().find(|d| d.owner_id == owner).unwrap().id.to_string();
        let records = [("own", deal_of(rep.id)), ("team", deal_of(mate.id)), ("other", deal_of(stranger.id))];

        // A deal in another workspace is never reachable through this one.
        let acme = common::store_common::org("acme", 1);
        common::store_common::install(app.store(), &acme).await;
        let created = Created {
            name: Name::parse("Acme deal").unwrap(),
            account_id: acme.accounts[0],
            owner_id: acme.reps[0],
            process: "enterprise".parse().unwrap(),
            stage: "qualified".parse().unwrap(),
            amount: None,
            close_date: "2027-01-31".parse().unwrap(),
            source: None, segment: None, competitor: None,
            next_step: Some(NextStep {
                text: Note::parse("Discovery call").unwrap(),
                owner_id: acme.reps[0],
                due: "2027-01-10".parse().unwrap(),
            }),
            evidence: qualified_evidence(),
        };
        let process = pipewise_core::process::Process::default_enterprise();
        let stamp = Stamp::now(acme.reps[0], chrono::Utc::now());
        let foreign = pipewise_core::opportunity::open(pipewise_core::ids::OpportunityId::generate(), created, &process, stamp).unwrap();
        app.store().record(acme.workspace.id, &foreign).await.unwrap();
        let foreign_id = foreign.state.id.to_string();

        let viewer = app.user(Role::Viewer).clone();
        let admin = app.user(Role::Admin).clone();
        // role, its token; then per record (own, team, other): read status, edit status.
        let expectations: [(&User, [(u16, u16); 3]); 4] = [
            (&admin, [(200, 200), (200, 200), (200, 200)]),
            (&manager, [(200, 200), (200, 200), (404, 404)]),
            (&rep, [(200, 200), (200, 403), (404, 404)]),
            (&viewer, [(200, 403), (200, 403), (200, 403)]),
        ];
        for (user, expected) in expectations {
            let token = app.token(user, "write").await;
            for ((kind, id), (read, edit)) in records.iter().zip(expected) {
                let uri = format!("{DEALS}/{id}");
                let got = app.with_token(&token, Method::GET, &uri, &[], None).await;
                assert_eq!(got.status.as_u16(), read, "{:?} reads {kind}", user.role);
                let tag = version(&app, id).await;
                let body = json!({ "next_step": { "text": "Call the CFO", "due": "2027-01-15" } });
                let changed = app.with_token(&token, Method::PATCH, &uri, &[("if-match", &tag)], Some(body)).await;
                assert_eq!(changed.status.as_u16(), edit, "{:?} edits {kind}: {}", user.role, changed.body);
            }
            // Nobody reaches another workspace's deal, through this workspace or that one.
            let through_ours = app.with_token(&token, Method::GET, &format!("{DEALS}/{foreign_id}"), &[], None).await;
            assert_eq!(through_ours.status, StatusCode::NOT_FOUND);
            let through_theirs = app.with_token(&token, Method::GET, &format!("/api/v1/workspaces/acme/opportunities/{foreign_id}"), &[], None).await;
            assert_eq!(through_theirs.status, StatusCode::UNAUTHORIZED);
            // The list holds exactly the readable deals.
            let listed = app.with_token(&token, Method::GET, &format!("{DEALS}?limit=200"), &[], None).await;
            let owners: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|d| d["owner_id"].as_str().unwrap()).collect();
            let sees = |owner: &User| owners.contains(&owner.id.to_string().as_str());
            assert_eq!((sees(&rep), sees(&mate), sees(&stranger)), (expected[0].0 == 200, expected[1].0 == 200, expected[2].0 == 200), "{:?} lists", user.role);
        }

        // Giving a deal away is for managers and admins, within their reach.
        let own = &records[0].1;
        let uri = format!("{DEALS}/{own}");
        let rep_token = app.token(&rep, "write").await;
        let give = json!({ "owner_id": mate.id.to_string() });
        let tag = version(&app, own).await;
        let refused = app.with_token(&rep_token, Method::PATCH, &uri, &[("if-match", &tag)], Some(give.clone())).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.body["detail"], "a rep cannot give a record to someone else; ask an admin or manager");
        let manager_token = app.token(&manager, "write").await;
        let away = json!({ "owner_id": stranger.id.to_string() });
        let out_of_reach = app.with_token(&manager_token, Method::PATCH, &uri, &[("if-match", &tag)], Some(away)).await;
        assert_eq!(out_of_reach.status, StatusCode::FORBIDDEN);
        let given = app.with_token(&manager_token, Method::PATCH, &uri, &[("if-match", &tag)], Some(give)).await;
        assert_eq!(given.status, StatusCode::OK, "{}", given.body);
        assert_eq!(given.body["owner_id"], mate.id.to_string());
    }

    async fn lists_filter_by_owner_stage_status_and_close_date_within_reach(app) {
        let deals = all_deals(&app).await;
        let (rep, _) = rep_with_a_deal(&app).await;
        let uri = |query: &str| format!("{DEALS}?limit=200&{query}");
        let ids = |body: &serde_json::Value| -> Vec<String> {
            body["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect()
        };
        let expected = |keep: &dyn Fn(&Opportunity) -> bool| -> Vec<String> {
            deals.iter().filter(|d| keep(d)).map(|d| d.id.to_string()).collect()
        };
        let open_of_rep = app.get(&uri(&format!("owner_id={}&status=open", rep.id))).await.2;
        assert_eq!(ids(&open_of_rep), expected(&|d| d.owner_id == rep.id && d.status == Status::Open));
        // A stage and a month around one open deal's close date hold at least that deal.
        let some = deals.iter().find(|d| d.status == Status::Open).unwrap();
        let (from, to) = (some.close_date - chrono::Duration::days(15), some.close_date + chrono::Duration::days(15));
        let query = format!("stage={}&closing_from={from}&closing_to={to}", some.stage);
        let listed = ids(&app.get(&uri(&query)).await.2);
        assert!(listed.contains(&some.id.to_string()));
        assert_eq!(listed, expected(&|d| d.stage == some.stage && d.close_date >= from && d.close_date <= to));
        // A rep asking for a deal owner outside their reach gets nothing.
        let stranger = app.users.iter().find(|u| u.role == Role::Rep && u.team_id != rep.team_id).unwrap();
        let token = app.token(&rep, "read").await;
        let theirs = app.with_token(&token, Method::GET, &uri(&format!("owner_id={}", stranger.id)), &[], None).await;
        assert_eq!(theirs.body["items"], json!([]));
        // Soonest close first, ties by creation; the reverse, latest first.
        let mut soonest: Vec<&Opportunity> = deals.iter().filter(|d| d.owner_id == rep.id).collect();
        soonest.sort_by_key(|d| (d.close_date, d.id));
        let soonest: Vec<String> = soonest.iter().map(|d| d.id.to_string()).collect();
        let by_date = app.get(&uri(&format!("owner_id={}&sort=close_date", rep.id))).await.2;
        assert_eq!(ids(&by_date), soonest);
        let latest = app.get(&uri(&format!("owner_id={}&sort=-close_date", rep.id))).await.2;
        assert_eq!(ids(&latest), soonest.iter().rev().cloned().collect::<Vec<_>>());
        let bad = app.get(&uri("stage=contracting&status=pending&sort=amount")).await;
        let fields: Vec<&str> = bad.2["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!((bad.0, fields), (StatusCode::BAD_REQUEST, vec!["stage", "status", "sort"]));
    }

    async fn hygiene_shows_each_role_the_findings_it_may_read(app) {
        let uri = "/api/v1/workspaces/demo/hygiene?as_of=2026-12-31";
        let all = app.get(uri).await.2;
        let findings = all["findings"].as_array().unwrap();
        assert!(!findings.is_empty());
        let (rep, _) = rep_with_a_deal(&app).await;
        let team: Vec<String> = app.users.iter().filter(|u| u.team_id == rep.team_id).map(|u| u.id.to_string()).collect();
        let expected = findings.iter().filter(|f| f["owner_id"].as_str().is_none_or(|o| team.contains(&o.to_owned()))).count();
        let token = app.token(&rep, "read").await;
        let theirs = app.with_token(&token, Method::GET, uri, &[], None).await;
        assert_eq!(theirs.status, StatusCode::OK);
        assert_eq!(theirs.body["findings"].as_array().unwrap().len(), expected);
        assert!(expected < findings.len());
        let early = app.with_token(&token, Method::GET, "/api/v1/workspaces/demo/hygiene?as_of=2020-01-01", &[], None).await;
        assert_eq!((early.status, early.body["errors"][0]["field"].clone()), (StatusCode::BAD_REQUEST, json!("as_of")));
    }

    async fn an_admin_can_keep_reps_to_their_own_deals(app) {
        let deals = all_deals(&app).await;
        let mate_deal = |rep: &User| deals.iter().find(|d| {
            d.owner_id != rep.id && app.users.iter().any(|u| u.id == d.owner_id && u.team_id == rep.team_id)
        });
        let (rep, mate_deal) = app.users.iter()
            .filter(|u| u.role == Role::Rep)
            .find_map(|u| Some((u.clone(), mate_deal(u)?)))
            .unwrap();
        let uri = format!("{DEALS}/{}", mate_deal.id);
        let token = app.token(&rep, "write").await;
        assert_eq!(app.with_token(&token, Method::GET, &uri, &[], None).await.status, StatusCode::OK);
        let settings = "/api/v1/workspaces/demo/settings";
        let own = json!({ "rep_visibility": "own" });
        let by_rep = app.with_token(&token, Method::PATCH, settings, &[], Some(own.clone())).await;
        assert_eq!(by_rep.status, StatusCode::FORBIDDEN);
        assert_eq!(by_rep.body["detail"], "a rep cannot change workspace settings; ask an admin");
        let by_admin = app.with_token(&app.admin_token, Method::PATCH, settings, &[], Some(own)).await;
        assert_eq!(by_admin.body, json!({ "rep_visibility": "own" }));
        assert_eq!(app.with_token(&token, Method::GET, &uri, &[], None).await.status, StatusCode::NOT_FOUND);
        let bad = app.with_token(&app.admin_token, Method::PATCH, settings, &[], Some(json!({ "rep_visibility": "all" }))).await;
        assert_eq!(bad.body["errors"][0]["expected"], "one of own, team");
    }

    async fn concurrent_writers_are_applied_or_refused_and_every_applied_one_is_logged(app) {
        let deal = open_deals(&app).await.remove(0);
        let uri = format!("{DEALS}/{}", deal.id);
        let before = version(&app, &deal.id.to_string()).await;
        let writers = (0..6).map(|writer| {
            let (app, uri) = (&app, uri.clone());
            async move {
                let mut statuses = Vec::new();
                for attempt in 0..4 {
                    let tag = version(app, uri.rsplit('/').next().unwrap()).await;
                    let amount = format!("{}.00", 10_000 + writer * 100 + attempt);
                    let reply = app
                        .with_token(&app.admin_token, Method::PATCH, &uri, &[("if-match", &tag)], Some(json!({ "amount": amount })))
                        .await;
                    if reply.status == StatusCode::PRECONDITION_FAILED {
                        assert_eq!(reply.body["code"], "version_mismatch");
                        assert_eq!(reply.header("etag"), format!("\"{}\"", reply.body["current_version"]));
                    }
                    statuses.push(reply.status);
                }
                statuses
            }
        });
        let statuses: Vec<StatusCode> = futures_util::future::join_all(writers).await.into_iter().flatten().collect();
        assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::PRECONDITION_FAILED), "{statuses:?}");
        let applied = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert!(applied >= 1, "{statuses:?}");
        let after = version(&app, &deal.id.to_string()).await;
        let number = |tag: &str| tag.trim_matches('"').parse::<usize>().unwrap();
        assert_eq!(number(&after) - number(&before), applied);
        let workspace = app.store().workspace(&"demo".parse().unwrap()).await.unwrap();
        let events = app.store().opportunity_events(workspace.id, deal.id).await.unwrap();
        assert_eq!(events.len(), number(&after));
    }
}
