//! The Boomi Flow API's demo data, generated deterministically from a fixed seed (no randomness across
//! runs): flows and their graphs, runtimes, users, API keys, states, translations, and audit
//! events, which are a pure function of their index so that a million of them cost no memory.
//!
//! Every shape of section 2 of `docs/boomi-flow-api.md` is here, with what a loader must handle: nested
//! objects, lists of scalars and of objects, ISO 8601 timestamps with `Z`, always-null fields
//! (`comment`, `authorization.serviceElementId`), a field whose type differs between records
//! (audit `data.HTTPStatus`), keys that differ by event type, acronyms and a `-` in a name.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use serde_json::{Map, Value, json};

use super::BoomiFlowConfig;
use super::demo::{AUDIT_BASE_MS, AUDIT_STEP_MS, BOOMI_FLOW_NOW_MS};

/// The seed every id and choice derives from.
const SEED: u64 = 0x0b00_f10e_5a4d_b0c5;

// Id kinds: each kind's ids are unique among themselves by construction.
const K_FLOW: u64 = 1;
const K_VERSION: u64 = 2;
const K_EDIT: u64 = 3;
const K_USER: u64 = 4;
const K_ELEMENT: u64 = 5;
const K_GROUP: u64 = 6;
const K_OUTCOME: u64 = 7;
const K_STATE: u64 = 8;
pub(crate) const K_AUDIT: u64 = 9;
const K_AUDIT_STATE: u64 = 10;
const K_AUDIT_VERSION: u64 = 11;
const K_AUDIT_DATA: u64 = 12;
const K_RUNTIME: u64 = 13;
const K_ORG: u64 = 14;
const K_ROLE: u64 = 15;
const K_TENANT: u64 = 16;
const K_SERVICE: u64 = 17;
const K_IDP: u64 = 18;
const K_ENTRY: u64 = 19;
const K_PAGE: u64 = 20;
const K_SECRET: u64 = 21;
const K_CHOICE: u64 = 22;

/// The map elements each flow graph holds.
const ELEMENTS_PER_FLOW: u64 = 6;

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A 64-bit hash of `(kind, i)`; a bijection of `i` for each kind.
pub(crate) fn mix(kind: u64, i: u64) -> u64 {
    splitmix(SEED ^ kind.wrapping_mul(0xd1b5_4a32_d192_ed03) ^ splitmix(i))
}

/// A bijection on 48 bits, so the last group of a uuid is unique for `i < 2^48`.
fn mix48(kind: u64, i: u64) -> u64 {
    const MASK: u64 = (1 << 48) - 1;
    let mut x = (i ^ splitmix(SEED ^ kind)) & MASK;
    x = x.wrapping_mul(0x9e37_79b9_7f4b) & MASK;
    x ^= x >> 23;
    x = x.wrapping_mul(0x2545_f491_4f6d) & MASK;
    x ^= x >> 19;
    x
}

/// Writes a version-4-shaped uuid for `(kind, i)`; unique per kind for `i < 2^48`.
pub(crate) fn write_uuid(out: &mut String, kind: u64, i: u64) {
    let h = mix(kind, i);
    let g = mix(kind ^ 0x5555, i);
    let _ = write!(
        out,
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        8 | (g & 3),
        (g >> 2) & 0xfff,
        mix48(kind, i)
    );
}

/// A uuid for `(kind, i)`.
pub(crate) fn uuid(kind: u64, i: u64) -> String {
    let mut s = String::with_capacity(36);
    write_uuid(&mut s, kind, i);
    s
}

/// A number in `0..n` chosen by `(kind, i)`.
fn pick(kind: u64, i: u64, n: u64) -> u64 {
    if n == 0 { 0 } else { mix(kind, i) % n }
}

pub(crate) fn at_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The virtual "now" of the Boomi Flow data when the clock has not been advanced.
pub(crate) fn flow_epoch() -> DateTime<Utc> {
    at_ms(BOOMI_FLOW_NOW_MS)
}

/// Writes `2025-03-01T08:00:00.000Z` without going through a format string.
fn write_ts(out: &mut String, t: DateTime<Utc>) {
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis()
    );
}

/// An ISO 8601 timestamp with milliseconds and `Z`.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    let mut s = String::with_capacity(24);
    write_ts(&mut s, t);
    s
}

/// `s` as a JSON string literal, quotes included.
fn json_str(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

const USERS: &[(&str, &str)] = &[
    ("Ada", "Okafor"),
    ("Bruno", "Lefèvre"),
    ("Chen", "Wei"),
    ("Dana", "Whitfield"),
    ("Emeka", "Nwosu"),
    ("Farah", "Haddad"),
    ("Gustavo", "Pereira"),
    ("Hana", "Sato"),
    ("Ingrid", "Johansson"),
    ("Jamal", "Carter"),
    ("Katarzyna", "Nowak"),
    ("Liam", "O'Connor"),
];

/// Name, summary, tags, state expiration (seconds) of the first flows.
const FLOWS: &[(&str, &str, &[&str], i64)] = &[
    (
        "Customer Onboarding",
        "Collects KYC documents and opens the customer account.",
        &["sales", "onboarding"],
        604_800,
    ),
    (
        "Expense Approval",
        "Routes expense claims to the line manager, then finance.",
        &["finance"],
        172_800,
    ),
    (
        "Leave Request",
        "Employees ask for time off; managers approve or reject.",
        &["hr"],
        86_400,
    ),
    (
        "IT Service Desk",
        "Raises, assigns and tracks IT tickets.",
        &["it", "support"],
        259_200,
    ),
    (
        "Vendor Registration",
        "Registers a supplier and checks its tax id.",
        &["procurement", "finance"],
        1_209_600,
    ),
    (
        "Contract Review",
        "Legal review of incoming contracts.",
        &[],
        2_592_000,
    ),
    (
        "Incident Triage",
        "Classifies incidents and pages the on-call engineer.",
        &["it", "ops", "on-call"],
        43_200,
    ),
    (
        "Employee Offboarding",
        "Revokes access and collects equipment.",
        &["hr", "it"],
        604_800,
    ),
];

/// Whether flow `i` is active (the third and sixth of every eight are not).
pub(crate) fn flow_is_active(i: usize) -> bool {
    !matches!(i % 8, 2 | 5)
}

/// Whether flow `i` has a translation (every third, from the first).
pub(crate) fn flow_is_translated(i: usize) -> bool {
    i.is_multiple_of(3)
}

/// What other records need to know about a user.
#[derive(Debug)]
struct UserRef {
    id: String,
    email: String,
    full_name: String,
    /// `{id, firstName, lastName, email}`.
    json: Value,
}

/// What other records need to know about a flow.
#[derive(Debug)]
struct BoomiFlowRef {
    id: String,
    version_id: String,
    name: String,
    expiration_secs: i64,
    /// The ids of its map elements, in graph order.
    elements: Vec<(String, &'static str)>,
}

/// The immutable generated data.
#[derive(Debug)]
pub(crate) struct BoomiFlowData {
    pub(crate) flows: Vec<Value>,
    pub(crate) graphs: Vec<Value>,
    pub(crate) tenant_runtimes: Value,
    pub(crate) organization_runtimes: Value,
    pub(crate) users: Vec<Value>,
    pub(crate) api_keys: Value,
    pub(crate) audit: AuditSource,
    users_ref: Vec<UserRef>,
    flows_ref: Vec<BoomiFlowRef>,
}

/// One state and what its filters read.
#[derive(Debug, Clone)]
pub(crate) struct StateRecord {
    pub(crate) id: String,
    pub(crate) modified: DateTime<Utc>,
    pub(crate) expires: DateTime<Utc>,
    pub(crate) done: bool,
    json: Map<String, Value>,
}

impl StateRecord {
    /// Whether it has expired at `now` (the virtual clock).
    pub(crate) fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires <= now
    }

    /// The StateAPI object as of `now`.
    pub(crate) fn json(&self, now: DateTime<Utc>) -> Value {
        let mut json = self.json.clone();
        json.insert("isExpired".to_owned(), Value::Bool(self.expired(now)));
        Value::Object(json)
    }
}

/// The mutable Boomi Flow API state behind a sandbox.
#[derive(Debug)]
pub(crate) struct BoomiFlowState {
    pub(crate) data: Arc<BoomiFlowData>,
    pub(crate) states: Vec<StateRecord>,
    pub(crate) audit_events: u64,
    last_tick: DateTime<Utc>,
}

impl BoomiFlowState {
    pub(crate) fn new(config: &BoomiFlowConfig) -> Self {
        let data = Arc::new(BoomiFlowData::new(config));
        let count = u64::try_from(config.states).unwrap_or(u64::MAX);
        let epoch = flow_epoch();
        let mut states: Vec<StateRecord> = Vec::with_capacity(config.states);
        for n in 0..count {
            // Created every 5h17m up to the epoch, modified up to 5 hours later.
            let back = i64::try_from(count - n).unwrap_or(0);
            let created = epoch - TimeDelta::minutes(317_i64.saturating_mul(back));
            let modified = created + TimeDelta::minutes(pick(K_CHOICE, n, 300) as i64);
            let parent = (n % 7 == 6).then(|| uuid(K_STATE, n - 1));
            states.push(data.state(n, created, modified, parent));
        }
        let last_tick = states.iter().map(|s| s.modified).max().unwrap_or(epoch);
        BoomiFlowState {
            data,
            states,
            audit_events: config.audit_events,
            last_tick,
        }
    }

    /// The next modification time: `now`, or just after the last one if the clock has not moved.
    fn tick(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let t = now.max(self.last_tick + TimeDelta::seconds(1));
        let t = at_ms(t.timestamp_millis());
        self.last_tick = t;
        t
    }

    /// Appends `n` states created (and modified) at the virtual clock's `now`.
    pub(crate) fn add_states(&mut self, n: usize, now: DateTime<Utc>) {
        for _ in 0..n {
            let t = self.tick(now);
            let index = u64::try_from(self.states.len()).unwrap_or(u64::MAX);
            let state = self.data.state(index, t, t, None);
            self.states.push(state);
        }
    }

    /// Sets a state's `dateModified` to the virtual clock's `now`; false when it is unknown.
    pub(crate) fn touch_state(&mut self, id: &str, now: DateTime<Utc>) -> bool {
        let Some(pos) = self.states.iter().position(|s| s.id == id) else {
            return false;
        };
        let t = self.tick(now);
        let state = &mut self.states[pos];
        state.modified = t;
        state
            .json
            .insert("dateModified".to_owned(), Value::String(ts(t)));
        true
    }
}

fn user_ref(i: u64) -> UserRef {
    let idx = usize::try_from(i).unwrap_or(usize::MAX);
    let (first, last) = USERS.get(idx).map_or_else(
        || (format!("User{i}"), "Demo".to_owned()),
        |(f, l)| ((*f).to_owned(), (*l).to_owned()),
    );
    let local: String = format!("{first}.{last}")
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'è' => 'e',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let email = format!("{local}@example.com");
    let id = uuid(K_USER, i);
    let json = json!({ "id": id, "firstName": first, "lastName": last, "email": email });
    UserRef {
        id,
        email,
        full_name: format!("{first} {last}"),
        json,
    }
}

fn flow_ref(i: u64) -> BoomiFlowRef {
    let idx = usize::try_from(i).unwrap_or(usize::MAX);
    let base = FLOWS[idx % FLOWS.len()];
    let name = if idx < FLOWS.len() {
        base.0.to_owned()
    } else {
        format!("{} {}", base.0, idx / FLOWS.len() + 1)
    };
    let kinds = ["START", "INPUT", "DECISION", "STEP", "MESSAGE", "STEP"];
    let elements = (0..ELEMENTS_PER_FLOW)
        .zip(kinds)
        .map(|(e, kind)| (uuid(K_ELEMENT, i * ELEMENTS_PER_FLOW + e), kind))
        .collect();
    BoomiFlowRef {
        id: uuid(K_FLOW, i),
        version_id: uuid(K_VERSION, i),
        name,
        expiration_secs: base.3,
        elements,
    }
}

impl BoomiFlowData {
    fn new(config: &BoomiFlowConfig) -> Self {
        let users_ref: Vec<UserRef> = (0..config.users as u64).map(user_ref).collect();
        let flows_ref: Vec<BoomiFlowRef> = (0..config.flows as u64).map(flow_ref).collect();
        let mut data = BoomiFlowData {
            flows: Vec::new(),
            graphs: Vec::new(),
            tenant_runtimes: Value::Null,
            organization_runtimes: Value::Null,
            users: Vec::new(),
            api_keys: Value::Null,
            audit: AuditSource::new(&config.tenant_id, &users_ref, &flows_ref),
            users_ref,
            flows_ref,
        };
        data.flows = (0..data.flows_ref.len()).map(|i| data.flow(i)).collect();
        data.graphs = (0..data.flows_ref.len())
            .map(|i| data.graph(i, &config.tenant_id))
            .collect();
        let (tenant, organization) = runtimes();
        data.tenant_runtimes = tenant;
        data.organization_runtimes = organization;
        data.users = (0..data.users_ref.len())
            .map(|i| data.user(i, &config.tenant_id))
            .collect();
        data.api_keys = api_keys(config);
        data
    }

    fn user_json(&self, i: usize) -> Value {
        if self.users_ref.is_empty() {
            Value::Null
        } else {
            self.users_ref[i % self.users_ref.len()].json.clone()
        }
    }

    /// FlowResponseAPI of flow `i`.
    fn flow(&self, i: usize) -> Value {
        let f = &self.flows_ref[i];
        let n = i as u64;
        let (_, summary, tags, expiration) = FLOWS[i % FLOWS.len()];
        let created =
            at_ms(BOOMI_FLOW_NOW_MS) - TimeDelta::days(400) + TimeDelta::hours(n as i64 * 31);
        let modified = created
            + TimeDelta::days(20 + (pick(K_CHOICE, n, 300) as i64))
            + TimeDelta::milliseconds(pick(K_CHOICE + 1, n, 1000) as i64);
        let auth_type = ["PUBLIC", "ALL_USERS", "SPECIFIED"][i % 3];
        let authorization = if i % 8 == 5 {
            Value::Null
        } else {
            let groups: Vec<Value> = if auth_type == "SPECIFIED" {
                vec![
                    json!({ "authenticationId": "finance-approvers", "attribute": "MEMBER" }),
                    json!({ "authenticationId": "managers", "attribute": "MEMBER" }),
                ]
            } else {
                Vec::new()
            };
            let users: Vec<Value> = if auth_type == "SPECIFIED" && !self.users_ref.is_empty() {
                vec![json!({
                    "authenticationId": self.users_ref[i % self.users_ref.len()].id,
                    "attribute": "USER",
                })]
            } else {
                Vec::new()
            };
            json!({
                "serviceElementId": null,
                "globalAuthenticationType": auth_type,
                "streamBehaviourType": "NONE",
                "showPagesAsReadOnly": i % 4 == 1,
                "groups": groups,
                "users": users,
                "locations": [],
            })
        };
        let identity_provider = if auth_type == "PUBLIC" {
            Value::Null
        } else {
            let allowed_users: Vec<&str> = self
                .users_ref
                .iter()
                .skip(i % 3)
                .step_by(4)
                .map(|u| u.email.as_str())
                .collect();
            json!({
                "id": uuid(K_IDP, n),
                "allowedUsers": allowed_users,
                "allowedGroups": if i.is_multiple_of(2) { json!(["employees"]) } else { json!(["employees", "contractors"]) },
            })
        };
        let alert_email = (i % 4 != 3).then(|| format!("flow-alerts+{i}@example.com"));
        json!({
            "editingToken": uuid(K_EDIT, n),
            "id": { "id": f.id, "versionId": f.version_id },
            "developerName": f.name,
            "developerSummary": summary,
            "startMapElementId": f.elements[0].0,
            "allowJumping": i % 2 == 1,
            "enableHistoricalNavigation": i % 3 != 2,
            "stateExpirationLength": expiration,
            "idleStateExpirationLength": expiration / 4,
            "authorization": authorization,
            "identityProvider": identity_provider,
            "tags": tags,
            "dateCreated": ts(created),
            "dateModified": ts(modified),
            "whoCreated": self.user_json(i),
            "whoModified": self.user_json(i + 1),
            "whoOwner": self.user_json(i),
            "alertEmail": alert_email,
            "isActive": flow_is_active(i),
            "isDefault": i == 0,
            "comment": null,
        })
    }

    /// FlowGraphResponseAPI of flow `i`.
    fn graph(&self, i: usize, tenant_id: &str) -> Value {
        let f = &self.flows_ref[i];
        let n = i as u64;
        let el = |e: usize| f.elements[e].0.clone();
        let lanes = [uuid(K_GROUP, n * 2), uuid(K_GROUP, n * 2 + 1)];
        let outcome = |k: u64, name: &str, next: usize, order: u32| {
            json!({
                "id": uuid(K_OUTCOME, n * 8 + k),
                "developerName": name,
                "label": name,
                "nextMapElementId": el(next),
                "order": order,
                "isBulkAction": false,
                "comparison": null,
                "flowOut": null,
            })
        };
        let names = [
            "Start",
            "Enter details",
            "Approved?",
            "Record decision",
            "Notify requester",
            "Done",
        ];
        let groups: [Option<usize>; 6] = [None, Some(0), Some(1), Some(1), None, Some(0)];
        let outcomes: [Vec<Value>; 6] = [
            vec![outcome(0, "Go", 1, 0)],
            vec![outcome(1, "Submit", 2, 0)],
            vec![outcome(2, "Approve", 3, 0), outcome(3, "Reject", 1, 1)],
            vec![outcome(4, "Next", 4, 0)],
            vec![outcome(5, "Next", 5, 0)],
            Vec::new(),
        ];
        let map_elements: Vec<Value> = outcomes
            .into_iter()
            .enumerate()
            .map(|(e, outcomes)| {
                json!({
                    "id": el(e),
                    "elementType": f.elements[e].1,
                    "developerName": names[e],
                    "developerSummary": null,
                    "x": 100 + 220 * e as i64,
                    "y": 120 + 90 * ((e as i64 + n as i64) % 3),
                    "groupElementId": groups[e].map(|g| lanes[g].clone()),
                    "pageElementId": (f.elements[e].1 == "INPUT").then(|| uuid(K_PAGE, n)),
                    "outcomes": outcomes,
                })
            })
            .collect();
        let group_elements = json!([
            { "id": lanes[0], "elementType": "SWIMLANE", "developerName": "Requester", "x": 60, "y": 60, "width": 1400, "height": 200, "groupElementId": null },
            { "id": lanes[1], "elementType": "SWIMLANE", "developerName": "Approver", "x": 60, "y": 280, "width": 1400, "height": 200, "groupElementId": null },
        ]);
        let mut graph = match self.flows[i].clone() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        graph.insert("mapElements".to_owned(), Value::Array(map_elements));
        graph.insert("groupElements".to_owned(), group_elements);
        graph.insert("tenantId".to_owned(), json!(tenant_id));
        Value::Object(graph)
    }

    /// UserAPI of user `i`.
    fn user(&self, i: usize, tenant_id: &str) -> Value {
        let u = &self.users_ref[i];
        let n = i as u64;
        let created = at_ms(BOOMI_FLOW_NOW_MS) - TimeDelta::days(700)
            + TimeDelta::hours(n as i64 * 53)
            + TimeDelta::milliseconds(pick(K_CHOICE + 2, n, 1000) as i64);
        let (role_name, friendly) = match i % 5 {
            0 => ("administrator", "Administrator"),
            1 | 3 => ("builder", "Builder"),
            _ => ("user", "Standard user"),
        };
        let role_id = uuid(K_ROLE, i as u64 % 5);
        let is_sso = i % 3 == 2;
        let org = json!({ "id": uuid(K_ORG, 0), "name": "Example Corp", "role": if i == 0 { "ADMINISTRATOR" } else { "MEMBER" } });
        let organizations = match i % 6 {
            5 => Vec::new(),
            4 => vec![
                org,
                json!({ "id": uuid(K_ORG, 1), "name": "Example Labs", "role": "MEMBER" }),
            ],
            _ => vec![org],
        };
        let mut tenants = vec![json!({
            "id": tenant_id,
            "developerName": "bdi-sandbox",
            "role": role_name,
            "roleId": role_id,
            "isSso": is_sso,
            "expiresAt": null,
            "lastLoggedInAt": ts(at_ms(BOOMI_FLOW_NOW_MS) - TimeDelta::minutes(pick(K_CHOICE + 3, n, 20_000) as i64)),
        })];
        if i % 4 == 1 {
            tenants.push(json!({
                "id": uuid(K_TENANT, 1),
                "developerName": "bdi-sandbox-dev",
                "role": "builder",
                "roleId": uuid(K_ROLE, 1),
                "isSso": false,
                "expiresAt": ts(at_ms(BOOMI_FLOW_NOW_MS) + TimeDelta::days(30 + n as i64)),
                "lastLoggedInAt": null,
            }));
        }
        let tokens: Vec<Value> = (0..(i % 3) as u64)
            .map(|k| {
                let c = created + TimeDelta::days(3 + k as i64 * 11);
                json!({ "serviceId": uuid(K_SERVICE, k), "createdAt": ts(c), "updatedAt": ts(c + TimeDelta::days(2)) })
            })
            .collect();
        json!({
            "id": u.id,
            "firstName": u.json["firstName"],
            "lastName": u.json["lastName"],
            "email": u.email,
            "createdAt": ts(created),
            "organizations": organizations,
            "tenants": tenants,
            "role": { "roleId": role_id, "developerName": role_name, "friendlyName": friendly },
            "isSso": is_sso,
            "tokens": tokens,
        })
    }

    /// StateAPI of state `n` (without `isExpired`, which depends on the clock).
    fn state(
        &self,
        n: u64,
        created: DateTime<Utc>,
        modified: DateTime<Utc>,
        parent: Option<String>,
    ) -> StateRecord {
        let id = uuid(K_STATE, n);
        let flow = (!self.flows_ref.is_empty())
            .then(|| &self.flows_ref[usize::try_from(n).unwrap_or(0) % self.flows_ref.len()]);
        let user = (!self.users_ref.is_empty()).then(|| {
            &self.users_ref
                [usize::try_from(pick(K_CHOICE + 4, n, self.users_ref.len() as u64)).unwrap_or(0)]
        });
        let done = n.is_multiple_of(3);
        let expires = created + TimeDelta::seconds(flow.map_or(86_400, |f| f.expiration_secs));
        let steps = usize::try_from(1 + pick(K_CHOICE + 5, n, 3)).unwrap_or(1);
        let current = flow.map(|f| {
            let e = if done { f.elements.len() - 1 } else { steps };
            f.elements[e.min(f.elements.len() - 1)].0.clone()
        });
        let entries: Vec<Value> = (0..steps)
            .map(|k| {
                let element = flow.map(|f| &f.elements[k]);
                json!({
                    "id": uuid(K_ENTRY, n * 8 + k as u64),
                    "mapElementId": element.map(|e| e.0.clone()),
                    "mapElementDeveloperName": element.map(|e| e.1),
                    "dateCreated": ts(created + TimeDelta::seconds(k as i64 * 95)),
                    "userEmail": user.map(|u| u.email.clone()),
                })
            })
            .collect();
        let amount = 50 + pick(K_CHOICE + 6, n, 5000);
        let values = json!([
            { "developerName": "requesterName", "contentType": "ContentString", "contentValue": user.map(|u| u.full_name.clone()) },
            { "developerName": "amount", "contentType": "ContentNumber", "contentValue": format!("{amount}.{:02}", n % 100) },
            { "developerName": "approved", "contentType": "ContentBoolean", "contentValue": if done { "true" } else { "false" } },
        ]);
        let annotations = match n % 4 {
            0 => json!({}),
            1 => json!({ "channel": "web" }),
            2 => json!({ "channel": "email", "priority": "high" }),
            _ => json!({ "channel": "api", "externalTicket": format!("INC-{}", 4000 + n) }),
        };
        let log = if n.is_multiple_of(5) {
            Value::Null
        } else {
            json!({
                "id": uuid(K_ENTRY, n * 8 + 7),
                "level": if n % 5 == 4 { "warning" } else { "info" },
                "entries": [
                    { "timestamp": ts(created), "message": "State created" },
                    { "timestamp": ts(modified), "message": if done { "Flow completed" } else { "Waiting for input" } },
                ],
            })
        };
        let secret = mix(K_SECRET, n);
        let header = format!("Bearer sbx.{:016x}{:016x}", secret, mix(K_SECRET + 1, n));
        let json = json!({
            "id": id,
            "parentId": parent,
            "dateCreated": ts(created),
            "dateModified": ts(modified),
            "expiresAt": ts(expires),
            "currentFlowId": flow.map(|f| json!({ "id": f.id, "versionId": f.version_id })),
            "currentFlowDeveloperName": flow.map(|f| f.name.clone()),
            "currentMapElementId": current,
            "currentRunningUserEmail": if done { None } else { user.map(|u| u.email.clone()) },
            "isDone": done,
            "isExpired": false,
            "stateEntries": entries,
            "values": values,
            "annotations": annotations,
            "log": log,
            "authorizationHeader": header,
        });
        let json = match json {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        StateRecord {
            id,
            modified,
            expires,
            done,
            json,
        }
    }
}

/// One demo runtime, as both runtime lists show it.
struct Runtime {
    name: &'static str,
    version: &'static str,
    tenant_status: &'static str,
    organization_status: &'static str,
    last_ping: DateTime<Utc>,
    healthy_nodes: u32,
    tenants: u32,
    uri: &'static str,
}

/// The tenant's and the organization's runtime lists.
fn runtimes() -> (Value, Value) {
    let now = at_ms(BOOMI_FLOW_NOW_MS);
    let rows = [
        Runtime {
            name: "eu-west-prod-1",
            version: "2025.02.1",
            tenant_status: "Online",
            organization_status: "Leader",
            last_ping: now - TimeDelta::seconds(30),
            healthy_nodes: 3,
            tenants: 12,
            uri: "https://runtime-eu-1.example.com",
        },
        Runtime {
            name: "us-east-prod-1",
            version: "2025.02.1",
            tenant_status: "Online",
            organization_status: "Online",
            last_ping: now - TimeDelta::seconds(45),
            healthy_nodes: 2,
            tenants: 7,
            uri: "https://runtime-us-1.example.com",
        },
        Runtime {
            name: "onprem-dc2",
            version: "2024.11.3",
            tenant_status: "Offline",
            organization_status: "Offline",
            last_ping: now - TimeDelta::days(5) - TimeDelta::milliseconds(250),
            healthy_nodes: 0,
            tenants: 1,
            uri: "https://flow-runtime.dc2.example.internal",
        },
    ];
    let tenant: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(k, r)| {
            json!({
                "id": uuid(K_RUNTIME, k as u64),
                "developerName": r.name,
                "latestVersion": r.version,
                "status": r.tenant_status,
                "lastPingAt": ts(r.last_ping),
            })
        })
        .collect();
    let mut organization: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(k, r)| {
            json!({
                "id": uuid(K_RUNTIME, k as u64),
                "developerName": r.name,
                "latestVersion": r.version,
                "status": r.organization_status,
                "lastPingAt": ts(r.last_ping),
                "numberOfHealthyNodes": r.healthy_nodes,
                "numberOfTenants": r.tenants,
                "reportedAt": ts(r.last_ping + TimeDelta::milliseconds(120)),
                "uri": r.uri,
            })
        })
        .collect();
    // A runtime registered in the organization but never connected to this tenant.
    organization.push(json!({
        "id": uuid(K_RUNTIME, 3),
        "developerName": "ap-south-staging",
        "latestVersion": null,
        "status": "Unknown",
        "lastPingAt": null,
        "numberOfHealthyNodes": 0,
        "numberOfTenants": 0,
        "reportedAt": null,
        "uri": null,
    }));
    (Value::Array(tenant), Value::Array(organization))
}

/// The current user's API keys: the configured key (the caller's own) and one more.
fn api_keys(config: &BoomiFlowConfig) -> Value {
    let now = at_ms(BOOMI_FLOW_NOW_MS);
    let second: String = (0..2)
        .map(|k| format!("{:016x}", mix(K_SECRET + 2, k)))
        .collect();
    json!([
        { "name": "bdi sandbox", "apiKey": config.api_key, "createdAt": ts(now - TimeDelta::days(60)), "tenantId": config.tenant_id },
        { "name": "CI pipeline", "apiKey": second, "createdAt": ts(now - TimeDelta::days(12) + TimeDelta::milliseconds(377)), "tenantId": config.tenant_id },
    ])
}

/// An audit event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuditType {
    FlowRun,
    UserLogin,
    FlowPublished,
    StateDeleted,
    ApiKeyCreated,
}

impl AuditType {
    pub(crate) const ALL: [AuditType; 5] = [
        AuditType::FlowRun,
        AuditType::UserLogin,
        AuditType::FlowPublished,
        AuditType::StateDeleted,
        AuditType::ApiKeyCreated,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AuditType::FlowRun => "flow_run",
            AuditType::UserLogin => "user_login",
            AuditType::FlowPublished => "flow_published",
            AuditType::StateDeleted => "state_deleted",
            AuditType::ApiKeyCreated => "api_key_created",
        }
    }

    /// The type of event `i`: mostly runs, then logins, publications, deletions, key creations.
    pub(crate) fn of(i: u64) -> AuditType {
        match mix(K_AUDIT_DATA, i) % 100 {
            0..55 => AuditType::FlowRun,
            55..75 => AuditType::UserLogin,
            75..85 => AuditType::FlowPublished,
            85..93 => AuditType::StateDeleted,
            _ => AuditType::ApiKeyCreated,
        }
    }
}

/// `occurredAt` of event `i`, in milliseconds since the Unix epoch.
pub(crate) fn audit_ms(i: u64) -> i64 {
    AUDIT_BASE_MS.saturating_add(
        i64::try_from(i)
            .unwrap_or(i64::MAX)
            .saturating_mul(AUDIT_STEP_MS),
    )
}

/// The first event index whose `occurredAt` is at or after `t`.
pub(crate) fn audit_index_at_or_after(t: DateTime<Utc>) -> u64 {
    let base = at_ms(AUDIT_BASE_MS);
    let step_us = AUDIT_STEP_MS.saturating_mul(1000);
    match (t - base).num_microseconds() {
        Some(d) if d > 0 => {
            u64::try_from(d.div_euclid(step_us) + i64::from(d.rem_euclid(step_us) != 0))
                .unwrap_or(u64::MAX)
        }
        Some(_) => 0,
        // Beyond ±292,000 years.
        None if t > base => u64::MAX,
        None => 0,
    }
}

/// The audit event generator: event `i` is a pure function of `i`, the seed, the tenant, the
/// users and the flows; their JSON fragments are rendered once.
#[derive(Debug)]
pub(crate) struct AuditSource {
    tenant: String,
    user_ids: Vec<String>,
    users: Vec<String>,
    flows: Vec<AuditFlow>,
}

/// A flow as audit events show it.
#[derive(Debug)]
struct AuditFlow {
    /// `{id, version, developerName}`.
    json: String,
    /// Its map element ids, as JSON strings.
    elements: Vec<String>,
}

impl AuditSource {
    fn new(tenant_id: &str, users: &[UserRef], flows: &[BoomiFlowRef]) -> Self {
        AuditSource {
            tenant: json_str(tenant_id),
            user_ids: users.iter().map(|u| u.id.clone()).collect(),
            users: users.iter().map(|u| u.json.to_string()).collect(),
            flows: flows
                .iter()
                .map(|f| AuditFlow {
                    json: json!({ "id": f.id, "version": f.version_id, "developerName": f.name })
                        .to_string(),
                    elements: f.elements.iter().map(|e| json_str(&e.0)).collect(),
                })
                .collect(),
        }
    }

    /// The user of event `i`: none for system events (expired states) or when there are no users.
    pub(crate) fn user_of(&self, i: u64) -> Option<usize> {
        if self.user_ids.is_empty() {
            return None;
        }
        let r = mix(K_AUDIT_DATA + 1, i);
        if AuditType::of(i) == AuditType::StateDeleted && r.is_multiple_of(2) {
            return None;
        }
        usize::try_from((r >> 8) % self.user_ids.len() as u64).ok()
    }

    /// The id of the user of event `i`.
    pub(crate) fn user_id_of(&self, i: u64) -> Option<&str> {
        self.user_of(i).map(|u| self.user_ids[u].as_str())
    }

    fn flow_of(&self, i: u64) -> Option<&AuditFlow> {
        if self.flows.is_empty() {
            return None;
        }
        let k = mix(K_AUDIT_DATA + 2, i) % self.flows.len() as u64;
        self.flows.get(usize::try_from(k).unwrap_or(0))
    }

    /// Appends event `i` as a JSON object.
    pub(crate) fn write_event(&self, i: u64, out: &mut String) {
        let kind = AuditType::of(i);
        let r = mix(K_AUDIT_DATA + 3, i);
        out.push_str("{\"id\":\"");
        write_uuid(out, K_AUDIT, i);
        out.push_str("\",\"type\":\"");
        out.push_str(kind.as_str());
        out.push_str("\",\"occurredAt\":\"");
        write_ts(out, at_ms(audit_ms(i)));
        out.push('"');
        match self.user_of(i) {
            Some(u) => {
                out.push_str(",\"userId\":\"");
                out.push_str(&self.user_ids[u]);
                out.push_str("\",\"user\":");
                out.push_str(&self.users[u]);
            }
            None => out.push_str(",\"userId\":null,\"user\":null"),
        }
        out.push_str(",\"tenantId\":");
        out.push_str(&self.tenant);
        let has_flow = matches!(
            kind,
            AuditType::FlowRun | AuditType::FlowPublished | AuditType::StateDeleted
        );
        if matches!(kind, AuditType::FlowRun | AuditType::StateDeleted) {
            out.push_str(",\"stateId\":\"");
            write_uuid(out, K_AUDIT_STATE, i);
            out.push('"');
        } else {
            out.push_str(",\"stateId\":null");
        }
        let flow = if has_flow { self.flow_of(i) } else { None };
        out.push_str(",\"flow\":");
        out.push_str(flow.map_or("null", |f| f.json.as_str()));
        out.push_str(",\"data\":");
        match kind {
            AuditType::FlowRun => {
                let status = if r.is_multiple_of(10) { 500 } else { 200 };
                let element = flow
                    .and_then(|f| {
                        f.elements
                            .get(usize::try_from((r >> 40) % ELEMENTS_PER_FLOW).unwrap_or(0))
                    })
                    .map_or("null", String::as_str);
                let outcome = ["Go", "Submit", "Approve", "Reject", "Next"]
                    [usize::try_from((r >> 8) % 5).unwrap_or(0)];
                let _ = write!(
                    out,
                    "{{\"HTTPStatus\":{status},\"durationMs\":{},\"mapElementId\":{element},\"outcome\":\"{outcome}\",\"x-correlation-id\":\"corr-{:012x}\"}}",
                    40 + (r >> 16) % 5000,
                    mix(K_AUDIT_DATA + 4, i) >> 16
                );
            }
            AuditType::UserLogin => {
                let status = if r.is_multiple_of(12) { "401" } else { "200" };
                let agent = [
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/133.0",
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) Safari/605.1.15",
                    "boomi-flow-cli/2.4.1",
                ][usize::try_from((r >> 8) % 3).unwrap_or(0)];
                let _ = write!(
                    out,
                    "{{\"HTTPStatus\":\"{status}\",\"ipAddress\":\"10.{}.{}.{}\",\"userAgent\":\"{agent}\",\"isSso\":{}}}",
                    (r >> 16) & 0xff,
                    (r >> 24) & 0xff,
                    1 + (r >> 32) % 254,
                    (r >> 40).is_multiple_of(3)
                );
            }
            AuditType::FlowPublished => {
                out.push_str("{\"flowVersionId\":\"");
                write_uuid(out, K_AUDIT_VERSION, i);
                let env = if r.is_multiple_of(4) {
                    "Development"
                } else {
                    "Production"
                };
                let _ = write!(
                    out,
                    "\",\"comment\":null,\"environment\":\"{env}\",\"elementCount\":{ELEMENTS_PER_FLOW}}}"
                );
            }
            AuditType::StateDeleted => {
                let reason = if self.user_of(i).is_some() {
                    "manual"
                } else {
                    "expired"
                };
                let _ = write!(
                    out,
                    "{{\"reason\":\"{reason}\",\"stateAgeSeconds\":{}}}",
                    3600 + (r >> 8) % 2_592_000
                );
            }
            AuditType::ApiKeyCreated => {
                let name = ["CI pipeline", "Data export", "Monitoring"]
                    [usize::try_from((r >> 8) % 3).unwrap_or(0)];
                let _ = write!(out, "{{\"keyName\":\"{name}\",\"expiresAt\":null}}");
            }
        }
        out.push('}');
    }
}
