//! Fixture catalogs returned by `get_db_metadata` discovery (section 7.2): mixed-case schema
//! names, a table present in two schemas, names differing only by case, and every column
//! field-name variant a client has to read.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use serde_json::{Map, Value, json};

fn cols_a(cols: &[(&str, &str, bool, bool)]) -> Value {
    // Variant A: name / type / is_key / nullable.
    Value::Array(
        cols.iter()
            .map(|(n, t, k, nl)| json!({"name": n, "type": t, "is_key": k, "nullable": nl}))
            .collect(),
    )
}

fn cols_b(cols: &[(&str, &str, bool, bool)]) -> Value {
    // Variant B: column_name / data_type / is_primary_key / is_nullable.
    Value::Array(
        cols.iter()
            .map(|(n, t, k, nl)| {
                json!({"column_name": n, "data_type": t, "is_primary_key": k, "is_nullable": nl})
            })
            .collect(),
    )
}

fn cols_c(cols: &[(&str, &str, bool, bool)]) -> Value {
    // Variant C: field_name / column_type / pk / allow_null, with is_selected.
    Value::Array(
        cols.iter()
            .map(|(n, t, k, nl)| {
                json!({"field_name": n, "column_type": t, "pk": k, "allow_null": nl, "is_selected": true})
            })
            .collect(),
    )
}

/// The MySQL demo catalog.
fn mysql() -> Value {
    json!({
        "sales": {
            "customers": {"columns": cols_a(&[("id", "int", true, false), ("email", "varchar(255)", false, true), ("internal_notes", "text", false, true), ("created_at", "datetime", false, false)])},
            "orders": {"columns": cols_a(&[("order_id", "bigint", true, false), ("customer_id", "int", false, false), ("total", "decimal(12,2)", false, true), ("ordered_at", "datetime", false, false)])},
            "order_items": {"columns": cols_a(&[("order_id", "bigint", true, false), ("line_no", "int", true, false), ("sku", "varchar(64)", false, false), ("qty", "int", false, false)])},
            "broken_events": {"columns": cols_a(&[("event_id", "bigint", true, false), ("payload", "json", false, true)])},
        },
        "crm": {
            "customers": {"columns": cols_b(&[("customer_id", "int", true, false), ("full_name", "varchar(200)", false, true), ("segment", "varchar(20)", false, true)])},
            "Contacts": {"columns": cols_b(&[("contact_id", "int", true, false), ("customer_id", "int", false, false), ("phone", "varchar(32)", false, true)])},
            "Accounts": {"columns": cols_b(&[("account_id", "int", true, false), ("owner", "varchar(100)", false, true)])},
        },
        "billing": {
            "accounts": {"columns": cols_c(&[("account_no", "varchar(20)", true, false), ("balance", "decimal(12,2)", false, true)])},
            "invoices": {"columns": cols_c(&[("invoice_id", "bigint", true, false), ("account_no", "varchar(20)", false, false), ("amount", "decimal(12,2)", false, false)])},
        },
        "Analytics": {
            "Events": {"fields": cols_a(&[("event_id", "bigint", true, false), ("event_type", "varchar(50)", false, false), ("occurred_at", "timestamp", false, false)])},
            "daily_Summary": {"modified_columns": cols_b(&[("day", "date", true, false), ("events", "int", false, false)])},
        },
    })
}

fn postgres() -> Value {
    json!({
        "public": {
            "users": {"columns": cols_a(&[("id", "integer", true, false), ("email", "text", false, false), ("created_at", "timestamptz", false, false)])},
            "payments": {"columns": cols_a(&[("id", "integer", true, false), ("user_id", "integer", false, false), ("amount", "numeric", false, false)])},
        },
        "Reporting": {
            "Users": {"columns": cols_b(&[("user_id", "integer", true, false), ("cohort", "text", false, true)])},
        },
    })
}

fn bigquery() -> Value {
    let entry = |dataset: &str, table: &str, cols: Value| json!({"schema": dataset, "db_name": dataset, "db_type": "bigquery", "table_name": table, "columns": cols});
    let bq = |cols: &[(&str, &str, &str)]| {
        Value::Array(
            cols.iter()
                .map(|(n, t, m)| json!({"name": n, "type": t, "mode": m}))
                .collect(),
        )
    };
    json!({
        "analytics": {
            "sessions": entry("analytics", "sessions", bq(&[("session_id", "STRING", "REQUIRED"), ("started_at", "TIMESTAMP", "NULLABLE")])),
            "pageviews": entry("analytics", "pageviews", bq(&[("session_id", "STRING", "REQUIRED"), ("url", "STRING", "NULLABLE"), ("tags", "STRING", "REPEATED")])),
        },
        "marketing": {
            "campaigns": entry("marketing", "campaigns", bq(&[("campaign_id", "INT64", "REQUIRED"), ("name", "STRING", "NULLABLE")])),
        },
    })
}

fn generic() -> Value {
    json!({
        "main": {
            "items": {"columns": cols_a(&[("id", "int", true, false), ("value", "varchar(100)", false, true)])},
        },
    })
}

/// The full catalog of a connection type.
fn full(slug: &str) -> Value {
    match slug {
        "mysql" => mysql(),
        "postgres" => postgres(),
        "bigquery" => bigquery(),
        _ => generic(),
    }
}

/// The `get_db_metadata` result for a connection type, honouring the optional filters.
///
/// BigQuery ignores the `schemas` filter and returns the whole catalog with only the requested
/// table populated (other tables have `columns: []`), as the real connector does.
pub(crate) fn discover(slug: &str, schemas: Option<&[String]>, table: Option<&str>) -> Value {
    let catalog = full(slug);
    let Value::Object(catalog) = catalog else {
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    for (schema, tables) in catalog {
        let Value::Object(tables) = tables else {
            continue;
        };
        if slug == "bigquery" {
            let mut kept = Map::new();
            for (name, mut entry) in tables {
                if table.is_some_and(|t| t != name)
                    && let Some(e) = entry.as_object_mut()
                {
                    e.insert("columns".to_owned(), json!([]));
                }
                kept.insert(name, entry);
            }
            out.insert(schema, Value::Object(kept));
            continue;
        }
        if schemas.is_some_and(|list| !list.is_empty() && !list.contains(&schema)) {
            continue;
        }
        let kept: Map<String, Value> = tables
            .into_iter()
            .filter(|(name, _)| table.is_none_or(|t| t == name))
            .collect();
        if !kept.is_empty() || table.is_none() {
            out.insert(schema, Value::Object(kept));
        }
    }
    Value::Object(out)
}

/// The schema (database, dataset) names of a connection type.
pub(crate) fn schema_names(slug: &str) -> Value {
    match full(slug) {
        Value::Object(m) => Value::Array(m.keys().map(|k| json!(k)).collect()),
        _ => json!([]),
    }
}
