//! Unit tests of the renderers.

use serde_json::json;

use super::*;

fn render(format: Format, data: &Value, view: View) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    emit(&mut out, &mut err, format, Style::default(), data, view).unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn tables_align_columns_and_trim_line_ends() {
    let mut t = Table::new(["ID", "NAME", "STATUS"]);
    t.row(["1", "orders", "active"]);
    t.row(["22", "a much longer name", ""]);
    let (out, err) = render(
        Format::Table,
        &Value::Null,
        View::Table {
            table: t,
            empty: "none",
        },
    );
    insta::assert_snapshot!(out, @r"
    ID  NAME                STATUS
    1   orders              active
    22  a much longer name
    ");
    assert_eq!(err, "");
}

#[test]
fn empty_tables_say_so_on_stderr() {
    let t = Table::new(["ID"]);
    let (out, err) = render(
        Format::Table,
        &Value::Null,
        View::Table {
            table: t,
            empty: "no data flows found",
        },
    );
    assert_eq!((out.as_str(), err.as_str()), ("", "no data flows found\n"));
}

#[test]
fn fields_align_values() {
    let mut f = Fields::new();
    f.add("id", "5f")
        .add("status", "active")
        .opt("error", None::<String>)
        .opt("note", Some(""));
    let (out, _) = render(Format::Table, &Value::Null, View::Fields(f));
    insta::assert_snapshot!(out, @r"
    id:      5f
    status:  active
    ");
}

#[test]
fn json_and_yaml_show_the_data() {
    let data = json!({"b": 1, "a": [true, null], "s": "x: y"});
    let (json_out, _) = render(Format::Json, &data, View::Yaml);
    assert_eq!(serde_json::from_str::<Value>(&json_out).unwrap(), data);
    let (yaml_out, _) = render(Format::Yaml, &data, View::Yaml);
    insta::assert_snapshot!(yaml_out, @r"
    b: 1
    a:
    - true
    - null
    s: 'x: y'
    ");
}

#[test]
fn colour_needs_a_terminal_and_no_no_color() {
    assert!(Style::detect(true, None).color);
    assert!(Style::detect(true, Some("")).color);
    assert!(!Style::detect(true, Some("1")).color);
    assert!(!Style::detect(false, None).color);
    assert_eq!(
        Style { color: true }.error("error:"),
        "\x1b[1;31merror:\x1b[0m"
    );
}
