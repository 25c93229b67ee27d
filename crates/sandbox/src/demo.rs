//! Ids of the seeded demo objects (all valid 24-hex object ids or 32-hex run ids), so tests and
//! docs can name them. They exist only when `SandboxConfig::demo_data` is true.

/// The second environment of the account ("Staging"); the default one is "Production".
pub const SECOND_ENVIRONMENT_ID: &str = "6a7b8c9d0e1f2a3b4c5d6e80";
/// The default river group of the default environment.
pub const DEFAULT_GROUP_ID: &str = "66d1e2f3a4b5c6d7e8f90a01";
/// A second river group ("Analytics").
pub const ANALYTICS_GROUP_ID: &str = "66d1e2f3a4b5c6d7e8f90a02";

/// MySQL source connection with the discovery fixture catalog (schemas `sales`, `crm`,
/// `billing`, `Analytics`).
pub const MYSQL_CONNECTION_ID: &str = "64b0c0a1e4b0a1c2d3e4f501";
/// PostgreSQL connection (catalog: `public`, `Reporting`).
pub const POSTGRES_CONNECTION_ID: &str = "64b0c0a1e4b0a1c2d3e4f502";
/// Snowflake target connection.
pub const SNOWFLAKE_CONNECTION_ID: &str = "64b0c0a1e4b0a1c2d3e4f503";
/// BigQuery connection (discovery ignores the `schemas` filter, as upstream does).
pub const BIGQUERY_CONNECTION_ID: &str = "64b0c0a1e4b0a1c2d3e4f504";
/// Oracle connection marked unreachable: activation of a flow using it and discovery on it end in E.
pub const UNREACHABLE_CONNECTION_ID: &str = "64b0c0a1e4b0a1c2d3e4f505";
/// Google Sheets connection (an API source whose runs keep no logs).
pub const SHEETS_CONNECTION_ID: &str = "64b0c0a1e4b0a1c2d3e4f506";
/// A MySQL connection in the second environment.
pub const SECOND_ENV_MYSQL_CONNECTION_ID: &str = "64b0c0a1e4b0a1c2d3e4f5a1";
/// The second environment's Snowflake connection, named as the first environment's is
/// ("Warehouse Snowflake"), so a promotion maps it by name.
pub const SECOND_ENV_SNOWFLAKE_CONNECTION_ID: &str = "64b0c0a1e4b0a1c2d3e4f5a2";
/// How many connections the demo environment holds (several pages at 20 per page).
pub const DEMO_CONNECTION_COUNT: usize = 48;

/// Active MySQL -> Snowflake flow with `sales.orders`, `sales.customers` and `sales.order_items`
/// selected (`sales.broken_events` listed but not selected) and three past run groups.
pub const ORDERS_FLOW_ID: &str = "65c1d2e3f4a5b6c7d8e9f001";
/// Disabled Postgres -> Snowflake flow with no tables (already PUT once, so it can be activated).
pub const NEW_FLOW_ID: &str = "65c1d2e3f4a5b6c7d8e9f002";
/// A legacy console flow (`is_api_v2: false`): GET and PUT answer 400.
pub const LEGACY_FLOW_ID: &str = "65c1d2e3f4a5b6c7d8e9f003";
/// A logic flow: always active, `disable_river` answers 400.
pub const LOGIC_FLOW_ID: &str = "65c1d2e3f4a5b6c7d8e9f004";
/// An active CDC flow (`extract_method: "log"`, enabled scheduler): PUT of changed properties answers 400.
pub const CDC_FLOW_ID: &str = "65c1d2e3f4a5b6c7d8e9f005";
/// An active Google Sheets -> BigQuery `predefined_report` flow: one run per trigger, no logs.
pub const REPORT_FLOW_ID: &str = "65c1d2e3f4a5b6c7d8e9f006";
/// A disabled flow whose source is the unreachable Oracle connection (activation ends in E).
pub const UNREACHABLE_FLOW_ID: &str = "65c1d2e3f4a5b6c7d8e9f007";
/// A flow in the second environment.
pub const SECOND_ENV_FLOW_ID: &str = "65c1d2e3f4a5b6c7d8e9f008";

/// Run group of the oldest demo run of the orders flow (all three tables succeeded, 3 days ago).
pub const ORDERS_OK_RUN_GROUP_ID: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f0";
/// Run group with one failed table (`order_items`), 2 days ago: "partially succeeded".
pub const ORDERS_PARTIAL_RUN_GROUP_ID: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f1";
/// The failed run (`order_items`) of [`ORDERS_PARTIAL_RUN_GROUP_ID`], with an `error_description`.
pub const ORDERS_FAILED_RUN_ID: &str = "1b2c3d4e5f60418293a4b5c6d7e8f901";
/// The latest run group of the orders flow (all succeeded, 2 hours ago).
pub const ORDERS_LAST_RUN_GROUP_ID: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f2";
/// The `orders` run of [`ORDERS_LAST_RUN_GROUP_ID`].
pub const ORDERS_LAST_RUN_ID: &str = "1b2c3d4e5f60418293a4b5c6d7e8f902";
/// The single past run of the report flow (succeeded, empty logs).
pub const REPORT_RUN_ID: &str = "1b2c3d4e5f60418293a4b5c6d7e8f903";

/// The fixture table whose runs always fail: select `sales.broken_events` in a flow and run it.
pub const BROKEN_TABLE: &str = "broken_events";
