//! Seeds the account: the default environment always, and with `demo_data` a second environment,
//! 48 connections (one unreachable), the demo data flows of [`crate::demo`], past runs and
//! variables.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use crate::SandboxConfig;
use crate::demo::*;
use crate::model::{CONN_TYPES, ConnType, Connection, Env, Outcome, River, Run, conn_type};
use crate::state::Inner;

pub(crate) fn seed(inner: &mut Inner, config: &SandboxConfig) {
    let now = inner.sys.now();
    let created = now - TimeDelta::days(90);
    let mut prod = Env::new(&config.environment_id, "Production", true, created);
    prod.default_group_id = DEFAULT_GROUP_ID.to_owned();
    if !config.demo_data {
        inner.envs.push(prod);
        return;
    }
    prod.variables = vars(&[
        ("aws_file_zone", "s3://sandbox-file-zone"),
        ("days_ago", "1"),
        ("hours_offset", "0"),
        ("target_schema", "PUBLIC"),
    ]);
    seed_connections(&mut prod, now);
    seed_rivers(&mut prod, now);
    seed_runs(&mut prod, now);

    let mut staging = Env::new(
        SECOND_ENVIRONMENT_ID,
        "Staging",
        false,
        created + TimeDelta::days(1),
    );
    staging.default_group_id = "66d1e2f3a4b5c6d7e8f90a03".to_owned();
    staging.variables = vars(&[("days_ago", "7"), ("target_schema", "STAGING")]);
    staging.connections.push(connection(
        SECOND_ENV_MYSQL_CONNECTION_ID,
        "Staging MySQL",
        "mysql",
        now,
    ));
    staging.connections.push(connection(
        SECOND_ENV_SNOWFLAKE_CONNECTION_ID,
        "Warehouse Snowflake",
        "snowflake",
        now,
    ));
    staging.rivers.push(river(
        SECOND_ENV_FLOW_ID,
        "Staging orders copy",
        "source_to_target",
        s2t(
            "mysql",
            SECOND_ENV_MYSQL_CONNECTION_ID,
            "snowflake",
            SECOND_ENV_SNOWFLAKE_CONNECTION_ID,
            json!([]),
        ),
        false,
        now - TimeDelta::days(10),
    ));
    if let Some(r) = staging.rivers.last_mut() {
        r.group_id = "66d1e2f3a4b5c6d7e8f90a03".to_owned();
    }
    inner.envs.push(prod);
    inner.envs.push(staging);
}

/// Adds `n` source-to-target data flows (MySQL to Snowflake, each with a few tables and a
/// schedule) to the environment `environment_id` (the default one when `None`), named
/// `Bulk flow 0001`, ...: what a benchmark of a large environment reads. Returns their ids.
pub(crate) fn add_data_flows(
    inner: &mut Inner,
    environment_id: Option<&str>,
    n: usize,
) -> Vec<String> {
    let now = inner.sys.now();
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(inner.sys.object_id());
    }
    let Some(env) = inner
        .envs
        .iter_mut()
        .find(|e| environment_id.map_or(e.is_default, |id| e.id == id))
    else {
        return Vec::new();
    };
    let start = env.rivers.len();
    for (i, id) in ids.iter().enumerate() {
        let mut flow = river(
            id,
            &format!("Bulk flow {:04}", start + i + 1),
            "source_to_target",
            s2t(
                "mysql",
                MYSQL_CONNECTION_ID,
                "snowflake",
                SNOWFLAKE_CONNECTION_ID,
                json!([{"name": "sales", "tables": [
                    table("orders", true), table("customers", i % 2 == 0), table("order_items", false),
                ]}]),
            ),
            false,
            now - TimeDelta::days(1),
        );
        flow.schedulers =
            json!([{"cron_expression": format!("{} * * * *", i % 60), "is_enabled": false}]);
        env.rivers.push(flow);
    }
    ids
}

/// Adds `n` connections to the default environment (`Bulk connection 0001`, ..., cycling through
/// the connection types), for tests of a large environment; returns their ids.
pub(crate) fn add_connections(inner: &mut Inner, n: usize) -> Vec<String> {
    let now = inner.sys.now();
    let ids: Vec<String> = (0..n).map(|_| inner.sys.object_id()).collect();
    let Some(env) = inner.envs.iter_mut().find(|e| e.is_default) else {
        return Vec::new();
    };
    let start = env.connections.len();
    for (i, id) in ids.iter().enumerate() {
        let slug = CONN_TYPES[i % CONN_TYPES.len()].slug;
        env.connections.push(connection(
            id,
            &format!("Bulk connection {:04}", start + i + 1),
            slug,
            now,
        ));
    }
    ids
}

fn vars(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect()
}

fn kind(slug: &str) -> &'static ConnType {
    conn_type(slug).unwrap_or(&CONN_TYPES[0])
}

fn connection(id: &str, name: &str, slug: &str, now: DateTime<Utc>) -> Connection {
    let kind = kind(slug);
    let mut params = Map::new();
    let mut secrets = Map::new();
    for p in kind.params.iter().take(4) {
        let value = match *p {
            "port" => json!(3306),
            "host" => json!(format!("{slug}.sandbox.internal")),
            "username" => json!("sandbox"),
            other => json!(format!("demo_{other}")),
        };
        params.insert((*p).to_owned(), value);
    }
    for s in kind.secrets {
        secrets.insert((*s).to_owned(), json!("sandbox-secret"));
    }
    Connection {
        cross_id: id.to_owned(),
        name: name.to_owned(),
        kind,
        params,
        secrets,
        unreachable: false,
        updated_at: now - TimeDelta::days(30),
    }
}

fn seed_connections(env: &mut Env, now: DateTime<Utc>) {
    env.connections.push(connection(
        MYSQL_CONNECTION_ID,
        "Orders MySQL",
        "mysql",
        now,
    ));
    env.connections.push(connection(
        POSTGRES_CONNECTION_ID,
        "App Postgres",
        "postgres",
        now,
    ));
    env.connections.push(connection(
        SNOWFLAKE_CONNECTION_ID,
        "Warehouse Snowflake",
        "snowflake",
        now,
    ));
    env.connections.push(connection(
        BIGQUERY_CONNECTION_ID,
        "Marketing BigQuery",
        "bigquery",
        now,
    ));
    let mut oracle = connection(
        UNREACHABLE_CONNECTION_ID,
        "Legacy ERP Oracle (unreachable)",
        "oracle",
        now,
    );
    oracle.unreachable = true;
    env.connections.push(oracle);
    env.connections.push(connection(
        SHEETS_CONNECTION_ID,
        "Budget Google Sheets",
        "google_sheets",
        now,
    ));
    let filler = [
        "mssql",
        "redshift",
        "s3",
        "zendesk",
        "jira",
        "azure_blob_storage",
        "rest_api",
        "postgres",
        "mysql",
    ];
    let mut i = 0usize;
    while env.connections.len() < DEMO_CONNECTION_COUNT {
        let slug = filler[i % filler.len()];
        let id = format!("64b0c0a1e4b0a1c2d3e4{:04x}", 0x1000 + i);
        let name = format!("Filler {:02} {}", i + 1, kind(slug).display);
        env.connections.push(connection(&id, &name, slug, now));
        i += 1;
    }
}

fn s2t(source: &str, source_conn: &str, target: &str, target_conn: &str, schemas: Value) -> Value {
    json!({
        "properties_type": "source_to_target",
        "source": {"name": source, "connection_id": source_conn, "run_type": "multi_tables", "additional_settings": {"extract_method": "all"}},
        "target": {"name": target, "connection_id": target_conn, "loading_method": "merge", "merge_method": "merge", "database_name": "ANALYTICS", "schema_name": "PUBLIC"},
        "schemas": schemas,
    })
}

fn table(name: &str, selected: bool) -> Value {
    json!({"run_type_and_datasource": "multi_tables", "details": {
        "name": name, "is_selected": selected, "target_table": name.to_uppercase(), "extract_method": "all",
        "modified_columns": [], "is_custom_incremental": false, "exporter_chunk_size": 30000,
    }})
}

fn settings() -> Value {
    json!({"run_timeout_seconds": null, "notification": {
        "warning": {"email": "", "is_enabled": false},
        "failure": {"email": "data-team@example.com", "is_enabled": true},
        "run_threshold": {"email": "", "is_enabled": false, "execution_time_limit_seconds": null},
    }})
}

fn river(
    id: &str,
    name: &str,
    river_type: &str,
    properties: Value,
    active: bool,
    created: DateTime<Utc>,
) -> River {
    River {
        cross_id: id.to_owned(),
        name: name.to_owned(),
        river_type: river_type.to_owned(),
        kind: "main_river".to_owned(),
        group_id: DEFAULT_GROUP_ID.to_owned(),
        group_name: "Default group".to_owned(),
        description: json!(format!("Demo data flow: {name}")),
        settings: settings(),
        properties,
        schedulers: json!([]),
        active,
        is_api_v2: true,
        initialized: true,
        cdc_enabled: false,
        version_id: format!("67{}", &id[2..]),
        created_at: created,
        updated_at: created + TimeDelta::hours(1),
        recent_runs: Vec::new(),
    }
}

fn seed_rivers(env: &mut Env, now: DateTime<Utc>) {
    let mut orders = river(
        ORDERS_FLOW_ID,
        "MySQL orders to Snowflake",
        "source_to_target",
        s2t(
            "mysql",
            MYSQL_CONNECTION_ID,
            "snowflake",
            SNOWFLAKE_CONNECTION_ID,
            json!([{"name": "sales", "tables": [
                table("orders", true), table("customers", true), table("order_items", true), table(BROKEN_TABLE, false),
            ]}]),
        ),
        true,
        now - TimeDelta::days(60),
    );
    orders.schedulers = json!([{"cron_expression": "0 * * * *", "is_enabled": true}]);
    env.rivers.push(orders);

    env.rivers.push(river(
        NEW_FLOW_ID,
        "New Postgres flow",
        "source_to_target",
        s2t(
            "postgres",
            POSTGRES_CONNECTION_ID,
            "snowflake",
            SNOWFLAKE_CONNECTION_ID,
            json!([]),
        ),
        false,
        now - TimeDelta::days(2),
    ));

    let mut legacy = river(
        LEGACY_FLOW_ID,
        "Legacy console flow",
        "source_to_target",
        s2t(
            "mysql",
            MYSQL_CONNECTION_ID,
            "snowflake",
            SNOWFLAKE_CONNECTION_ID,
            json!([{"name": "crm", "tables": [table("customers", true)]}]),
        ),
        true,
        now - TimeDelta::days(400),
    );
    legacy.is_api_v2 = false;
    env.rivers.push(legacy);

    let mut logic = river(
        LOGIC_FLOW_ID,
        "Nightly orchestration",
        "logic",
        json!({"properties_type": "logic", "logic_steps": [
            {"step_id": "5ca1ab1e0000000000000001", "is_enabled": true, "step_name": "Load orders", "river_id": ORDERS_FLOW_ID},
        ]}),
        true,
        now - TimeDelta::days(30),
    );
    logic.group_id = ANALYTICS_GROUP_ID.to_owned();
    logic.group_name = "Analytics".to_owned();
    env.rivers.push(logic);

    let mut cdc_props = s2t(
        "mysql",
        MYSQL_CONNECTION_ID,
        "snowflake",
        SNOWFLAKE_CONNECTION_ID,
        json!([{"name": "crm", "tables": [table("Contacts", true)]}]),
    );
    if let Some(m) = cdc_props.pointer_mut("/source/additional_settings") {
        *m = json!({"extract_method": "log"});
    }
    if let Some(d) = cdc_props.pointer_mut("/schemas/0/tables/0/details/extract_method") {
        *d = json!("log");
    }
    let mut cdc = river(
        CDC_FLOW_ID,
        "CRM contacts CDC",
        "source_to_target",
        cdc_props,
        true,
        now - TimeDelta::days(20),
    );
    cdc.cdc_enabled = true;
    cdc.schedulers = json!([{"cron_expression": "*/15 * * * *", "is_enabled": true}]);
    env.rivers.push(cdc);

    let mut report_props = s2t(
        "google_sheets",
        SHEETS_CONNECTION_ID,
        "bigquery",
        BIGQUERY_CONNECTION_ID,
        json!([]),
    );
    if let Some(s) = report_props.pointer_mut("/source/run_type") {
        *s = json!("predefined_report");
    }
    if let Some(t) = report_props
        .get_mut("target")
        .and_then(Value::as_object_mut)
    {
        t.insert("loading_method".to_owned(), json!("overwrite"));
        t.remove("merge_method");
        t.insert("dataset_id".to_owned(), json!("finance"));
        t.insert("table_name".to_owned(), json!("budget"));
    }
    let mut report = river(
        REPORT_FLOW_ID,
        "Budget sheet to BigQuery",
        "source_to_target",
        report_props,
        true,
        now - TimeDelta::days(15),
    );
    report.group_id = ANALYTICS_GROUP_ID.to_owned();
    report.group_name = "Analytics".to_owned();
    env.rivers.push(report);

    env.rivers.push(river(
        UNREACHABLE_FLOW_ID,
        "Legacy ERP extract",
        "source_to_target",
        s2t(
            "oracle",
            UNREACHABLE_CONNECTION_ID,
            "snowflake",
            SNOWFLAKE_CONNECTION_ID,
            json!([{"name": "ERP", "tables": [table("GL_ENTRIES", true)]}]),
        ),
        false,
        now - TimeDelta::days(5),
    ));
}

#[allow(clippy::too_many_arguments, reason = "a private fixture builder")]
fn past_run(
    run_id: &str,
    group: &str,
    river: &str,
    source: &str,
    schema: Option<&str>,
    target: &str,
    start: DateTime<Utc>,
    outcome: Outcome,
) -> Run {
    let secs = 40 + i64::try_from(target.len()).unwrap_or(0) * 7;
    let failed = matches!(outcome, Outcome::Failed(_));
    Run {
        run_id: run_id.to_owned(),
        run_group_id: group.to_owned(),
        river_cross_id: river.to_owned(),
        datasource_id: source.to_owned(),
        source_schema: schema.map(str::to_owned),
        target_name: Some(target.to_owned()),
        sub_river_id: None,
        start,
        end: Some(start + TimeDelta::seconds(secs)),
        polls: 0,
        steps: 0,
        outcome,
        units: if failed { 0.1 } else { 0.5 },
        rows: if failed {
            0
        } else {
            1200 + target.len() as u64 * 100
        },
        trigger: "scheduler".to_owned(),
        keeps_logs: !crate::model::SOURCES_WITHOUT_LOGS.contains(&source),
        extra_log_lines: 0,
    }
}

fn seed_runs(env: &mut Env, now: DateTime<Utc>) {
    let groups = [
        (
            ORDERS_OK_RUN_GROUP_ID,
            now - TimeDelta::days(3),
            [
                "1b2c3d4e5f60418293a4b5c6d7e8f911",
                "1b2c3d4e5f60418293a4b5c6d7e8f912",
                "1b2c3d4e5f60418293a4b5c6d7e8f913",
            ],
        ),
        (
            ORDERS_PARTIAL_RUN_GROUP_ID,
            now - TimeDelta::days(2),
            [
                "1b2c3d4e5f60418293a4b5c6d7e8f921",
                "1b2c3d4e5f60418293a4b5c6d7e8f922",
                ORDERS_FAILED_RUN_ID,
            ],
        ),
        (
            ORDERS_LAST_RUN_GROUP_ID,
            now - TimeDelta::hours(2),
            [
                ORDERS_LAST_RUN_ID,
                "1b2c3d4e5f60418293a4b5c6d7e8f932",
                "1b2c3d4e5f60418293a4b5c6d7e8f933",
            ],
        ),
    ];
    for (group, start, ids) in groups {
        for (run_id, target) in ids.iter().zip(["orders", "customers", "order_items"]) {
            let outcome = if *run_id == ORDERS_FAILED_RUN_ID {
                Outcome::Failed("[RVR-MYSQL-2013] Lost connection to MySQL server during query while extracting sales.order_items".to_owned())
            } else {
                Outcome::Succeeded
            };
            env.runs.push(past_run(
                run_id,
                group,
                ORDERS_FLOW_ID,
                "mysql",
                Some("sales"),
                target,
                start,
                outcome,
            ));
        }
    }
    env.runs.push(past_run(
        REPORT_RUN_ID,
        "0a1b2c3d4e5f40718293a4b5c6d7e8f3",
        REPORT_FLOW_ID,
        "google_sheets",
        None,
        "budget",
        now - TimeDelta::hours(5),
        Outcome::Succeeded,
    ));
}
