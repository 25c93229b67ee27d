//! Unit tests of the Boomi Flow demo data (determinism, known ids, shapes the loader must handle), the
//! audit timeline arithmetic, the `filter` parser and page requests.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::data::*;
use super::demo;
use super::filter::Filter;
use super::paging::PageRequest;
use super::{BoomiFlowConfig, Envelope, PageBase};
use crate::http::Ctx;

fn state() -> BoomiFlowState {
    BoomiFlowState::new(&BoomiFlowConfig::default())
}

fn event(source: &AuditSource, i: u64) -> Value {
    let mut out = String::new();
    source.write_event(i, &mut out);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("event {i} is not JSON ({e}): {out}"))
}

#[test]
fn the_data_is_the_same_on_every_run() {
    let (a, b) = (state(), state());
    assert_eq!(a.data.flows, b.data.flows);
    assert_eq!(a.data.graphs, b.data.graphs);
    assert_eq!(a.data.users, b.data.users);
    let now = flow_epoch();
    let states = |s: &BoomiFlowState| s.states.iter().map(|r| r.json(now)).collect::<Vec<_>>();
    assert_eq!(states(&a), states(&b));
    assert_eq!(event(&a.data.audit, 17), event(&b.data.audit, 17));
}

#[test]
fn the_published_ids_are_the_generated_ones() {
    let s = state();
    let d = &s.data;
    assert_eq!(d.flows.len(), demo::DEFAULT_FLOWS);
    assert_eq!(d.flows[0]["id"]["id"], demo::ONBOARDING_FLOW_ID);
    assert_eq!(d.flows[0]["developerName"], demo::ONBOARDING_FLOW_NAME);
    assert_eq!(d.flows[2]["id"]["id"], demo::INACTIVE_FLOW_ID);
    assert_eq!(d.flows[2]["developerName"], demo::INACTIVE_FLOW_NAME);
    assert_eq!(d.flows[2]["isActive"], false);
    let active = d.flows.iter().filter(|f| f["isActive"] == true).count();
    assert_eq!(active, demo::DEFAULT_ACTIVE_FLOWS);
    let translated = (0..d.flows.len())
        .filter(|k| flow_is_translated(*k))
        .count();
    assert_eq!(translated, demo::DEFAULT_TRANSLATIONS);
    assert_eq!(d.users.len(), demo::DEFAULT_USERS);
    assert_eq!(d.users[0]["id"], demo::FIRST_USER_ID);
    assert_eq!(d.users[0]["email"], demo::FIRST_USER_EMAIL);
    assert_eq!(s.states.len(), demo::DEFAULT_STATES);
    assert_eq!(s.states[0].id, demo::FIRST_STATE_ID);
    assert_eq!(d.api_keys[1]["apiKey"], demo::SECOND_API_KEY);
    assert_eq!(
        d.api_keys.as_array().map(Vec::len),
        Some(demo::DEFAULT_API_KEYS)
    );
    assert_eq!(
        d.tenant_runtimes.as_array().map(Vec::len),
        Some(demo::DEFAULT_RUNTIMES)
    );
    assert_eq!(
        d.organization_runtimes.as_array().map(Vec::len),
        Some(demo::DEFAULT_ORGANIZATION_RUNTIMES)
    );
    assert_eq!(demo::BOOMI_FLOW_API_KEY.len(), 32);
    assert_eq!(demo::audit_occurred_at(0), demo::AUDIT_BASE);
    assert_eq!(ts(flow_epoch()), demo::BOOMI_FLOW_NOW);
}

#[test]
fn ids_are_uuid_shaped_and_unique() {
    let mut seen = HashSet::new();
    for i in 0..50_000 {
        let id = demo::audit_event_id(i);
        let b = id.as_bytes();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(
            (b[8], b[13], b[18], b[23]),
            (b'-', b'-', b'-', b'-'),
            "{id}"
        );
        assert_eq!(b[14], b'4', "{id}");
        assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "{id}");
        assert!(seen.insert(id));
    }
    // Ids of one kind never collide; ids of the demo records do not collide across kinds either.
    let s = state();
    let mut all = HashSet::new();
    for f in &s.data.flows {
        assert!(all.insert(f["id"]["id"].to_string()));
        assert!(all.insert(f["id"]["versionId"].to_string()));
    }
    for u in &s.data.users {
        assert!(all.insert(u["id"].to_string()));
    }
    for st in &s.states {
        assert!(all.insert(format!("{:?}", st.id)));
    }
}

#[test]
fn events_cover_every_type_with_keys_that_differ_by_type() {
    let s = state();
    let source = &s.data.audit;
    let mut keys_by_type: std::collections::BTreeMap<String, HashSet<String>> = Default::default();
    let mut http_status_kinds = HashSet::new();
    for i in 0..demo::DEFAULT_AUDIT_EVENTS {
        let e = event(source, i);
        assert_eq!(e["occurredAt"], demo::audit_occurred_at(i));
        assert_eq!(e["id"], demo::audit_event_id(i));
        assert_eq!(e["tenantId"], demo::BOOMI_FLOW_TENANT_ID);
        assert_eq!(e["userId"], e["user"]["id"]);
        let kind = e["type"].as_str().expect("type").to_owned();
        let data = e["data"].as_object().expect("data is an object");
        if let Some(status) = data.get("HTTPStatus") {
            http_status_kinds.insert(if status.is_number() {
                "number"
            } else {
                "string"
            });
        }
        keys_by_type
            .entry(kind)
            .or_default()
            .extend(data.keys().cloned());
    }
    let types: Vec<&str> = keys_by_type.keys().map(String::as_str).collect();
    let mut expected = demo::AUDIT_TYPES.to_vec();
    expected.sort_unstable();
    assert_eq!(types, expected);
    assert!(keys_by_type["flow_run"].contains("x-correlation-id"));
    assert!(!keys_by_type["user_login"].contains("x-correlation-id"));
    assert!(keys_by_type["flow_published"].contains("comment"));
    assert_eq!(http_status_kinds, HashSet::from(["number", "string"]));
}

#[test]
fn records_hold_the_shapes_a_loader_must_handle() {
    let s = state();
    let d = &s.data;
    for f in &d.flows {
        assert!(f["comment"].is_null());
        assert!(f["tags"].is_array());
        assert!(f["dateCreated"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
    // Nullable nested objects are null somewhere and set elsewhere.
    assert!(d.flows.iter().any(|f| f["authorization"].is_null()));
    assert!(d.flows.iter().any(|f| {
        f["authorization"]["groups"]
            .as_array()
            .is_some_and(|g| !g.is_empty())
    }));
    assert!(d.flows.iter().any(|f| f["identityProvider"].is_null()));
    assert!(d.flows.iter().any(|f| f["tags"] == json!([])));
    let g = &d.graphs[0];
    assert_eq!(g["startMapElementId"], g["mapElements"][0]["id"]);
    assert_eq!(g["tenantId"], demo::BOOMI_FLOW_TENANT_ID);
    assert!(
        g["mapElements"][2]["outcomes"]
            .as_array()
            .is_some_and(|o| o.len() == 2)
    );
    assert!(
        d.users
            .iter()
            .any(|u| u["tenants"].as_array().is_some_and(|t| t.len() == 2))
    );
    assert!(d.users.iter().any(|u| u["organizations"] == json!([])));
    assert!(d.users.iter().any(|u| u["lastName"] == "O'Connor"));
    let now = flow_epoch();
    let states: Vec<Value> = s.states.iter().map(|r| r.json(now)).collect();
    assert!(states.iter().all(|st| {
        st["authorizationHeader"]
            .as_str()
            .is_some_and(|h| h.starts_with("Bearer "))
    }));
    assert!(states.iter().any(|st| st["isExpired"] == true));
    assert!(
        states
            .iter()
            .any(|st| st["isExpired"] == false && st["isDone"] == false)
    );
    assert!(states.iter().any(|st| st["parentId"].is_string()));
}

#[test]
fn the_clock_expires_states_and_growth_comes_later() {
    let mut s = state();
    let later = flow_epoch() + TimeDelta::days(60);
    assert!(s.states.iter().all(|r| r.expired(later)));
    let last = s.states.iter().map(|r| r.modified).max().expect("states");
    s.add_states(2, flow_epoch());
    let added: Vec<DateTime<Utc>> = s.states[30..].iter().map(|r| r.modified).collect();
    assert!(added[0] > last && added[1] > added[0], "{added:?}");
    assert!(s.touch_state(demo::FIRST_STATE_ID, flow_epoch()));
    assert!(s.states[0].modified > added[1]);
    assert!(!s.touch_state("nope", flow_epoch()));
}

#[test]
fn audit_time_bounds_become_indices() {
    let at = |s: &str| audit_index_at_or_after(s.parse::<DateTime<Utc>>().expect("time"));
    assert_eq!(at("2000-01-01T00:00:00Z"), 0);
    assert_eq!(at(demo::AUDIT_BASE), 0);
    assert_eq!(at("2025-03-01T08:00:00.001Z"), 1);
    assert_eq!(at(&demo::audit_occurred_at(7)), 7);
    let just_after = audit_ms(7) + 1;
    assert_eq!(audit_index_at_or_after(at_ms(just_after)), 8);
    assert_eq!(
        audit_index_at_or_after(at_ms(audit_ms(7)) + TimeDelta::microseconds(1)),
        8
    );
}

fn check_filter(filter: &str, record: Value, expected: Result<bool, &str>) {
    match (Filter::parse(filter), expected) {
        (Ok(f), Ok(want)) => assert_eq!(f.matches(&record), want, "{filter} on {record}"),
        (Err(e), Err(want)) => assert!(e.contains(want), "{filter}: {e}"),
        (got, want) => panic!("{filter}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn filters() {
    let r = json!({"developerName": "Liam's flow", "isActive": true, "n": 3, "id": {"id": "x"}, "comment": null});
    check_filter("", r.clone(), Ok(true));
    check_filter("developerName eq 'Liam''s flow'", r.clone(), Ok(true));
    check_filter("developerName eq 'Liam'", r.clone(), Ok(false));
    check_filter("DeveloperName eq 'Liam''s flow'", r.clone(), Ok(true));
    check_filter(
        "developerName ne 'x' and isActive eq true",
        r.clone(),
        Ok(true),
    );
    check_filter("isActive eq false", r.clone(), Ok(false));
    check_filter("n eq 3.0", r.clone(), Ok(true));
    check_filter("id.id eq 'x'", r.clone(), Ok(true));
    check_filter("comment eq null and missing eq null", r.clone(), Ok(true));
    check_filter(
        "developerName EQ 'Liam''s flow' AND n ne 4",
        r.clone(),
        Ok(true),
    );
    check_filter("developerName gt 'a'", r.clone(), Err("only `eq` and `ne`"));
    check_filter("developerName eq 'open", r.clone(), Err("unterminated"));
    check_filter(
        "developerName eq 'a' or n eq 3",
        r.clone(),
        Err("expected `and`"),
    );
    check_filter(
        "startswith(developerName, 'L')",
        r.clone(),
        Err("unsupported filter"),
    );
    check_filter("n eq three", r, Err("expected a literal"));
}

fn ctx(query: &[(&str, &str)]) -> Ctx {
    Ctx {
        host: "127.0.0.1:1".to_owned(),
        path: "/api/audit/1/search".to_owned(),
        query: query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn check_page(base: PageBase, query: &[(&str, &str)], expected: Result<(u64, u64, u64), &str>) {
    let env = Envelope {
        page_base: base,
        max_page_size: 1000,
        default_page_size: 20,
        ..Envelope::default()
    };
    match (PageRequest::read(&env, &ctx(query)), expected) {
        (Ok(r), Ok((page, index, size))) => {
            assert_eq!((r.page, r.index, r.size), (page, index, size), "{query:?}");
        }
        (Err(e), Err(want)) => assert!(format!("{e:?}").contains(want), "{e:?}"),
        (got, want) => panic!("{query:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn page_requests() {
    use PageBase::{One, Zero};
    check_page(One, &[], Ok((1, 0, 20)));
    check_page(One, &[("page", "1"), ("pageSize", "500")], Ok((1, 0, 500)));
    check_page(One, &[("page", "0")], Ok((1, 0, 20)));
    check_page(
        One,
        &[("page", "3"), ("pageSize", "5000")],
        Ok((3, 2, 1000)),
    );
    check_page(Zero, &[], Ok((0, 0, 20)));
    check_page(Zero, &[("page", "1")], Ok((1, 1, 20)));
    check_page(One, &[("page", "-1")], Err("page must be"));
    check_page(One, &[("page", "x")], Err("page must be"));
    check_page(One, &[("pageSize", "0")], Err("pageSize must be"));
}
