//! Cuts of results over their budget: each keeps what fits, stays within the budget, and says
//! what it left out and which argument gets it.

use serde_json::json;

use super::*;

/// Cuts `value` as `tool`'s result with `args`, checks it fits `budget`, and returns it with its
/// `truncated`.
fn check(tool: &str, args: Value, value: &Value, budget: usize) -> (Value, Truncated) {
    let args = args.as_object().cloned().unwrap_or_default();
    let cut = fit(tool, &args, value, budget);
    assert!(
        size(&cut) <= budget,
        "{tool}: {} bytes over {budget}: {cut}",
        size(&cut)
    );
    let t: Truncated = serde_json::from_value(cut[FIELD].clone()).expect("truncated is set");
    assert!(!t.reason.is_empty() && !t.next.is_empty(), "{t:?}");
    (cut, t)
}

fn flows(n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"data_flow_id": format!("{i:024x}"), "name": format!("Bulk flow {i:04}"), "is_api_v2": true}))
        .collect();
    json!({"items": items, "total_items": n * 3, "page": 1, "has_next": true})
}

#[test]
fn a_result_within_its_budget_is_left_as_it_is() {
    let small = flows(3);
    let args = JsonObject::new();
    assert_eq!(fit("list_data_flows", &args, &small, BUDGET), small);
}

#[test]
fn a_page_keeps_its_first_items_and_names_the_page_size_that_gets_the_rest() {
    let page = flows(100);
    let (cut, t) = check(
        "list_data_flows",
        json!({"items_per_page": 100}),
        &page,
        2048,
    );
    let kept = cut["items"].as_array().unwrap();
    assert_eq!(kept[..], page["items"].as_array().unwrap()[..kept.len()]);
    assert_eq!(t.omitted_items, Some(100 - kept.len()));
    assert_eq!(cut["has_next"], true);
    assert!(
        t.next.starts_with(&format!(
            "call again with items_per_page={} and page=2,",
            kept.len()
        )),
        "{t:?}"
    );
}

#[test]
fn a_later_page_names_the_page_that_holds_the_first_item_left_out() {
    let mut page = flows(100);
    page["page"] = json!(3);
    let (cut, t) = check(
        "list_data_flows",
        json!({"items_per_page": 100, "page": 3}),
        &page,
        2048,
    );
    let k = cut["items"].as_array().unwrap().len();
    let first = 200 + k;
    let from = first / k + 1;
    let seen = first - (from - 1) * k;
    assert!(
        t.next.starts_with(&format!(
            "call again with items_per_page={k} and page={from}"
        )),
        "{t:?}"
    );
    assert_eq!(
        t.next
            .contains(&format!("(its first {seen} were returned here)")),
        seen > 0,
        "{t:?}"
    );
}

#[test]
fn a_log_keeps_its_header_and_last_lines_and_adds_to_what_its_tail_left_out() {
    let lines: Vec<String> = (1..=500)
        .map(|i| format!("2026-01-01T00:00:{i:03}Z,INFO,Read batch {i} of 500"))
        .collect();
    let csv = format!("timestamp,level,message\n{}", lines.join("\n"));
    let log = json!({
        "run_id": "r", "total_lines": 600, "returned_lines": 500, "csv": csv,
        "truncated": {"omitted_lines": 100, "reason": "tail_lines=500 keeps the last 500 lines", "next": "a larger tail_lines returns more"},
    });
    let (cut, t) = check("get_run_logs", json!({"tail_lines": 500}), &log, 1024);
    let text = cut["csv"].as_str().unwrap();
    assert!(text.starts_with("timestamp,level,message\n"), "{text}");
    assert!(text.ends_with("Read batch 500 of 500"), "{text}");
    let returned = cut["returned_lines"].as_u64().unwrap() as usize;
    assert_eq!(text.lines().count(), returned + 1);
    assert_eq!(t.omitted_lines, Some(600 - returned));
    assert!(
        t.reason
            .starts_with("tail_lines=500 keeps the last 500 lines; "),
        "{t:?}"
    );
    assert!(
        t.reason.contains("1024-byte budget") && t.next.contains("errors_only=true"),
        "{t:?}"
    );
    assert!(
        t.next
            .contains(&format!("tail_lines={returned} returns what fits")),
        "{t:?}"
    );
}

#[test]
fn a_document_elides_its_largest_field_at_the_depth_that_suffices() {
    let tables: Vec<Value> = (0..200)
        .map(|i| json!({"name": format!("table_{i}"), "is_selected": true}))
        .collect();
    let doc = json!({
        "cross_id": "507f191e810c19729de860ea", "name": "orders",
        "properties": {"source": {"name": "mysql"}, "target": {"name": "snowflake"},
                       "schemas": [{"name": "sales", "tables": tables}]},
        "schedulers": [],
    });
    let (cut, t) = check("get_data_flow", json!({}), &doc, 2048);
    // The list keeps its first tables that fit, then says how many more there were.
    let kept = cut["properties"]["schemas"][0]["tables"]
        .as_array()
        .unwrap()
        .clone();
    let shown = kept.len() - 1;
    assert!(shown > 10, "{kept:?}");
    assert_eq!(kept[..shown], tables[..shown]);
    assert_eq!(
        kept[shown],
        json!(format!(
            "{ELIDED} {} more items, see truncated>",
            200 - shown
        ))
    );
    assert_eq!(
        t.elided_fields,
        [format!(
            "properties.schemas[0].tables ({} of 200 items)",
            200 - shown
        )]
    );
    assert_eq!(cut["properties"]["source"], doc["properties"]["source"]);
    assert_eq!(cut["properties"]["schemas"][0]["name"], "sales");
    assert_eq!(cut["name"], "orders");
    assert!(t.next.contains("patch_data_flow"), "{t:?}");
    assert_eq!(
        elided_field(&cut),
        Some(format!("properties.schemas[0].tables[{shown}]")),
        "a cut document is recognised"
    );
    assert_eq!(elided_field(&doc), None);
}

#[test]
fn rows_add_to_what_the_query_engine_left_out() {
    let rows: Vec<Value> = (0..200).map(|i| json!([i, "x".repeat(40)])).collect();
    let answer = json!({
        "columns": ["i", "pad"], "rows": rows, "row_count": 200,
        "truncated": {"reason": "cut at 200 rows", "next": "narrow the query"},
    });
    let (cut, t) = check("query_history", json!({"sql": "select ..."}), &answer, 4096);
    let kept = cut["rows"].as_array().unwrap().len();
    assert_eq!(t.omitted_rows, Some(200 - kept));
    assert_eq!(cut["row_count"], kept, "row_count counts the rows returned");
    assert!(t.reason.starts_with("cut at 200 rows; "), "{t:?}");
    assert!(
        t.next.contains(&format!("LIMIT {kept} OFFSET {kept}")),
        "{t:?}"
    );
}

#[test]
fn a_map_keeps_its_first_entries() {
    let vars: Map<String, Value> = (0..300)
        .map(|i| (format!("var_{i:03}"), json!("v".repeat(30))))
        .collect();
    let result = json!({"variables": vars, "count": 300});
    let (cut, t) = check("list_variables", json!({}), &result, 2048);
    let kept = cut["variables"].as_object().unwrap();
    assert!(kept.contains_key("var_000"), "{cut}");
    assert_eq!(t.omitted_items, Some(300 - kept.len()));
    assert_eq!(cut["count"], 300);
}

#[test]
fn what_surrounds_a_list_is_cut_as_a_document_when_the_list_alone_does_not_suffice() {
    let result = json!({
        "statistics": {"by_day": "d".repeat(3000)},
        "breakdown": {"items": (0..50).map(|i| json!({"n": i})).collect::<Vec<_>>()},
    });
    let (_, t) = check("get_activity_summary", json!({}), &result, 1024);
    assert_eq!(t.elided_fields, ["statistics.by_day"]);
    assert!(
        t.omitted_items.is_some() && t.next.contains("include_data_flows=false"),
        "{t:?}"
    );
}

#[test]
fn a_result_of_only_small_fields_says_it_kept_nothing() {
    let wide: Map<String, Value> = (0..300)
        .map(|i| (format!("field_{i:03}"), json!(i)))
        .collect();
    let (cut, t) = check("get_run_group", json!({}), &Value::Object(wide), 1024);
    assert_eq!(cut.as_object().unwrap().len(), 1, "{cut}");
    assert!(t.reason.ends_with("nothing of it could be kept"), "{t:?}");
    assert!(t.next.contains("list_runs(run_group_id="), "{t:?}");
}
