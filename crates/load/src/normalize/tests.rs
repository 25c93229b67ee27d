//! Tests of the normalizer: flattening, child tables and their links, types, variants, nulls.

use serde_json::{Value, json};

use super::*;
use crate::schema::{Cell, DataType};

fn columns(schema: &Schema, table: &str) -> Vec<(String, DataType)> {
    schema.tables[table]
        .columns
        .iter()
        .map(|(n, c)| (n.clone(), c.data_type))
        .collect()
}

fn names(schema: &Schema, table: &str) -> Vec<String> {
    columns(schema, table).into_iter().map(|(n, _)| n).collect()
}

fn cell(schema: &Schema, batch: &Batch, table: &str, row: usize, column: &str) -> Cell {
    let i = schema.tables[table]
        .columns
        .get_index_of(column)
        .unwrap_or_else(|| panic!("no column {column} in {table}"));
    batch.tables[table].cell(row, i)
}

fn flow() -> Value {
    json!({
        "id": {"id": "f1", "versionId": "v1"},
        "developerName": "Orders",
        "isActive": true,
        "stateExpirationLength": 3600,
        "comment": null,
        "dateCreated": "2026-01-02T03:04:05Z",
        "whoCreated": {"id": "u1", "email": "ann@example.com", "firstName": null},
        "tags": ["sales", "eu"],
        "authorization": {"groups": [{"authenticationId": "g1", "attribute": "member"}], "users": []},
        "HTTPStatus": 200,
        "x-ratio": 0.5,
        "empty": {}
    })
}

#[test]
fn objects_flatten_lists_become_child_tables_and_nulls_make_no_column() {
    let mut schema = Schema::default();
    Normalizer::declare_root(&mut schema, "flows", WriteDisposition::Replace, &[]);
    let mut n = Normalizer::new("1795405733.8235435");
    let mut batch = Batch::default();
    n.normalize(&mut schema, "flows", &[flow()], &mut batch);

    assert_eq!(
        columns(&schema, "flows"),
        vec![
            ("id__id".to_owned(), DataType::Text),
            ("id__version_id".to_owned(), DataType::Text),
            ("developer_name".to_owned(), DataType::Text),
            ("is_active".to_owned(), DataType::Bool),
            ("state_expiration_length".to_owned(), DataType::Bigint),
            ("date_created".to_owned(), DataType::Timestamp),
            ("who_created__id".to_owned(), DataType::Text),
            ("who_created__email".to_owned(), DataType::Text),
            ("http_status".to_owned(), DataType::Bigint),
            ("x_ratio".to_owned(), DataType::Double),
            (DLT_LOAD_ID.to_owned(), DataType::Text),
            (DLT_ID.to_owned(), DataType::Text),
        ]
    );
    assert_eq!(
        names(&schema, "flows__tags"),
        vec!["value", DLT_PARENT_ID, DLT_LIST_IDX, DLT_ID]
    );
    assert_eq!(
        names(&schema, "flows__authorization__groups"),
        vec![
            "authentication_id",
            "attribute",
            DLT_PARENT_ID,
            DLT_LIST_IDX,
            DLT_ID
        ]
    );
    assert!(
        !schema.tables.contains_key("flows__authorization__users"),
        "an empty list makes no table"
    );
    assert_eq!(batch.rows_of("flows"), 1);
    assert_eq!(batch.rows_of("flows__tags"), 2);
    assert_eq!(
        schema.tables["flows__tags"].parent.as_deref(),
        Some("flows")
    );

    let root_id = cell(&schema, &batch, "flows", 0, DLT_ID);
    assert_eq!(
        cell(&schema, &batch, "flows__tags", 1, DLT_PARENT_ID),
        root_id
    );
    assert_eq!(
        cell(&schema, &batch, "flows__tags", 1, DLT_LIST_IDX),
        Cell::Bigint(1)
    );
    assert_eq!(
        cell(&schema, &batch, "flows__tags", 1, "value"),
        Cell::Text("eu".into())
    );
    assert_eq!(
        cell(&schema, &batch, "flows", 0, "date_created"),
        Cell::Timestamp(1_767_323_045_000_000)
    );
    assert_eq!(
        cell(&schema, &batch, "flows", 0, DLT_LOAD_ID),
        Cell::Text("1795405733.8235435".into())
    );
}

#[test]
fn merge_child_rows_carry_the_root_id_down_every_level() {
    let mut schema = Schema::default();
    Normalizer::declare_root(&mut schema, "graph", WriteDisposition::Merge, &["id"]);
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let item =
        json!({"id": "g", "mapElements": [{"id": "m1", "outcomes": [{"id": "o1"}, {"id": "o2"}]}]});
    n.normalize(&mut schema, "graph", &[item], &mut batch);

    let root = cell(&schema, &batch, "graph", 0, DLT_ID);
    let element = cell(&schema, &batch, "graph__map_elements", 0, DLT_ID);
    for row in 0..2 {
        assert_eq!(
            cell(
                &schema,
                &batch,
                "graph__map_elements__outcomes",
                row,
                DLT_ROOT_ID
            ),
            root.clone()
        );
        assert_eq!(
            cell(
                &schema,
                &batch,
                "graph__map_elements__outcomes",
                row,
                DLT_PARENT_ID
            ),
            element.clone()
        );
    }
    assert_eq!(
        cell(&schema, &batch, "graph__map_elements", 0, DLT_ROOT_ID),
        root
    );
    assert_eq!(
        schema.tables["graph__map_elements__outcomes"]
            .parent
            .as_deref(),
        Some("graph__map_elements")
    );
}

#[test]
fn a_value_that_does_not_coerce_goes_to_a_variant_column_and_new_fields_add_columns() {
    let mut schema = Schema::default();
    Normalizer::declare_root(&mut schema, "audit", WriteDisposition::Append, &[]);
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items = [
        json!({"id": "a", "data": {"count": 3, "when": "2026-01-01T00:00:00Z"}}),
        json!({"id": "b", "data": {"count": "three", "when": "later", "extra": 1.5}}),
        json!({"id": "c", "data": {"count": "4", "note": null}}),
    ];
    n.normalize(&mut schema, "audit", &items, &mut batch);

    assert_eq!(
        columns(&schema, "audit"),
        vec![
            ("id".to_owned(), DataType::Text),
            ("data__count".to_owned(), DataType::Bigint),
            ("data__when".to_owned(), DataType::Timestamp),
            (DLT_LOAD_ID.to_owned(), DataType::Text),
            (DLT_ID.to_owned(), DataType::Text),
            ("data__count__v_text".to_owned(), DataType::Text),
            ("data__when__v_text".to_owned(), DataType::Text),
            ("data__extra".to_owned(), DataType::Double),
        ]
    );
    assert_eq!(
        cell(&schema, &batch, "audit", 2, "data__count"),
        Cell::Bigint(4)
    );
    assert_eq!(
        cell(&schema, &batch, "audit", 1, "data__count__v_text"),
        Cell::Text("three".into())
    );
    assert_eq!(cell(&schema, &batch, "audit", 1, "data__count"), Cell::Null);
}

#[test]
fn a_text_column_keeps_later_date_times_as_they_were_written() {
    let mut schema = Schema::default();
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items = [
        json!({"v": "hello"}),
        json!({"v": "2026-01-01T00:00:00Z"}),
        json!({"v": 7}),
    ];
    n.normalize(&mut schema, "t", &items, &mut batch);
    assert_eq!(columns(&schema, "t")[0], ("v".to_owned(), DataType::Text));
    assert_eq!(
        cell(&schema, &batch, "t", 1, "v"),
        Cell::Text("2026-01-01T00:00:00Z".into())
    );
    assert_eq!(cell(&schema, &batch, "t", 2, "v"), Cell::Text("7".into()));
}

#[test]
fn row_ids_are_unique() {
    let mut schema = Schema::default();
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items: Vec<Value> = (0..1000).map(|i| json!({"i": i, "l": [1, 2]})).collect();
    n.normalize(&mut schema, "t", &items, &mut batch);
    let mut ids = std::collections::HashSet::new();
    for table in ["t", "t__l"] {
        for row in 0..batch.rows_of(table) {
            assert!(ids.insert(format!("{:?}", cell(&schema, &batch, table, row, DLT_ID))));
        }
    }
    assert_eq!(ids.len(), 3000);
}

fn raw(items: &[Value]) -> Vec<Box<RawValue>> {
    items
        .iter()
        .map(|i| serde_json::value::to_raw_value(i).unwrap())
        .collect()
}

#[test]
fn items_the_cursor_saw_leave_no_row_in_any_table_wherever_they_are_in_the_page() {
    let state = crate::state::ResourceState {
        cursor: "at".to_owned(),
        last_value: Some("2026-01-01T00:00:01Z".to_owned()),
        ids_at_last_value: ["b".to_owned()].into_iter().collect(),
    };
    let mut cursor = Cursor::new("at", "id", Some(&state));
    let mut schema = Schema::default();
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items = raw(&[
        // Seen: first in the page, with a child row.
        json!({"id": "b", "at": "2026-01-01T00:00:01Z", "l": [1]}),
        json!({"id": "a", "at": "2026-01-01T00:00:00Z", "l": [2]}),
        json!({"id": "c", "at": "2026-01-01T00:00:01Z", "l": [3]}),
        json!({"id": "d", "at": "2026-01-01T00:00:02Z"}),
        json!({"id": "e"}),
    ]);
    let done = n
        .normalize_raw(&mut schema, "t", &items, Some(&mut cursor), &mut batch)
        .unwrap();
    assert_eq!(
        done,
        Normalized {
            admitted: 3,
            skipped: 2,
            repeated: 0
        }
    );
    let ids: Vec<Cell> = (0..batch.rows_of("t"))
        .map(|r| cell(&schema, &batch, "t", r, "id"))
        .collect();
    assert_eq!(
        ids,
        [
            Cell::Text("c".into()),
            Cell::Text("d".into()),
            Cell::Text("e".into())
        ],
        "b was loaded before, a is older; e has no cursor value and is kept"
    );
    assert_eq!(batch.rows_of("t__l"), 1, "only c's child row");
    assert_eq!(cell(&schema, &batch, "t__l", 0, "value"), Cell::Bigint(3));
    assert_eq!(
        cursor.state().last_value.as_deref(),
        Some("2026-01-01T00:00:02Z")
    );
}

#[test]
fn secrets_are_dropped_at_any_depth_and_lists_close_up() {
    let scrub = Scrub {
        fields: vec!["apiKey".to_owned()],
        values: vec!["s3cret".to_owned()],
    };
    assert!(!format!("{scrub:?}").contains("s3cret"), "Debug hides it");
    let mut schema = Schema::default();
    let mut n = Normalizer::with_scrub("1", scrub);
    let mut batch = Batch::default();
    let items = raw(&[json!({
        "name": "k",
        "APIKEY": "x",
        "echo": "s3cret",
        "nested": {"apiKey": {"deep": 1}, "keep": 2},
        "tags": ["a", "s3cret", null, "b"],
        "only": ["s3cret"],
    })]);
    n.normalize_raw(&mut schema, "t", &items, None, &mut batch)
        .unwrap();
    assert_eq!(
        names(&schema, "t"),
        ["name", "nested__keep", "_dlt_load_id", "_dlt_id"]
    );
    let tags: Vec<(Cell, Cell)> = (0..batch.rows_of("t__tags"))
        .map(|r| {
            (
                cell(&schema, &batch, "t__tags", r, "value"),
                cell(&schema, &batch, "t__tags", r, DLT_LIST_IDX),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [
            (Cell::Text("a".into()), Cell::Bigint(0)),
            (Cell::Text("b".into()), Cell::Bigint(2)),
        ],
        "the secret goes as if it were not in the list; a null keeps its place"
    );
    assert!(
        !schema.tables.contains_key("t__only"),
        "a list of secrets is an empty list"
    );
}

#[test]
fn keys_that_fold_to_one_name_are_a_warning_that_names_them() {
    let mut schema = Schema::default();
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items = raw(&[
        json!({"fooBar": 1, "foo_bar": 2, "FooBar": 3, "nested": {"aB": 1, "a_b": 2}}),
        json!({"fooBar": 4}),
    ]);
    n.normalize_raw(&mut schema, "t", &items, None, &mut batch)
        .unwrap();
    let warnings = n.take_warnings();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        warnings[0].contains("`fooBar`")
            && warnings[0].contains("`foo_bar`")
            && warnings[0].contains("column `foo_bar`"),
        "{warnings:?}"
    );
    assert!(warnings[2].contains("under `nested`"), "{warnings:?}");
    assert!(n.take_warnings().is_empty(), "each is reported once");
}

#[test]
fn the_loaders_own_columns_are_reserved_and_an_empty_key_gets_a_name() {
    let mut schema = Schema::default();
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let items = raw(&[json!({
        "_dlt_id": 7,
        "_dlt_load_id": 8,
        "": "empty",
        "   ": "blank",
        "list": [{"_dlt_parent_id": 1, "_dlt_list_idx": 2, "ok": 3}]
    })]);
    n.normalize_raw(&mut schema, "t", &items, None, &mut batch)
        .unwrap();
    assert_eq!(
        names(&schema, "t"),
        [
            "_dlt_id_data",
            "_dlt_load_id_data",
            "_empty",
            "_dlt_load_id",
            "_dlt_id"
        ]
    );
    assert_eq!(
        names(&schema, "t__list"),
        [
            "_dlt_parent_id_data",
            "_dlt_list_idx_data",
            "ok",
            "_dlt_parent_id",
            "_dlt_list_idx",
            "_dlt_id"
        ]
    );
    // The lineage stays text, whatever the data held under those names.
    assert_eq!(
        schema.tables["t"].columns["_dlt_id"].data_type,
        crate::schema::DataType::Text
    );
    // "" and "   " both become `_empty`: one column, and a warning that says so.
    assert_eq!(n.take_warnings().len(), 1);
}

#[test]
fn an_item_repeated_in_a_load_is_stored_once_by_its_primary_key() {
    let mut schema = Schema::default();
    Normalizer::declare_root(&mut schema, "t", WriteDisposition::Replace, &["id"]);
    let mut n = Normalizer::new("1");
    let mut batch = Batch::default();
    let page1 = raw(&[
        json!({"id": 1, "l": [1, 2]}),
        json!({"id": 2}),
        json!({"id": 1, "l": [3]}),
    ]);
    let page2 = raw(&[json!({"id": 2}), json!({"id": 3}), json!({"id": "1"})]);
    let one = n
        .normalize_raw(&mut schema, "t", &page1, None, &mut batch)
        .unwrap();
    let two = n
        .normalize_raw(&mut schema, "t", &page2, None, &mut batch)
        .unwrap();
    assert_eq!((one.admitted, one.repeated), (2, 1));
    // "1" goes into the bigint column `id` as 1: the same key.
    assert_eq!((two.admitted, two.repeated), (1, 2));
    assert_eq!(batch.rows_of("t"), 3);
    assert_eq!(batch.rows_of("t__l"), 2, "the repeat's children go with it");
}
