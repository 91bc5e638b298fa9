//! Leads over HTTP: the minimum set on entry, duplicates updating the existing lead, stage
//! changes with dispositions, fit, signals and answers, and the assessment they add up to, on
//! both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use common::TestApp;

const WS: &str = "/api/v1/workspaces/demo";

/// Sends as the admin with `If-Match: *` on writes to a record, expecting `status`.
async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    body: Option<Value>,
    status: StatusCode,
) -> Value {
    let headers: &[(&str, &str)] = if matches!(method, Method::PATCH | Method::PUT)
        || uri.ends_with("signals")
        || uri.ends_with("answers")
    {
        &[("if-match", "*")]
    } else {
        &[]
    };
    let reply = app
        .with_token(&app.admin_token, method.clone(), uri, headers, body)
        .await;
    assert_eq!(reply.status, status, "{method} {uri}: {}", reply.body);
    reply.body
}

fn ana(extra: Value) -> Value {
    let mut body = json!({"name": "Ana Ruiz", "email": "ana@acme.example", "title": "VP Operations",
                          "company": "Acme Logistics", "source": "webinar"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

on_both_backends_app! {
    async fn a_lead_needs_the_minimum_set_and_a_second_one_for_the_same_person_updates_the_first(app) {
        let leads = format!("{WS}/leads");
        let short = send(&app, Method::POST, &leads,
            Some(json!({"name": "Ana Ruiz", "source": "unknown"})), StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&short), ["company", "title", "email", "source"]);

        // The account with the company's domain is linked.
        let account = send(&app, Method::POST, &format!("{WS}/accounts"),
            Some(json!({"name": "Acme Logistics", "domain": "acme.example"})), StatusCode::CREATED).await;
        let created = send(&app, Method::POST, &leads, Some(ana(json!({}))), StatusCode::CREATED).await;
        assert_eq!(created["account_id"], account["id"]);
        let id = created["id"].as_str().unwrap();

        // The same person again, in other case and with a tag: the lead is updated instead.
        let again = send(&app, Method::POST, &leads,
            Some(ana(json!({"email": "Ana+Spring@ACME.example", "phone": "+34 600 123 456", "status": "mql"}))),
            StatusCode::OK).await;
        assert_eq!((again["id"].as_str(), again["version"].clone()), (Some(id), json!(2)));
        assert_eq!((again["phone"].clone(), again["status"].clone()), (json!("+34 600 123 456"), json!("new")));
        let admin = app.user(pipewise_core::org::Role::Admin).id;
        let listed = send(&app, Method::GET, &format!("{leads}?owner_id={admin}&limit=200"), None, StatusCode::OK).await;
        let anas = listed["items"].as_array().unwrap().iter().filter(|l| l["name"] == "Ana Ruiz").count();
        assert_eq!(anas, 1);
    }

    async fn a_change_of_stage_names_its_disposition_and_sal_comes_only_by_conversion(app) {
        let lead = send(&app, Method::POST, &format!("{WS}/leads"), Some(ana(json!({}))), StatusCode::CREATED).await;
        let uri = format!("{WS}/leads/{}", lead["id"].as_str().unwrap());
        let bare = send(&app, Method::PATCH, &uri, Some(json!({"status": "mql"})), StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&bare), ["disposition"]);
        let wrong = send(&app, Method::PATCH, &uri,
            Some(json!({"status": "disqualified", "disposition": "no_timeline"})), StatusCode::BAD_REQUEST).await;
        assert_eq!(wrong["errors"][0]["value"], "no_timeline");
        let sal = send(&app, Method::PATCH, &uri,
            Some(json!({"status": "sal", "disposition": "qualified_needs_confirmed"})), StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&sal), ["status"]);
        let mql = send(&app, Method::PATCH, &uri,
            Some(json!({"status": "mql", "disposition": "marketing_qualified"})), StatusCode::OK).await;
        assert_eq!((mql["status"].clone(), mql["disposition"].clone()), (json!("mql"), json!("marketing_qualified")));
        assert!(mql["queued_at"].is_string());
        let parked = send(&app, Method::PATCH, &uri,
            Some(json!({"nurture": "paused", "disposition": "no_timeline"})), StatusCode::OK).await;
        assert_eq!((parked["status"].clone(), parked["nurture"].clone()), (json!("mql"), json!("paused")));
        let history = send(&app, Method::GET, &format!("{uri}/history"), None, StatusCode::OK).await;
        let last = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["after"]["disposition"], "no_timeline");
    }

    async fn fit_signals_and_answers_add_up_to_the_assessment(app) {
        let lead = send(&app, Method::POST, &format!("{WS}/leads"),
            Some(ana(json!({"status": "mql"}))), StatusCode::CREATED).await;
        let id = lead["id"].as_str().unwrap().to_owned();
        let uri = format!("{WS}/leads/{id}");

        let unknown = send(&app, Method::POST, &format!("{uri}/signals"),
            Some(json!({"signal": "horoscope"})), StatusCode::BAD_REQUEST).await;
        assert!(unknown["errors"][0]["expected"].as_str().unwrap().contains("demo_request"));
        let future = (Utc::now() + Duration::days(2)).to_rfc3339();
        let ahead = send(&app, Method::POST, &format!("{uri}/signals"),
            Some(json!({"signal": "demo_request", "at": future})), StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&ahead), ["at"]);

        // A demo request and a product-page visit two days ago: 4 + 2 × 0.5^(2/30) → 6.
        send(&app, Method::POST, &format!("{uri}/signals"),
            Some(json!({"signal": "demo_request", "evidence": "asked for a demo for 3 depots", "channel": "sequence A"})),
            StatusCode::OK).await;
        let visited = (Utc::now() - Duration::days(2)).to_rfc3339();
        send(&app, Method::POST, &format!("{uri}/signals"),
            Some(json!({"signal": "product_page_visit", "at": visited})), StatusCode::OK).await;
        let assessed = send(&app, Method::GET, &format!("{uri}/qualification"), None, StatusCode::OK).await;
        assert_eq!((assessed["intent"]["score"].clone(), assessed["intent"]["band"].clone()), (json!(6), json!("medium")));
        assert_eq!(assessed["qualification"]["stage"], "sql");
        assert_eq!((assessed["fit"].clone(), assessed["route"].clone()), (Value::Null, Value::Null));
        assert_eq!(assessed["speed_to_lead"]["first"]["state"], "pending");
        // The demo request booked through sequence A is the origin; the webinar she came from
        // keeps influence.
        assert_eq!(assessed["attribution"], json!({"origin": "sequence A", "influence": ["webinar"]}));

        // Fit within each part's points, with evidence: 5 + 3 + 1 = 9, high; intent medium.
        let over = send(&app, Method::PUT, &format!("{uri}/fit"),
            Some(json!({"profile": {"points": 6, "evidence": "VP, 200 people"}})), StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&over), ["fit.profile.points"]);
        send(&app, Method::PUT, &format!("{uri}/fit"), Some(json!({
            "profile": {"points": 5, "evidence": "VP Operations, 200 employees, logistics"},
            "use_case": {"points": 3, "evidence": "manual exception handling"},
            "feasibility": {"points": 1, "evidence": "wants go-live in 6 weeks"}})), StatusCode::OK).await;

        // A call that reached her meets the first attempt and ends the clock.
        send(&app, Method::POST, &format!("{WS}/activities"), Some(json!({"kind": "call", "subject": "First call",
            "outcome": "connected", "lead_id": id})), StatusCode::CREATED).await;
        send(&app, Method::POST, &format!("{uri}/answers"), Some(json!({"layer": "intent",
            "question": "What made you start looking now?", "answer": "A new depot opens in March."})), StatusCode::OK).await;

        let assessed = send(&app, Method::GET, &format!("{uri}/qualification"), None, StatusCode::OK).await;
        assert_eq!((assessed["fit"]["score"].clone(), assessed["fit"]["band"].clone()), (json!(9), json!("high")));
        assert_eq!(assessed["route"], "technical_qa");
        let clock = &assessed["speed_to_lead"];
        assert_eq!((clock["first"]["state"].clone(), clock["second"]["state"].clone(), clock["breached"].clone()),
                   (json!("met"), json!("not_needed"), json!(false)));
        assert_eq!(assessed["open_questions"]["intent"], json!(["Are you still comparing options or down to a shortlist?"]));
        let lead = send(&app, Method::GET, &uri, None, StatusCode::OK).await;
        assert_eq!(lead["evidence"]["signals"][0]["signal"], "product_page_visit");
        assert_eq!(lead["version"], 5);
    }

    async fn converting_an_accepted_lead_opens_its_deal_with_its_account_and_contact(app) {
        let lead = send(&app, Method::POST, &format!("{WS}/leads"),
            Some(ana(json!({"email": "ana@freight.example", "company": "Freight Works", "status": "sql",
                            "segment": "mid_market"}))), StatusCode::CREATED).await;
        let uri = format!("{WS}/leads/{}", lead["id"].as_str().unwrap());
        let to_convert = format!("{uri}/convert");
        let convert = |body: Value| app.with_token(&app.admin_token, Method::POST, &to_convert,
            &[("if-match", "*")], Some(body));
        let deal = json!({"amount": "48000.00", "close_date": "2027-03-31", "next_step": "Discovery with the COO",
                          "next_step_due": "2027-01-12"});

        // Without the SAL stage's entry evidence the deal cannot open, and nothing is written.
        let refused = convert(json!({"opportunity": deal.clone()})).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        let accounts = send(&app, Method::GET, &format!("{WS}/accounts?domain=freight.example"), None, StatusCode::OK).await;
        assert!(accounts["items"].as_array().unwrap().is_empty());

        let mut deal = deal;
        deal["evidence"] = serde_json::to_value(pipewise_core::testing::qualified_evidence()).unwrap();
        let opened = convert(json!({"opportunity": deal, "buying_role": "champion"})).await;
        assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
        let body = &opened.body;
        assert_eq!((body["name"].clone(), body["source"].clone(), body["segment"].clone(), body["stage"].clone()),
                   (json!("Freight Works"), json!("webinar"), json!("mid_market"), json!("qualified")));
        let accounts = send(&app, Method::GET, &format!("{WS}/accounts?domain=freight.example"), None, StatusCode::OK).await;
        let account = &accounts["items"][0];
        assert_eq!((account["name"].clone(), body["account_id"].clone()), (json!("Freight Works"), account["id"].clone()));
        let stakeholders = body["evidence"]["stakeholders"].as_array().unwrap();
        let contact_id = stakeholders.iter().find(|s| s["role"] == "champion").unwrap()["contact_id"].as_str().unwrap();
        let contact = send(&app, Method::GET, &format!("{WS}/contacts/{contact_id}"), None, StatusCode::OK).await;
        assert_eq!((contact["name"].clone(), contact["email"].clone(), contact["title"].clone()),
                   (json!("Ana Ruiz"), json!("ana@freight.example"), json!("VP Operations")));

        let converted = send(&app, Method::GET, &uri, None, StatusCode::OK).await;
        assert_eq!((converted["status"].clone(), converted["opportunity_id"].clone(), converted["account_id"].clone()),
                   (json!("sal"), body["id"].clone(), account["id"].clone()));
        let again = convert(json!({})).await;
        assert_eq!((again.status, again.body["errors"][0]["field"].clone()), (StatusCode::BAD_REQUEST, json!("status")));
    }

    async fn the_lead_funnel_counts_each_lead_at_the_furthest_step_it_reached(app) {
        let funnel_uri = format!("{WS}/reports/lead-funnel");
        let before = send(&app, Method::GET, &funnel_uri, None, StatusCode::OK).await;
        let bad = send(&app, Method::GET, &format!("{funnel_uri}?period=Q5"), None, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&bad), ["period"]);

        let lead = send(&app, Method::POST, &format!("{WS}/leads"),
            Some(ana(json!({"email": "ana@expo.example", "source": "trade show", "status": "sql"}))),
            StatusCode::CREATED).await;
        let uri = format!("{WS}/leads/{}", lead["id"].as_str().unwrap());
        // Disqualified after reaching SQL: it still counts as having reached SQL.
        send(&app, Method::PATCH, &uri, Some(json!({"status": "disqualified", "disposition": "competitor_selected"})),
             StatusCode::OK).await;
        let after = send(&app, Method::GET, &funnel_uri, None, StatusCode::OK).await;
        let count = |report: &Value, key: &str| report["whole"][key].as_u64().unwrap();
        assert_eq!(count(&after, "leads"), count(&before, "leads") + 1);
        assert_eq!(count(&after, "sql"), count(&before, "sql") + 1);
        assert_eq!(count(&after, "sal"), count(&before, "sal"));
        let show = after["by_source"].as_array().unwrap().iter().find(|g| g["group"] == "trade show").unwrap().clone();
        assert_eq!((show["leads"].clone(), show["mql"].clone(), show["sql"].clone(), show["sal"].clone()),
                   (json!(1), json!(1), json!(1), json!(0)));
        assert_eq!(after["speed_to_lead"]["queued"].as_u64().unwrap(), before["speed_to_lead"]["queued"].as_u64().unwrap() + 1);
    }

    async fn the_queue_lists_waiting_leads_the_earliest_due_first(app) {
        let make = |email: &str, extra: Value| {
            let mut body = ana(json!({"email": email, "status": "mql"}));
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        let first = send(&app, Method::POST, &format!("{WS}/leads"), Some(make("first@q.example", json!({}))), StatusCode::CREATED).await;
        let second = send(&app, Method::POST, &format!("{WS}/leads"), Some(make("second@q.example", json!({}))), StatusCode::CREATED).await;
        let parked = send(&app, Method::POST, &format!("{WS}/leads"),
            Some(make("parked@q.example", json!({"nurture": "paused"}))), StatusCode::CREATED).await;
        let dropped = send(&app, Method::POST, &format!("{WS}/leads"), Some(make("dropped@q.example", json!({}))), StatusCode::CREATED).await;
        let dropped_uri = format!("{WS}/leads/{}", dropped["id"].as_str().unwrap());
        send(&app, Method::POST, &format!("{WS}/activities"), Some(json!({"kind": "call", "subject": "Intro",
            "outcome": "no_answer", "lead_id": dropped["id"].clone()})), StatusCode::CREATED).await;
        send(&app, Method::PATCH, &dropped_uri, Some(json!({"status": "disqualified", "disposition": "not_a_fit_profile"})),
            StatusCode::OK).await;
        let admin = app.user(pipewise_core::org::Role::Admin).id;
        let queue_uri = format!("{WS}/leads/queue?owner_id={admin}");
        let ids = |queue: &Value| -> Vec<String> {
            queue.as_array().unwrap().iter().map(|q| q["lead"]["id"].as_str().unwrap().to_owned()).collect()
        };
        let queue = send(&app, Method::GET, &queue_uri, None, StatusCode::OK).await;
        let (first_id, second_id) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
        assert_eq!(ids(&queue), [first_id, second_id]);
        assert!(!ids(&queue).contains(&parked["id"].as_str().unwrap().to_owned()));
        assert_eq!(queue[0]["speed_to_lead"]["first"]["state"], "pending");

        // Reaching the first lead takes it out of the queue.
        send(&app, Method::POST, &format!("{WS}/activities"), Some(json!({"kind": "email", "subject": "Re: demo",
            "outcome": "replied", "lead_id": first_id})), StatusCode::CREATED).await;
        let queue = send(&app, Method::GET, &queue_uri, None, StatusCode::OK).await;
        assert_eq!(ids(&queue), [second_id]);
    }

    async fn the_queue_follows_every_write_to_its_leads_and_their_attempts(app) {
        let admin = app.user(pipewise_core::org::Role::Admin).id;
        let queue_uri = format!("{WS}/leads/queue?owner_id={admin}");
        let first_state = |queue: &Value, id: &Value| -> Option<String> {
            queue.as_array().unwrap().iter().find(|q| &q["lead"]["id"] == id)
                .map(|q| q["speed_to_lead"]["first"]["state"].as_str().unwrap().to_owned())
        };
        // Read once before any change, so that what follows changes a queue already kept.
        let before = send(&app, Method::GET, &queue_uri, None, StatusCode::OK).await;
        let new_lead = |email: &str| ana(json!({"email": email, "status": "mql"}));
        let kept = send(&app, Method::POST, &format!("{WS}/leads"), Some(new_lead("kept@f.example")), StatusCode::CREATED).await;
        let other = send(&app, Method::POST, &format!("{WS}/leads"), Some(new_lead("other@f.example")), StatusCode::CREATED).await;
        let (kept_id, other_id) = (kept["id"].clone(), other["id"].clone());
        let queue = send(&app, Method::GET, &queue_uri, None, StatusCode::OK).await;
        assert_eq!(queue.as_array().unwrap().len(), before.as_array().unwrap().len() + 2);
        assert_eq!((first_state(&queue, &kept_id), first_state(&queue, &other_id)),
                   (Some("pending".to_owned()), Some("pending".to_owned())));

        // An unanswered call meets the first deadline and leaves the second due.
        let call = send(&app, Method::POST, &format!("{WS}/activities"), Some(json!({"kind": "call",
            "subject": "Intro", "outcome": "no_answer", "lead_id": kept_id})), StatusCode::CREATED).await;
        let queue = send(&app, Method::GET, &queue_uri, None, StatusCode::OK).await;
        assert_eq!((first_state(&queue, &kept_id), first_state(&queue, &other_id)),
                   (Some("met".to_owned()), Some("pending".to_owned())));

        // The call moved to the other lead takes its attempt along.
        let call_uri = format!("{WS}/activities/{}", call["id"].as_str().unwrap());
        send(&app, Method::PATCH, &call_uri, Some(json!({"lead_id": other_id})), StatusCode::OK).await;
        let queue = send(&app, Method::GET, &queue_uri, None, StatusCode::OK).await;
        assert_eq!((first_state(&queue, &kept_id), first_state(&queue, &other_id)),
                   (Some("pending".to_owned()), Some("met".to_owned())));

        // Parked in nurture, then disqualified: out of the queue each time.
        let other_uri = format!("{WS}/leads/{}", other_id.as_str().unwrap());
        send(&app, Method::PATCH, &other_uri, Some(json!({"nurture": "paused", "disposition": "not_ready"})), StatusCode::OK).await;
        let queue = send(&app, Method::GET, &queue_uri, None, StatusCode::OK).await;
        assert_eq!((first_state(&queue, &kept_id), first_state(&queue, &other_id)),
                   (Some("pending".to_owned()), None));
        send(&app, Method::PATCH, &format!("{WS}/leads/{}", kept_id.as_str().unwrap()),
            Some(json!({"status": "disqualified", "disposition": "not_a_fit_profile"})), StatusCode::OK).await;

        // A meeting logged on a deal and on a lead reaches the lead.
        let third = send(&app, Method::POST, &format!("{WS}/leads"), Some(new_lead("third@f.example")), StatusCode::CREATED).await;
        let deals = send(&app, Method::GET, &format!("{WS}/opportunities?limit=1"), None, StatusCode::OK).await;
        send(&app, Method::POST, &format!("{WS}/activities"), Some(json!({"kind": "meeting",
            "subject": "Joint call", "lead_id": third["id"], "opportunity_id": deals["items"][0]["id"]})),
            StatusCode::CREATED).await;
        let queue = send(&app, Method::GET, &queue_uri, None, StatusCode::OK).await;
        assert_eq!((first_state(&queue, &kept_id), first_state(&queue, &third["id"])), (None, None));
        let ids = |queue: &Value| -> Vec<Value> {
            queue.as_array().unwrap().iter().map(|q| q["lead"]["id"].clone()).collect()
        };
        assert_eq!(ids(&queue), ids(&before));
    }

    async fn lead_settings_route_new_leads_and_log_what_they_cannot_place(app) {
        use pipewise_core::org::Role;
        let rep = app.user(Role::Rep).clone();
        let admin = app.user(Role::Admin).clone();
        let settings_uri = format!("{WS}/settings/leads");
        let shipped = send(&app, Method::GET, &settings_uri, None, StatusCode::OK).await;
        assert_eq!((shipped["version"].clone(), shipped["settings"].clone()), (json!(0), json!("")));

        let bands = "[intent]\nhalf_life_days = 14\n\n[bands]\nmedium = 9\nhigh = 8\n";
        let refused = send(&app, Method::PUT, &settings_uri, Some(json!({"settings": bands})), StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&refused), ["settings:4:1 bands"], "{refused}");
        let nobody = "[routing]\ndefault_owner = \"nobody@nowhere.example\"\n";
        let refused = send(&app, Method::PUT, &settings_uri, Some(json!({"settings": nobody})), StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&refused), ["settings:2:18 routing.default_owner"], "{refused}");
        assert_eq!(send(&app, Method::GET, &settings_uri, None, StatusCode::OK).await["version"], 0);
        let rep_token = app.token(&rep, "write").await;
        let forbidden = app.with_token(&rep_token, Method::PUT, &settings_uri, &[], Some(json!({"settings": ""}))).await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

        let good = format!("[routing]\ndefault_owner = \"{}\"\n[[routing.rules]]\nregion = \"EMEA\"\nowner = \"{}\"\n\n[signals]\nwebinar_attended = {{ kind = \"engagement\", points = 2 }}\n",
                           admin.email, rep.email);
        let applied = send(&app, Method::PUT, &settings_uri, Some(json!({"settings": good})), StatusCode::OK).await;
        assert_eq!(applied["version"], 1);

        // No owner named: the rules place the lead.
        let emea = send(&app, Method::POST, &format!("{WS}/leads"),
            Some(ana(json!({"email": "ana@route.example", "region": "emea"}))), StatusCode::CREATED).await;
        assert_eq!((emea["owner_id"].clone(), emea["routing_issue"].clone()), (json!(rep.id.to_string()), Value::Null));
        let apac = send(&app, Method::POST, &format!("{WS}/leads"),
            Some(ana(json!({"email": "kai@route.example", "region": "APAC"}))), StatusCode::CREATED).await;
        assert_eq!(apac["owner_id"], json!(admin.id.to_string()));
        assert_eq!(apac["routing_issue"]["issue"], "no_rule");
        assert_eq!(apac["routing_issue"]["lead"]["region"], "APAC");
        let log = send(&app, Method::GET, &format!("{WS}/leads?routing_issue=true&limit=200"), None, StatusCode::OK).await;
        let logged: Vec<&Value> = log["items"].as_array().unwrap().iter().collect();
        assert_eq!(logged.iter().map(|l| l["id"].clone()).collect::<Vec<_>>(), [apac["id"].clone()]);

        // Fixing the owner clears the issue; the workspace's own signal is accepted.
        let uri = format!("{WS}/leads/{}", apac["id"].as_str().unwrap());
        let fixed = send(&app, Method::PATCH, &uri, Some(json!({"owner_id": rep.id.to_string()})), StatusCode::OK).await;
        assert_eq!(fixed["routing_issue"], Value::Null);
        send(&app, Method::POST, &format!("{uri}/signals"), Some(json!({"signal": "webinar_attended"})), StatusCode::OK).await;
        let shown = send(&app, Method::GET, &settings_uri, None, StatusCode::OK).await;
        assert_eq!(shown["settings"], json!(good));
    }
}
