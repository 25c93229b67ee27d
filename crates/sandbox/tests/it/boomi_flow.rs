//! The Boomi Flow API emulator under `/api`: key and tenant checks, every path's shape, filters,
//! the paged envelope in each configured variant, audit order and time bounds, growth, a large
//! audit source, and fault injection on `/api` paths.

use std::collections::HashSet;
use std::time::Duration;

use bdi_sandbox::boomi_flow::{BoomiFlowConfig, Envelope, Links, PageBase, Totals, demo};
use bdi_sandbox::{Sandbox, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Harness, Resp};

/// A sandbox and requests that carry the Boomi Flow key and tenant.
struct Flow {
    h: Harness,
}

impl Flow {
    async fn start() -> Flow {
        Flow::with(BoomiFlowConfig::default()).await
    }

    async fn with(flow: BoomiFlowConfig) -> Flow {
        Flow {
            h: Harness::with(SandboxConfig {
                boomi_flow: flow,
                ..SandboxConfig::default()
            })
            .await,
        }
    }

    async fn envelope(envelope: Envelope) -> Flow {
        Flow::with(BoomiFlowConfig {
            envelope,
            ..BoomiFlowConfig::default()
        })
        .await
    }

    fn sandbox(&self) -> &Sandbox {
        &self.h.sandbox
    }

    /// `{boomi_flow_base_url}/{path}`.
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.sandbox().boomi_flow_base_url())
    }

    /// GET with the given headers only.
    async fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = self.h.http.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request is sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body is read");
        Resp {
            status,
            headers,
            text,
        }
    }

    /// GET an absolute URL with the configured key and tenant.
    async fn get_url(&self, url: &str) -> Resp {
        let flow = &self.sandbox().config().boomi_flow;
        self.get_with(
            url,
            &[
                ("x-boomi-flow-api-key", flow.api_key.as_str()),
                ("manywhotenant", flow.tenant_id.as_str()),
            ],
        )
        .await
    }

    /// GET a path relative to the Boomi Flow base URL; asserts a 200 and returns the JSON.
    async fn json(&self, path: &str) -> Value {
        let r = self.get_url(&self.url(path)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        r.json()
    }

    /// Resolves a `next` link in any style.
    fn resolve(&self, link: &str) -> String {
        if link.starts_with("http://") {
            link.to_owned()
        } else if link.starts_with('/') {
            format!("{}{link}", self.sandbox().base_url())
        } else {
            self.url(link)
        }
    }

    /// Follows `_links.next` from `path`; returns every page.
    async fn follow(&self, path: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut url = self.url(path);
        loop {
            let r = self.get_url(&url).await;
            assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
            let page = r.json();
            let next = page["_links"]["next"].as_str().map(|l| self.resolve(l));
            pages.push(page);
            match next {
                Some(next) => url = next,
                None => return pages,
            }
            assert!(pages.len() < 1000, "next links never end");
        }
    }
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("items is an array")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

fn all_ids(pages: &[Value]) -> Vec<String> {
    pages.iter().flat_map(|p| ids(&p["items"])).collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

// Auth.

#[tokio::test]
async fn the_key_header_is_required_and_checked() {
    let f = Flow::start().await;
    let url = f.url("draw/1/flow");
    let tenant = ("manywhotenant", demo::BOOMI_FLOW_TENANT_ID);

    let none = f.get_with(&url, &[tenant]).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(none.text.contains("x-boomi-flow-api-key"), "{}", none.text);
    assert!(
        none.headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );

    let wrong = f
        .get_with(
            &url,
            &[
                ("x-boomi-flow-api-key", "not-the-key-0123456789abcdefghij"),
                tenant,
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        !wrong.text.contains("not-the-key"),
        "the key is never echoed"
    );

    // The vendor example's bug: the key sent as `Authorization`.
    let seed = f
        .get_with(&url, &[("authorization", demo::BOOMI_FLOW_API_KEY), tenant])
        .await;
    assert_eq!(seed.status, StatusCode::UNAUTHORIZED);
    assert!(seed.text.contains("not Authorization"), "{}", seed.text);
    assert!(!seed.text.contains(demo::BOOMI_FLOW_API_KEY));
}

#[tokio::test]
async fn the_tenant_header_is_required_and_must_be_the_keys() {
    let f = Flow::start().await;
    let url = f.url("draw/1/flow");
    let key = ("x-boomi-flow-api-key", demo::BOOMI_FLOW_API_KEY);

    let missing = f.get_with(&url, &[key]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(
        missing.text.contains("manywhotenant header is required"),
        "{}",
        missing.text
    );

    let other = f
        .get_with(
            &url,
            &[
                key,
                ("manywhotenant", "00000000-0000-4000-8000-000000000000"),
            ],
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(other.text.contains("tenant-scoped"), "{}", other.text);

    // Header names are case-insensitive, as older clients send `ManyWhoTenant`.
    let ok = f
        .get_with(
            &url,
            &[
                ("X-Boomi-Flow-Api-Key", demo::BOOMI_FLOW_API_KEY),
                ("ManyWhoTenant", demo::BOOMI_FLOW_TENANT_ID),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.headers["content-type"], "application/json");
}

#[tokio::test]
async fn a_configured_key_and_tenant_replace_the_defaults() {
    let f = Flow::with(BoomiFlowConfig {
        api_key: "k".repeat(32),
        tenant_id: "11111111-2222-4333-8444-555555555555".to_owned(),
        ..BoomiFlowConfig::default()
    })
    .await;
    let url = f.url("admin/1/users/me/keys");
    let defaults = f
        .get_with(
            &url,
            &[
                ("x-boomi-flow-api-key", demo::BOOMI_FLOW_API_KEY),
                ("manywhotenant", demo::BOOMI_FLOW_TENANT_ID),
            ],
        )
        .await;
    assert_eq!(defaults.status, StatusCode::UNAUTHORIZED);
    let keys = f.json("admin/1/users/me/keys").await;
    assert_eq!(keys[0]["apiKey"], "k".repeat(32));
    assert_eq!(keys[0]["tenantId"], "11111111-2222-4333-8444-555555555555");
}

#[tokio::test]
async fn unknown_paths_and_ids_are_404() {
    let f = Flow::start().await;
    for path in [
        "nope",
        "",
        "admin/1/runtime",
        "api/audit/1/search",
        "draw/2/flow",
        "draw/1/flow/00000000-0000-4000-8000-000000000000",
        "draw/1/graph/flow/00000000-0000-4000-8000-000000000000",
        "run/2/state/00000000-0000-4000-8000-000000000000",
    ] {
        let r = f.get_url(&f.url(path)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert!(!r.text.is_empty());
    }
    // Without credentials, an unknown path is still a 404, a known one a 401.
    assert_eq!(
        f.get_with(&f.url("nope"), &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.get_with(&f.url("admin/1/users"), &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The Data Integration API is untouched.
    assert_eq!(f.h.get(&f.h.e("/rivers")).await.status, StatusCode::OK);
}

// Shapes.

#[tokio::test]
async fn flows_are_a_whole_array_with_every_field() {
    let f = Flow::start().await;
    let flows = f.json("draw/1/flow").await;
    let flows = flows.as_array().expect("a bare array");
    assert_eq!(flows.len(), demo::DEFAULT_FLOWS);
    let first = &flows[0];
    assert_eq!(
        keys(first),
        [
            "editingToken",
            "id",
            "developerName",
            "developerSummary",
            "startMapElementId",
            "allowJumping",
            "enableHistoricalNavigation",
            "stateExpirationLength",
            "idleStateExpirationLength",
            "authorization",
            "identityProvider",
            "tags",
            "dateCreated",
            "dateModified",
            "whoCreated",
            "whoModified",
            "whoOwner",
            "alertEmail",
            "isActive",
            "isDefault",
            "comment"
        ]
    );
    assert_eq!(first["id"]["id"], demo::ONBOARDING_FLOW_ID);
    assert!(first["id"]["versionId"].is_string());
    assert_eq!(
        keys(&first["whoCreated"]),
        ["id", "firstName", "lastName", "email"]
    );
    assert_eq!(
        keys(&first["authorization"]),
        [
            "serviceElementId",
            "globalAuthenticationType",
            "streamBehaviourType",
            "showPagesAsReadOnly",
            "groups",
            "users",
            "locations"
        ]
    );
    assert!(flows.iter().all(|f| f["comment"].is_null()));
    assert_eq!(flows.iter().filter(|f| f["isActive"] == false).count(), 2);

    let one = f
        .json(&format!("draw/1/flow/{}", demo::ONBOARDING_FLOW_ID))
        .await;
    assert_eq!(&one, first);
}

#[tokio::test]
async fn the_flow_filter_selects_by_developer_name() {
    let f = Flow::start().await;
    let q = |name: &str| {
        let filter = format!("developerName eq '{name}'");
        format!(
            "draw/1/flow?filter={}",
            url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
        )
    };
    let hit = f.json(&q(demo::INACTIVE_FLOW_NAME)).await;
    assert_eq!(ids_of_flows(&hit), [demo::INACTIVE_FLOW_ID]);
    assert_eq!(f.json(&q("No such flow")).await, json!([]));
    let active = f
        .json("draw/1/flow/active?filter=developerName%20eq%20%27Leave%20Request%27")
        .await;
    assert_eq!(active, json!([]), "the inactive flow is not active");
    let bad = f
        .get_url(&f.url("draw/1/flow?filter=developerName%20gt%20%27a%27"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("unsupported filter"), "{}", bad.text);
}

fn ids_of_flows(flows: &Value) -> Vec<String> {
    flows
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["id"]["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn active_flows_drop_the_editing_fields() {
    let f = Flow::start().await;
    let active = f.json("draw/1/flow/active").await;
    let active = active.as_array().expect("array");
    assert_eq!(active.len(), demo::DEFAULT_ACTIVE_FLOWS);
    for flow in active {
        assert_eq!(flow["isActive"], true);
        for gone in ["editingToken", "authorization", "identityProvider", "tags"] {
            assert!(flow.get(gone).is_none(), "{gone} in {flow}");
        }
        assert!(flow["whoOwner"].is_object());
    }
}

#[tokio::test]
async fn a_flow_graph_holds_elements_outcomes_and_the_tenant() {
    let f = Flow::start().await;
    let flow = f
        .json(&format!("draw/1/flow/{}", demo::ONBOARDING_FLOW_ID))
        .await;
    let graph = f
        .json(&format!("draw/1/graph/flow/{}", demo::ONBOARDING_FLOW_ID))
        .await;
    for (k, v) in flow.as_object().expect("object") {
        assert_eq!(&graph[k], v, "{k}");
    }
    assert_eq!(graph["tenantId"], demo::BOOMI_FLOW_TENANT_ID);
    let elements = graph["mapElements"].as_array().expect("mapElements");
    assert!(elements.len() >= 2);
    assert_eq!(elements[0]["id"], graph["startMapElementId"]);
    assert_eq!(elements[0]["elementType"], "START");
    let element_ids: HashSet<&str> = elements.iter().filter_map(|e| e["id"].as_str()).collect();
    let groups: HashSet<&str> = graph["groupElements"]
        .as_array()
        .expect("groupElements")
        .iter()
        .filter_map(|g| g["id"].as_str())
        .collect();
    for e in elements {
        for key in [
            "id",
            "elementType",
            "developerName",
            "x",
            "y",
            "groupElementId",
            "outcomes",
        ] {
            assert!(e.get(key).is_some(), "{key} in {e}");
        }
        if let Some(g) = e["groupElementId"].as_str() {
            assert!(groups.contains(g));
        }
        for o in e["outcomes"].as_array().expect("outcomes") {
            assert!(element_ids.contains(o["nextMapElementId"].as_str().expect("next")));
        }
    }
    assert!(
        elements
            .iter()
            .any(|e| e["outcomes"].as_array().is_some_and(|o| o.len() > 1))
    );
}

#[tokio::test]
async fn runtimes_of_the_tenant_and_of_the_organization() {
    let f = Flow::start().await;
    let tenant = f.json("admin/1/tenant/runtimes").await;
    let tenant = tenant.as_array().expect("array");
    assert_eq!(tenant.len(), demo::DEFAULT_RUNTIMES);
    for r in tenant {
        assert_eq!(
            keys(r),
            [
                "id",
                "developerName",
                "latestVersion",
                "status",
                "lastPingAt"
            ]
        );
    }
    let org = f.json("admin/1/organization/runtimes").await;
    let org = org.as_array().expect("array");
    assert_eq!(org.len(), demo::DEFAULT_ORGANIZATION_RUNTIMES);
    for r in org {
        for key in [
            "numberOfHealthyNodes",
            "numberOfTenants",
            "reportedAt",
            "uri",
        ] {
            assert!(r.get(key).is_some(), "{key} in {r}");
        }
        assert!(
            ["Unknown", "Leader", "Online", "Offline"]
                .contains(&r["status"].as_str().expect("status"))
        );
    }
}

#[tokio::test]
async fn users_come_in_the_default_envelope() {
    let f = Flow::start().await;
    let page = f.json("admin/1/users").await;
    assert_eq!(keys(&page), ["_meta", "_links", "items"]);
    assert_eq!(
        page["_meta"],
        json!({"page": 1, "pageSize": 20, "totalPages": 1, "totalItems": demo::DEFAULT_USERS})
    );
    assert!(page["_links"]["next"].is_null());
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), demo::DEFAULT_USERS);
    let user = &items[0];
    assert_eq!(user["id"], demo::FIRST_USER_ID);
    assert_eq!(user["email"], demo::FIRST_USER_EMAIL);
    for key in [
        "firstName",
        "lastName",
        "createdAt",
        "organizations",
        "tenants",
        "role",
        "isSso",
        "tokens",
    ] {
        assert!(user.get(key).is_some(), "{key}");
    }
    assert_eq!(
        keys(&user["role"]),
        ["roleId", "developerName", "friendlyName"]
    );
    assert_eq!(user["tenants"][0]["id"], demo::BOOMI_FLOW_TENANT_ID);
    for key in [
        "id",
        "developerName",
        "role",
        "roleId",
        "isSso",
        "expiresAt",
    ] {
        assert!(user["tenants"][0].get(key).is_some(), "{key}");
    }
    assert!(
        items
            .iter()
            .any(|u| u["tokens"].as_array().is_some_and(|t| !t.is_empty()))
    );
}

#[tokio::test]
async fn api_keys_are_the_callers_secrets() {
    let f = Flow::start().await;
    let keys_json = f.json("admin/1/users/me/keys").await;
    let list = keys_json.as_array().expect("array");
    assert_eq!(list.len(), demo::DEFAULT_API_KEYS);
    for k in list {
        assert_eq!(keys(k), ["name", "apiKey", "createdAt", "tenantId"]);
        assert_eq!(k["apiKey"].as_str().map(str::len), Some(32));
    }
    assert_eq!(list[0]["apiKey"], demo::BOOMI_FLOW_API_KEY);
    assert_eq!(list[1]["apiKey"], demo::SECOND_API_KEY);
}

#[tokio::test]
async fn translations_are_flows() {
    let f = Flow::start().await;
    let t = f.json("translate/1/flow").await;
    assert_eq!(t.as_array().map(Vec::len), Some(demo::DEFAULT_TRANSLATIONS));
    assert_eq!(t[0]["id"]["id"], demo::ONBOARDING_FLOW_ID);
    assert!(t[0]["editingToken"].is_string());
    let filtered = f
        .json(&format!(
            "translate/1/flow?filter=developerName%20eq%20%27{}%27",
            demo::ONBOARDING_FLOW_NAME.replace(' ', "%20")
        ))
        .await;
    assert_eq!(ids_of_flows(&filtered), [demo::ONBOARDING_FLOW_ID]);
}

// States.

#[tokio::test]
async fn states_are_paged_in_modification_order_with_a_credential() {
    let f = Flow::start().await;
    let pages = f.follow("admin/1/states?pageSize=7").await;
    assert_eq!(pages.len(), 5);
    assert_eq!(pages[0]["_meta"]["totalItems"], demo::DEFAULT_STATES);
    let states: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().expect("items").clone())
        .collect();
    assert_eq!(states.len(), demo::DEFAULT_STATES);
    let modified: Vec<&str> = states
        .iter()
        .map(|s| s["dateModified"].as_str().expect("time"))
        .collect();
    assert!(modified.windows(2).all(|w| w[0] <= w[1]), "{modified:?}");
    for key in [
        "id",
        "parentId",
        "dateCreated",
        "expiresAt",
        "currentFlowId",
        "currentFlowDeveloperName",
        "currentMapElementId",
        "currentRunningUserEmail",
        "isDone",
        "isExpired",
        "stateEntries",
        "values",
        "annotations",
        "log",
        "authorizationHeader",
    ] {
        assert!(states[0].get(key).is_some(), "{key}");
    }
    assert!(states.iter().all(|s| {
        s["authorizationHeader"]
            .as_str()
            .is_some_and(|h| h.starts_with("Bearer "))
    }));
    let one = f
        .json(&format!("run/2/state/{}", demo::FIRST_STATE_ID))
        .await;
    assert!(states.contains(&one));
}

async fn states_total(f: &Flow, query: &str) -> usize {
    f.json(&format!("admin/1/states?pageSize=100&{query}"))
        .await["items"]
        .as_array()
        .expect("items")
        .len()
}

#[tokio::test]
async fn states_filter_by_status_and_modification_time() {
    let f = Flow::start().await;
    let all = f.json("admin/1/states?pageSize=100").await["items"].clone();
    let all = all.as_array().expect("items");
    let count = |pred: &dyn Fn(&Value) -> bool| all.iter().filter(|s| pred(s)).count();
    assert_eq!(
        states_total(&f, "status=done").await,
        count(&|s| s["isDone"] == true)
    );
    assert_eq!(
        states_total(&f, "status=expired").await,
        count(&|s| s["isDone"] == false && s["isExpired"] == true)
    );
    assert_eq!(
        states_total(&f, "status=ACTIVE").await,
        count(&|s| s["isDone"] == false && s["isExpired"] == false)
    );
    assert!(
        states_total(&f, "status=expired").await > 0 && states_total(&f, "status=active").await > 0
    );
    let bad = f.get_url(&f.url("admin/1/states?status=sleeping")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // `from` is inclusive and `to` exclusive on dateModified.
    let pivot = all[10]["dateModified"].as_str().expect("time");
    let from = f
        .json(&format!("admin/1/states?pageSize=100&from={pivot}"))
        .await;
    assert_eq!(from["items"][0]["dateModified"], pivot);
    assert_eq!(from["items"].as_array().map(Vec::len), Some(all.len() - 10));
    let to = f
        .json(&format!("admin/1/states?pageSize=100&to={pivot}"))
        .await;
    assert_eq!(to["items"].as_array().map(Vec::len), Some(10));
    let bad = f.get_url(&f.url("admin/1/states?from=yesterday")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_virtual_clock_expires_states() {
    let f = Flow::start().await;
    let before =
        f.json("admin/1/states?status=active&pageSize=100").await["_meta"]["totalItems"].clone();
    assert!(before.as_u64().expect("count") > 0);
    f.h.control.advance_clock(Duration::from_secs(60 * 86_400));
    let after = f.json("admin/1/states?status=active&pageSize=100").await;
    assert_eq!(after["_meta"]["totalItems"], 0);
}

#[tokio::test]
async fn new_and_touched_states_come_after_the_cursor() {
    let f = Flow::start().await;
    let all = f.json("admin/1/states?pageSize=100").await;
    let last = all["items"][demo::DEFAULT_STATES - 1]["dateModified"]
        .as_str()
        .expect("time")
        .to_owned();
    f.h.control.add_states(2);
    assert!(f.h.control.touch_state(demo::FIRST_STATE_ID));
    assert!(!f.h.control.touch_state("nope"));
    let since = f
        .json(&format!("admin/1/states?pageSize=100&from={last}"))
        .await;
    let got = ids(&since["items"]);
    assert_eq!(
        got.len(),
        4,
        "the boundary state, two new ones, the touched one: {got:?}"
    );
    assert_eq!(got[3], demo::FIRST_STATE_ID);
}

// Audit search.

#[tokio::test]
async fn audit_events_ascend_by_default_and_descend_on_request() {
    let f = Flow::start().await;
    let page = f.json("audit/1/search?pageSize=200").await;
    let got = ids(&page["items"]);
    let want: Vec<String> = (0..demo::DEFAULT_AUDIT_EVENTS)
        .map(demo::audit_event_id)
        .collect();
    assert_eq!(got, want);
    let first = &page["items"][0];
    assert_eq!(
        keys(first),
        [
            "id",
            "type",
            "occurredAt",
            "userId",
            "user",
            "tenantId",
            "stateId",
            "flow",
            "data"
        ]
    );
    assert_eq!(first["occurredAt"], demo::AUDIT_BASE);

    let desc = f
        .json("audit/1/search?pageSize=5&orderBy=occurredAt&orderDirection=DESC")
        .await;
    let want: Vec<String> = (195..200).rev().map(demo::audit_event_id).collect();
    assert_eq!(ids(&desc["items"]), want);
    let desc2 = f
        .json("audit/1/search?pageSize=5&page=2&orderDirection=desc")
        .await;
    let want: Vec<String> = (190..195).rev().map(demo::audit_event_id).collect();
    assert_eq!(ids(&desc2["items"]), want);

    for bad in [
        "orderBy=type",
        "orderDirection=up",
        "from=soon",
        "to=2025-13-01",
    ] {
        let r = f.get_url(&f.url(&format!("audit/1/search?{bad}"))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn audit_from_is_inclusive_and_to_exclusive() {
    let f = Flow::start().await;
    let from = demo::audit_occurred_at(50);
    let to = demo::audit_occurred_at(60);
    let page = f
        .json(&format!("audit/1/search?pageSize=100&from={from}&to={to}"))
        .await;
    let want: Vec<String> = (50..60).map(demo::audit_event_id).collect();
    assert_eq!(ids(&page["items"]), want);
    assert_eq!(page["_meta"]["totalItems"], 10);
    // Other ISO 8601 spellings of the same instant.
    let offset = f
        .json("audit/1/search?pageSize=100&from=2025-03-01T09:00:00%2B01:00&to=2025-03-01T08:00:00.001Z")
        .await;
    assert_eq!(ids(&offset["items"]), [demo::audit_event_id(0)]);
    let date = f.json("audit/1/search?pageSize=1000&to=2025-03-02").await;
    assert!(date["_meta"]["totalItems"].as_u64().expect("total") > 0);
}

#[tokio::test]
async fn audit_filters_by_type_and_user() {
    let f = Flow::start().await;
    let all = f.json("audit/1/search?pageSize=200").await["items"].clone();
    let all = all.as_array().expect("items");
    let expect = |pred: &dyn Fn(&Value) -> bool| -> Vec<String> {
        all.iter()
            .filter(|e| pred(e))
            .map(|e| e["id"].as_str().expect("id").to_owned())
            .collect()
    };

    let runs = f.json("audit/1/search?pageSize=200&type[]=flow_run").await;
    assert_eq!(ids(&runs["items"]), expect(&|e| e["type"] == "flow_run"));
    let two = f
        .json("audit/1/search?pageSize=200&type%5B%5D=user_login&type=state_deleted")
        .await;
    let want = expect(&|e| e["type"] == "user_login" || e["type"] == "state_deleted");
    assert_eq!(ids(&two["items"]), want);
    assert_eq!(two["_meta"]["totalItems"], want.len());

    let user = demo::FIRST_USER_ID;
    let mine = f
        .json(&format!("audit/1/search?pageSize=200&user[]={user}"))
        .await;
    let want = expect(&|e| e["userId"] == user);
    assert!(!want.is_empty());
    assert_eq!(ids(&mine["items"]), want);
    let both = f
        .json(&format!(
            "audit/1/search?pageSize=3&page=2&user={user}&type=flow_run&orderDirection=DESC"
        ))
        .await;
    let mut want = expect(&|e| e["userId"] == user && e["type"] == "flow_run");
    want.reverse();
    assert_eq!(ids(&both["items"]), want[3..6.min(want.len())]);
    assert_eq!(
        f.json("audit/1/search?type=unknown").await["items"],
        json!([])
    );
}

#[tokio::test]
async fn the_audit_source_grows_after_its_last_event() {
    let f = Flow::start().await;
    let last = demo::audit_occurred_at(demo::DEFAULT_AUDIT_EVENTS - 1);
    let before = f
        .json(&format!("audit/1/search?pageSize=1000&from={last}"))
        .await;
    assert_eq!(
        before["items"].as_array().map(Vec::len),
        Some(1),
        "from is inclusive"
    );
    f.h.control.add_audit_events(25);
    assert_eq!(
        f.h.control.audit_event_count(),
        demo::DEFAULT_AUDIT_EVENTS + 25
    );
    let after = f
        .json(&format!("audit/1/search?pageSize=1000&from={last}"))
        .await;
    let want: Vec<String> = (demo::DEFAULT_AUDIT_EVENTS - 1..demo::DEFAULT_AUDIT_EVENTS + 25)
        .map(demo::audit_event_id)
        .collect();
    assert_eq!(ids(&after["items"]), want);
    let times: Vec<&str> = after["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["occurredAt"].as_str().expect("time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn a_large_audit_source_serves_every_page_once() {
    let f = Flow::with(BoomiFlowConfig {
        audit_events: 50_000,
        ..BoomiFlowConfig::default()
    })
    .await;
    let mut seen = HashSet::new();
    let mut total = 0;
    for page in 1..=50 {
        let p = f
            .json(&format!("audit/1/search?page={page}&pageSize=1000"))
            .await;
        assert_eq!(p["_meta"]["totalPages"], 50);
        let got = ids(&p["items"]);
        assert_eq!(got.len(), 1000, "page {page}");
        assert_eq!(got[0], demo::audit_event_id((page - 1) * 1000));
        total += got.len();
        seen.extend(got);
        assert_eq!(p["_links"]["next"].is_string(), page < 50);
    }
    assert_eq!((total, seen.len()), (50_000, 50_000));
    let past = f.json("audit/1/search?page=51&pageSize=1000").await;
    assert_eq!(past["items"], json!([]));
}

// Envelope variants.

#[tokio::test]
async fn base_one_serves_page_zero_as_page_one() {
    let f = Flow::start().await;
    let zero = f.json("audit/1/search?page=0&pageSize=10").await;
    let one = f.json("audit/1/search?page=1&pageSize=10").await;
    let absent = f.json("audit/1/search?pageSize=10").await;
    assert_eq!(ids(&zero["items"]), ids(&one["items"]));
    assert_eq!(ids(&absent["items"]), ids(&one["items"]));
    assert_eq!(zero["_meta"]["page"], 1);
    let two = f.json("audit/1/search?page=2&pageSize=10").await;
    assert_eq!(ids(&two["items"])[0], demo::audit_event_id(10));
    assert!(one["_links"].get("prev").is_none());
    assert!(
        two["_links"]["prev"]
            .as_str()
            .expect("prev")
            .contains("page=1")
    );
}

#[tokio::test]
async fn base_zero_makes_page_one_the_second_page() {
    let f = Flow::envelope(Envelope {
        page_base: PageBase::Zero,
        ..Envelope::default()
    })
    .await;
    let zero = f.json("audit/1/search?page=0&pageSize=10").await;
    let one = f.json("audit/1/search?page=1&pageSize=10").await;
    let absent = f.json("audit/1/search?pageSize=10").await;
    assert_eq!(ids(&zero["items"])[0], demo::audit_event_id(0));
    assert_eq!(ids(&one["items"])[0], demo::audit_event_id(10));
    assert_eq!(ids(&absent["items"]), ids(&zero["items"]));
    assert_eq!(zero["_meta"]["page"], 0);
    assert!(
        zero["_links"]["next"]
            .as_str()
            .expect("next")
            .contains("page=1")
    );
    // Rule 1 of the contract: with 12 users and 20 per page, page 1 is empty and page 0 is not.
    assert_eq!(f.json("admin/1/users?page=1").await["items"], json!([]));
    assert_eq!(
        f.json("admin/1/users?page=0").await["items"]
            .as_array()
            .map(Vec::len),
        Some(demo::DEFAULT_USERS)
    );
    let pages = f.follow("audit/1/search?page=0&pageSize=30").await;
    assert_eq!(pages.len(), 7);
    assert_eq!(all_ids(&pages).len(), 200);
}

#[tokio::test]
async fn page_sizes_default_and_are_capped_silently() {
    let f = Flow::envelope(Envelope {
        default_page_size: 25,
        max_page_size: 60,
        ..Envelope::default()
    })
    .await;
    let default = f.json("audit/1/search").await;
    assert_eq!(default["items"].as_array().map(Vec::len), Some(25));
    assert_eq!(default["_meta"]["pageSize"], 25);
    let capped = f.json("audit/1/search?pageSize=500").await;
    assert_eq!(capped["items"].as_array().map(Vec::len), Some(60));
    assert_eq!(capped["_meta"]["pageSize"], 60);
    assert_eq!(capped["_meta"]["totalPages"], 4);
    // The next link names the applied size, and following it reads everything once.
    assert!(
        capped["_links"]["next"]
            .as_str()
            .expect("next")
            .contains("pageSize=60")
    );
    let pages = f.follow("audit/1/search?pageSize=500").await;
    let all = all_ids(&pages);
    assert_eq!(all.len(), 200);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 200);
    // Reading on by page number with the asked size would skip events: the last page is short.
    assert_eq!(
        f.json("audit/1/search?page=4&pageSize=500").await["items"]
            .as_array()
            .map(Vec::len),
        Some(20)
    );
    assert_eq!(
        f.json("audit/1/search?page=5&pageSize=500").await["items"],
        json!([])
    );
}

#[tokio::test]
async fn next_links_in_every_style_read_everything_once() {
    for (style, prefix) in [
        (Links::Absolute, "http://"),
        (Links::Relative, "audit/1/search?"),
        (Links::RootRelative, "/api/audit/1/search?"),
    ] {
        let f = Flow::envelope(Envelope {
            links: style,
            ..Envelope::default()
        })
        .await;
        let first = f
            .json("audit/1/search?pageSize=64&type[]=flow_run&type[]=user_login")
            .await;
        let next = first["_links"]["next"].as_str().expect("next");
        assert!(next.starts_with(prefix), "{style:?}: {next}");
        assert!(
            next.contains("type%5B%5D=flow_run") && next.contains("type%5B%5D=user_login"),
            "{next}"
        );
        assert!(
            first["_links"]["self"]
                .as_str()
                .expect("self")
                .contains("page=1")
        );
        let pages = f.follow("audit/1/search?pageSize=64").await;
        assert_eq!(pages.len(), 4, "{style:?}");
        let all = all_ids(&pages);
        let want: Vec<String> = (0..200).map(demo::audit_event_id).collect();
        assert_eq!(all, want, "{style:?}");
    }
    // A root-relative link appended to the base URL is the vendor example's `/api/api` defect: a 404.
    let f = Flow::envelope(Envelope {
        links: Links::RootRelative,
        ..Envelope::default()
    })
    .await;
    let next = f.json("audit/1/search?pageSize=64").await["_links"]["next"]
        .as_str()
        .expect("next")
        .to_owned();
    let naive = format!("{}{next}", f.sandbox().boomi_flow_base_url());
    assert_eq!(f.get_url(&naive).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_links_or_totals_only_page_and_size_remain() {
    let f = Flow::envelope(Envelope {
        links: Links::None,
        totals: Totals::None,
        ..Envelope::default()
    })
    .await;
    let page = f.json("audit/1/search?pageSize=150").await;
    assert_eq!(page["_links"], json!({}));
    assert_eq!(page["_meta"], json!({"page": 1, "pageSize": 150}));
    let last = f.json("audit/1/search?page=2&pageSize=150").await;
    assert_eq!(last["items"].as_array().map(Vec::len), Some(50));
}

#[tokio::test]
async fn totals_and_envelope_keys_are_configurable() {
    let f = Flow::envelope(Envelope {
        meta_key: "meta".to_owned(),
        links_key: "links".to_owned(),
        totals: Totals::Items,
        total_items_key: "totalCount".to_owned(),
        ..Envelope::default()
    })
    .await;
    let page = f.json("admin/1/users?pageSize=5").await;
    assert_eq!(keys(&page), ["meta", "links", "items"]);
    assert_eq!(
        page["meta"],
        json!({"page": 1, "pageSize": 5, "totalCount": 12})
    );
    assert!(page["links"]["next"].is_string());

    let f = Flow::envelope(Envelope {
        totals: Totals::Pages,
        total_pages_key: "pages".to_owned(),
        ..Envelope::default()
    })
    .await;
    let page = f.json("admin/1/users?pageSize=5").await;
    assert_eq!(page["_meta"], json!({"page": 1, "pageSize": 5, "pages": 3}));

    let f = Flow::envelope(Envelope {
        total_items_key: "total".to_owned(),
        total_pages_key: "TotalPages".to_owned(),
        ..Envelope::default()
    })
    .await;
    let page = f.json("admin/1/states?pageSize=8&page=4").await;
    assert_eq!(
        page["_meta"],
        json!({"page": 4, "pageSize": 8, "TotalPages": 4, "total": 30})
    );
    assert_eq!(page["items"].as_array().map(Vec::len), Some(6));
    assert!(page["_links"].get("next").is_none());
}

#[tokio::test]
async fn bad_page_parameters_are_400() {
    let f = Flow::start().await;
    for q in ["page=-1", "page=two", "pageSize=0", "pageSize=-5"] {
        let r = f.get_url(&f.url(&format!("admin/1/users?{q}"))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
    }
}

// Faults and request counting on /api paths.

#[tokio::test]
async fn injected_failures_apply_to_flow_paths() {
    let f = Flow::start().await;
    let c = &f.h.control;
    c.fail_next("GET", "/api/audit/1/search", 503, 1);
    c.rate_limit_next("GET", "/api/admin/1/users", Some(3), 1);
    let url = f.url("audit/1/search");
    assert_eq!(
        f.get_url(&url).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(f.get_url(&url).await.status, StatusCode::OK);
    let limited = f.get_url(&f.url("admin/1/users")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers["retry-after"], "3");
    assert_eq!(
        f.get_url(&f.url("admin/1/users")).await.status,
        StatusCode::OK
    );

    c.fail_page("/api/audit/1/search", 2, 500);
    assert_eq!(
        f.get_url(&f.url("audit/1/search?page=2")).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        f.get_url(&f.url("audit/1/search?page=3")).await.status,
        StatusCode::OK
    );

    c.drop_next("GET", "/api/draw/1/flow", 1);
    assert_eq!(
        f.get_url(&f.url("draw/1/flow")).await.status,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(c.request_count("GET", "/api/audit/1/search"), 4);
    assert_eq!(c.request_count("*", "/api/"), 7);
}

#[tokio::test]
async fn requests_reached_wakes_when_the_kth_page_is_asked_for() {
    let f = Flow::start().await;
    let control = f.h.control.clone();
    let waiter = tokio::spawn(async move {
        control
            .requests_reached("GET", "/api/audit/1/search", 3)
            .await;
    });
    for page in 1..=2 {
        f.json(&format!("audit/1/search?page={page}")).await;
    }
    f.json("admin/1/users").await;
    assert!(!waiter.is_finished());
    f.json("audit/1/search?page=3").await;
    tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .expect("the waiter wakes")
        .expect("the waiter does not panic");
    // Already reached: returns at once.
    f.h.control.requests_reached("get", "/api/audit", 1).await;
}

#[tokio::test]
async fn an_empty_flow_source_answers_empty_lists() {
    let f = Flow::with(BoomiFlowConfig {
        flows: 0,
        users: 0,
        states: 0,
        audit_events: 0,
        ..BoomiFlowConfig::default()
    })
    .await;
    for path in ["draw/1/flow", "draw/1/flow/active", "translate/1/flow"] {
        assert_eq!(f.json(path).await, json!([]), "{path}");
    }
    for path in [
        "admin/1/users",
        "admin/1/states",
        "audit/1/search?type=flow_run",
    ] {
        let page = f.json(path).await;
        assert_eq!(page["items"], json!([]), "{path}");
        assert_eq!(page["_meta"]["totalItems"], 0);
        assert_eq!(page["_meta"]["totalPages"], 0);
        assert!(page["_links"].get("next").is_none());
    }
    f.h.control.add_states(1);
    f.h.control.add_audit_events(3);
    let events = f.json("audit/1/search").await;
    assert_eq!(ids(&events["items"]).len(), 3);
    assert!(events["items"][0]["user"].is_null() && events["items"][0]["flow"].is_null());
    let states = f.json("admin/1/states").await;
    assert!(states["items"][0]["currentFlowId"].is_null());
}

#[tokio::test]
async fn the_flow_key_never_shows_in_debug_output() {
    let f = Flow::start().await;
    let shown = format!("{:?} {:?}", f.sandbox(), f.sandbox().config());
    assert!(!shown.contains(demo::BOOMI_FLOW_API_KEY), "{shown}");
    assert!(shown.contains(demo::BOOMI_FLOW_TENANT_ID));
}
