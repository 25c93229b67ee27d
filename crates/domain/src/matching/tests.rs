//! Tests of discovery parsing, table matching and the schemas builder.

use serde_json::{Value, json};

use super::*;

fn catalog() -> Catalog {
    Catalog::from_discovery(&json!({
        "sales": {
            "Customers": {"columns": [{"name": "id", "type": "int", "is_key": true, "nullable": false}]},
            "orders": [{"column_name": "id"}],
            "order_items": {"fields": []}
        },
        "archive": {
            "orders": {"modified_columns": []},
            "Customers_2019": {}
        },
        "CaseDb": {"users": {}, "Users": {}}
    }))
    .expect("catalog parses")
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn q(schema: &str, table: &str) -> QualifiedTable {
    QualifiedTable {
        schema: schema.to_owned(),
        table: table.to_owned(),
    }
}

#[test]
fn discovery_results_parse_every_documented_shape() {
    let c = catalog();
    assert_eq!(c.schemas.len(), 3);
    assert_eq!(c.table_count(), 7);
    let sales = &c.schemas[0];
    assert_eq!(sales.name, "sales");
    assert_eq!(sales.tables[0].name, "Customers");
    assert_eq!(
        sales.tables[0].columns,
        vec![Column {
            name: "id".into(),
            data_type: "int".into(),
            is_key: true,
            nullable: false
        }]
    );
    assert_eq!(sales.tables[1].columns[0].name, "id");
    assert_eq!(sales.tables[1].columns[0].data_type, "STRING");
    let as_string = Value::String(json!({"s": {"t": []}}).to_string());
    assert_eq!(
        Catalog::from_discovery(&as_string)
            .expect("string form")
            .table_count(),
        1
    );
    assert!(Catalog::from_discovery(&json!([1, 2])).is_err());
    assert!(Catalog::from_discovery(&Value::Null).is_err());
}

#[test]
fn column_field_variants_are_read_in_order() {
    let cases = [
        (
            json!({"name": "a", "data_type": "varchar"}),
            ("a", "varchar", false, true),
        ),
        (
            json!({"field_name": "b", "column_type": "date", "pk": 1}),
            ("b", "date", true, true),
        ),
        (
            json!({"column_name": "c", "target_type": "x", "is_nullable": "NO"}),
            ("c", "x", false, false),
        ),
        (
            json!({"name": "d", "mode": "REQUIRED", "nullable": true}),
            ("d", "STRING", false, false),
        ),
        (
            json!({"name": "e", "mode": "REPEATED"}),
            ("e", "STRING", false, true),
        ),
        (
            json!({"name": "f", "is_primary_key": true, "allow_null": false}),
            ("f", "STRING", true, false),
        ),
        (
            json!({"name": "g", "primary_key": "true", "is_null": 0}),
            ("g", "STRING", true, false),
        ),
        (
            json!({"name": "h", "key": "PRI"}),
            ("h", "STRING", true, true),
        ),
        (json!("i"), ("i", "STRING", false, true)),
    ];
    for (raw, (name, ty, key, nullable)) in cases {
        let c = column_of(&raw).expect("column parses");
        assert_eq!(
            (c.name.as_str(), c.data_type.as_str(), c.is_key, c.nullable),
            (name, ty, key, nullable),
            "{raw}"
        );
    }
    assert!(column_of(&json!({"type": "int"})).is_none());
}

#[test]
fn names_match_case_insensitively_and_qualified() {
    let c = catalog();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case<'_>] = &[
        (&["customers"], &[("sales", "Customers")]),
        (
            &["CUSTOMERS", "order_items"],
            &[("sales", "Customers"), ("sales", "order_items")],
        ),
        (&["sales.orders"], &[("sales", "orders")]),
        (&["ARCHIVE.ORDERS"], &[("archive", "orders")]),
        (&[" customers_2019 "], &[("archive", "Customers_2019")]),
        (&["users"], &[("CaseDb", "users")]),
        (&["Users"], &[("CaseDb", "Users")]),
        (
            &["customers", "Customers", "sales.customers"],
            &[("sales", "Customers")],
        ),
        (
            &["order_items", "customers", "archive.orders"],
            &[
                ("sales", "order_items"),
                ("sales", "Customers"),
                ("archive", "orders"),
            ],
        ),
    ];
    for (input, want) in cases {
        let got = match_tables(&c, &names(input)).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let want: Vec<QualifiedTable> = want.iter().map(|(s, t)| q(s, t)).collect();
        assert_eq!(got, want, "{input:?}");
    }
}

#[test]
fn problems_are_all_reported_together() {
    let c = catalog();
    let err = match_tables(
        &c,
        &names(&[
            "orders",
            "custmers",
            "zzzzzzzzzz",
            "",
            "uSeRs",
            "sales.orders",
        ]),
    )
    .expect_err("several problems");
    assert_eq!(err.problems.len(), 5);
    assert_eq!(
        err.problems[0],
        MatchProblem::Ambiguous {
            name: "orders".into(),
            candidates: vec!["sales.orders".into(), "archive.orders".into()]
        }
    );
    match &err.problems[1] {
        MatchProblem::Unknown { name, candidates } => {
            assert_eq!(name, "custmers");
            assert_eq!(
                candidates.first().map(String::as_str),
                Some("sales.Customers")
            );
            assert!(candidates.len() <= 3);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.problems[2],
        MatchProblem::Unknown {
            name: "zzzzzzzzzz".into(),
            candidates: vec![]
        }
    );
    assert_eq!(err.problems[3], MatchProblem::Empty);
    assert!(
        matches!(&err.problems[4], MatchProblem::Ambiguous { candidates, .. } if candidates.len() == 2)
    );
    assert!(err.has_unknown());
    let msg = Error::from(err).to_string();
    for needle in [
        "invalid table_names: 5 of 6 table names",
        "`orders` matches several tables (sales.orders, archive.orders); write it as schema.table",
        "`custmers` matches no table; did you mean sales.Customers",
        "`zzzzzzzzzz` matches no table, and no table has a similar name",
        "nothing was changed",
    ] {
        assert!(msg.contains(needle), "{needle} not in {msg}");
    }
}

#[test]
fn closest_candidates_rank_by_distance() {
    let c = catalog();
    let cases: &[(&str, &[&str])] = &[
        (
            "order",
            &["sales.orders", "archive.orders", "sales.order_items"],
        ),
        ("custmers", &["sales.Customers"]),
        ("customer_2019", &["archive.Customers_2019"]),
        ("archive.order", &["archive.orders"]),
        ("qqqqqqq", &[]),
    ];
    for (name, want) in cases {
        assert_eq!(closest(&c, name, 3), names(want), "{name}");
    }
}

#[test]
fn edit_distance_cases() {
    for (a, b, d) in [
        ("", "", 0),
        ("abc", "abc", 0),
        ("abc", "abd", 1),
        ("kitten", "sitting", 3),
        ("", "ab", 2),
        ("ab", "", 2),
    ] {
        assert_eq!(edit_distance(a, b), d, "{a} {b}");
    }
}

#[test]
fn build_schemas_groups_in_input_order_and_keeps_details() {
    let current = json!([
        {"name": "sales", "tables": [
            {"run_type_and_datasource": "multi_tables",
             "details": {"name": "customers", "is_selected": false, "extract_method": "incremental",
                         "incremental_field": "updated_at", "modified_columns": [{"name": "x", "is_selected": false}]}},
            {"run_type_and_datasource": "multi_tables", "details": {"name": "dropped", "is_selected": true}}
        ]}
    ]);
    let matched = vec![
        q("sales", "Customers"),
        q("archive", "orders"),
        q("sales", "orders"),
    ];
    let got = build_schemas(&current, &matched);
    assert_eq!(
        got,
        json!([
            {"name": "sales", "tables": [
                {"run_type_and_datasource": "multi_tables",
                 "details": {"name": "Customers", "is_selected": true, "extract_method": "incremental",
                             "incremental_field": "updated_at", "modified_columns": [{"name": "x", "is_selected": false}]}},
                {"run_type_and_datasource": "multi_tables", "details": {"name": "orders", "is_selected": true}}
            ]},
            {"name": "archive", "tables": [
                {"run_type_and_datasource": "multi_tables", "details": {"name": "orders", "is_selected": true}}
            ]}
        ])
    );
}

#[test]
fn build_schemas_tolerates_odd_current_values() {
    let matched = vec![q("s", "t")];
    let want = json!([{"name": "s", "tables": [{"run_type_and_datasource": "multi_tables", "details": {"name": "t", "is_selected": true}}]}]);
    for current in [
        Value::Null,
        json!({}),
        json!([1, {"tables": 3}, {"name": "s", "tables": [{"details": 5}]}]),
    ] {
        assert_eq!(build_schemas(&current, &matched), want, "{current}");
    }
    assert_eq!(build_schemas(&Value::Null, &[]), json!([]));
}
