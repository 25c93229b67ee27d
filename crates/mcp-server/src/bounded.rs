//! Results stay bounded (issue #25): a tool result's JSON text is at most [`BUDGET`] bytes.
//!
//! Every call passes through [`bound`] (from `BdiMcp::call_tool`), which leaves a result within
//! the budget untouched and cuts a larger one in the way its shape allows ([`shape`]): a list
//! keeps its first items, a log its last lines, an SQL answer its first rows, and a document
//! replaces its largest fields with a short text saying their size ([`ELIDED`]), or for a list
//! inside it keeps its first items and ends it with such a text saying how many more there were.
//! A cut is never silent: the result gains `truncated` ([`Truncated`]), which says what was left
//! out, why, and which argument (or tool) gets it.
//! `structuredContent` and the text are the same JSON, cut once.

use rmcp::model::{CallToolResponse, CallToolResult, JsonObject};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most bytes of JSON text one tool result carries: the figure, which every read
/// tool met on the demo account before any cut (the largest, `list_connections`, 5.7 KB).
pub const BUDGET: usize = 8 * 1024;

/// The start of the text that replaces an elided field of a document.
pub const ELIDED: &str = "<elided by bdi-mcp:";

/// The field of a cut result that says what was left out and how to get it.
pub const FIELD: &str = "truncated";

/// What a cut left out, why, and how to get it (a result's `truncated`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Truncated {
    /// List items left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted_items: Option<usize>,
    /// Log lines not returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted_lines: Option<usize>,
    /// SQL rows left out, of those read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted_rows: Option<usize>,
    /// Fields of a document replaced by a text saying their size.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elided_fields: Vec<String>,
    /// Why.
    pub reason: String,
    /// Which argument (or tool) gets what was left out.
    pub next: String,
}

impl Truncated {
    /// Adds a later cut of the same result to this one.
    fn and(mut self, later: Truncated) -> Self {
        let sum = |a: Option<usize>, b: Option<usize>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.omitted_items = sum(self.omitted_items, later.omitted_items);
        self.omitted_rows = sum(self.omitted_rows, later.omitted_rows);
        // Lines are counted against the whole log by each cut.
        self.omitted_lines = later.omitted_lines.or(self.omitted_lines);
        self.elided_fields.extend(later.elided_fields);
        self.reason = join(&self.reason, &later.reason);
        self.next = join(&self.next, &later.next);
        self
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty() || a.contains(b)) {
        (true, _) => b.to_owned(),
        (false, true) => a.to_owned(),
        (false, false) => format!("{a}; {b}"),
    }
}

/// What a list cut counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// `omitted_items`.
    Items,
    /// `omitted_rows`.
    Rows,
}

/// How a tool's result is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The array (or object) at `path` keeps its first entries; what is left besides it, when
    /// still too large, is cut as a document.
    List {
        path: &'static [&'static str],
        unit: Unit,
        /// A field that counts the entries returned: it counts those kept.
        count: Option<&'static str>,
    },
    /// `csv` keeps its header and its last lines (get_run_logs).
    LogTail,
    /// The largest fields are elided.
    Document,
}

/// How `tool`'s result is cut: a tool not named here returns a document.
pub(crate) fn shape(tool: &str) -> Shape {
    let list = |path| Shape::List {
        path,
        unit: Unit::Items,
        count: None,
    };
    match tool {
        "list_data_flows" | "list_runs" | "list_run_groups" | "list_connections"
        | "list_environments" => list(&["items"]),
        "get_activity_summary" | "get_data_flow_activity" => list(&["breakdown", "items"]),
        "list_variables" => list(&["variables"]),
        "set_data_flow_source_tables" | "describe_history" => list(&["tables"]),
        "query_history" => Shape::List {
            path: &["rows"],
            unit: Unit::Rows,
            count: Some("row_count"),
        },
        "get_run_logs" => Shape::LogTail,
        _ => Shape::Document,
    }
}

/// Which argument gets the entries a list cut left out, `kept` being how many it kept.
fn list_next(tool: &str, args: &JsonObject, result: &Value, kept: usize) -> String {
    let number = |v: Option<&Value>| v.and_then(Value::as_u64).map(|n| n as usize);
    match tool {
        "list_data_flows" | "list_runs" => {
            let per_page = number(args.get("items_per_page")).unwrap_or(20);
            let page = number(result.get("page"))
                .or_else(|| number(args.get("page")))
                .unwrap_or(1);
            // The first item left out, from 0 across the listing; pages of `size` items from
            // the one that holds it.
            let first = page.saturating_sub(1) * per_page + kept;
            let size = kept.max(1);
            let from = first / size + 1;
            let seen = first - (from - 1) * size;
            let again = if seen > 0 {
                format!(" (its first {seen} were returned here)")
            } else {
                String::new()
            };
            let narrow = if tool == "list_runs" {
                "status, target_name or run_group_id"
            } else {
                "name or status"
            };
            format!(
                "call again with items_per_page={size} and page={from}{again}, or narrow with {narrow}"
            )
        }
        "list_run_groups" => {
            "a page holds up to 50 run groups: narrow start_time/end_time, or filter with status"
                .to_owned()
        }
        "list_connections" => "every connection is in the history dataset: sync_history, then query_history(sql=\"select cross_id, connection_name, connection_type from connections where ...\"); or `bdi connections list`".to_owned(),
        "list_environments" => "every environment is in the history dataset: sync_history, then query_history(sql=\"select cross_id, environment_name from environments\")".to_owned(),
        "get_activity_summary" => "narrow with search (data flow name) or start_time/end_time; include_data_flows=false leaves the list out".to_owned(),
        "get_data_flow_activity" => "narrow start_time/end_time, or filter with status".to_owned(),
        "list_variables" => "`bdi variables list` lists every variable".to_owned(),
        "set_data_flow_source_tables" => "count is the whole selection, written whole; `bdi flows get` shows it under properties.schemas".to_owned(),
        "describe_history" => "the tables and their columns: query_history(sql=\"select table_name, column_name, data_type from information_schema.columns order by table_name\")".to_owned(),
        "query_history" => format!(
            "fewer rows or columns: add LIMIT {} OFFSET {kept} to read on, select fewer columns, or aggregate",
            kept.max(1)
        ),
        _ => doc_next(tool),
    }
}

/// How to get the fields a document cut elided.
fn doc_next(tool: &str) -> String {
    match tool {
        "get_data_flow" | "create_data_flow" | "update_data_flow" | "patch_data_flow" => {
            "the whole document: `bdi flows get`; change fields with patch_data_flow, leaving the elided ones out (update_data_flow refuses a document with elided fields)".to_owned()
        }
        "create_connection" | "update_connection" => {
            "the whole connection: `bdi connections get`".to_owned()
        }
        "get_run_group" => "its runs page by page: list_runs(run_group_id=...)".to_owned(),
        "get_run_logs" => "errors_only=true returns only warnings and errors; the whole log: `bdi runs logs`".to_owned(),
        _ => "no argument of this tool returns the elided fields in one result".to_owned(),
    }
}

/// `response` with its result cut to [`BUDGET`] when it is larger; errors and results without
/// structured content pass unchanged.
pub(crate) fn bound(
    tool: &str,
    args: Option<&JsonObject>,
    response: CallToolResponse,
) -> CallToolResponse {
    let CallToolResponse::Complete(result) = response else {
        return response;
    };
    if result.is_error == Some(true) {
        return CallToolResponse::Complete(result);
    }
    let Some(value) = &result.structured_content else {
        return CallToolResponse::Complete(result);
    };
    if size(value) <= BUDGET {
        return CallToolResponse::Complete(result);
    }
    let empty = JsonObject::new();
    let cut = fit(tool, args.unwrap_or(&empty), value, BUDGET);
    tracing::debug!(tool, bytes = size(value), "result cut to its budget");
    let meta = result.meta.clone();
    CallToolResponse::Complete(CallToolResult::structured(cut).with_meta(meta))
}

/// `value`, cut to `budget` bytes of JSON text the way `tool`'s results are.
pub(crate) fn fit(tool: &str, args: &JsonObject, value: &Value, budget: usize) -> Value {
    if size(value) <= budget {
        return value.clone();
    }
    let over = format!(
        "the result's JSON is {} bytes, over the {budget}-byte budget of one result",
        size(value)
    );
    let cut = match shape(tool) {
        Shape::List { path, unit, count } => {
            cut_list(tool, args, value, (path, unit, count), &over, budget)
        }
        Shape::LogTail => cut_log(value, &over, budget),
        Shape::Document => None,
    };
    let mut base = match cut {
        Some(v) if size(&v) <= budget => return v,
        // Besides the list, the result is still too large: it is cut as a document too.
        Some(v) => v,
        None => value.clone(),
    };
    let earlier = base
        .as_object_mut()
        .and_then(|m| m.remove(FIELD))
        .and_then(|t| serde_json::from_value(t).ok())
        .unwrap_or_default();
    elide(tool, base, earlier, &over, budget)
}

/// One line per tool of `tools` saying how its result is cut and what `next` says (for the docs;
/// a page's numbers are those of a first page cut to 10 items).
pub fn describe(tools: &[&str]) -> Vec<String> {
    let page = serde_json::json!({"page": 1});
    let args = JsonObject::new();
    tools
        .iter()
        .map(|tool| {
            let (how, next) = match shape(tool) {
                Shape::List { path, unit, .. } => (
                    format!(
                        "keeps the first {} of `{}`",
                        match unit {
                            Unit::Items => "items",
                            Unit::Rows => "rows",
                        },
                        path.join(".")
                    ),
                    list_next(tool, &args, &page, 10),
                ),
                Shape::LogTail => (
                    "keeps the header and the last lines of `csv`".to_owned(),
                    format!("tail_lines=N returns what fits; {}", doc_next(tool)),
                ),
                Shape::Document => (
                    "elides its largest fields (a list keeps its first items)".to_owned(),
                    doc_next(tool),
                ),
            };
            format!("`{tool}`: {how}; next: {next}")
        })
        .collect()
}

/// The bytes of `value`'s compact JSON text (as `CallToolResult::structured` writes it).
pub(crate) fn size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// `value` with `truncated` set, added to what the tool itself said it left out.
fn with_truncated(mut value: Value, cut: Truncated) -> Value {
    if let Some(map) = value.as_object_mut() {
        let earlier = map
            .get(FIELD)
            .and_then(|v| serde_json::from_value::<Truncated>(v.clone()).ok());
        let cut = match earlier {
            Some(e) => e.and(cut),
            None => cut,
        };
        if let Ok(v) = serde_json::to_value(cut) {
            map.insert(FIELD.to_owned(), v);
        }
    }
    value
}

/// The value at `path` (an object's keys, `[i]` for a list's items).
fn at_mut<'v, S: AsRef<str>>(value: &'v mut Value, path: &[S]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, k| {
        let k = k.as_ref();
        match (v, k.strip_prefix('[').and_then(|i| i.strip_suffix(']'))) {
            (Value::Array(items), Some(i)) => items.get_mut(i.parse::<usize>().ok()?),
            (v, _) => v.get_mut(k),
        }
    })
}

/// Keeps the first `kept` entries of an array or an object.
fn keep_first(v: &mut Value, kept: usize) {
    match v {
        Value::Array(a) => a.truncate(kept),
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().skip(kept).cloned().collect();
            for k in keys {
                m.remove(&k);
            }
        }
        _ => {}
    }
}

fn entries(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        Value::Object(m) => Some(m.len()),
        _ => None,
    }
}

/// Keeps the most first entries of the list at `path` that fit; `None` when there is no list
/// there. The result may still be over budget when what surrounds the list is.
fn cut_list(
    tool: &str,
    args: &JsonObject,
    value: &Value,
    (path, unit, count): (&[&str], Unit, Option<&str>),
    over: &str,
    budget: usize,
) -> Option<Value> {
    let mut probe = value.clone();
    let n = entries(at_mut(&mut probe, path)?)?;
    let what = match unit {
        Unit::Items => "items",
        Unit::Rows => "rows",
    };
    let candidate = |kept: usize| -> Value {
        let mut v = value.clone();
        if let Some(list) = at_mut(&mut v, path) {
            keep_first(list, kept);
        }
        if let Some(field) = count.and_then(|c| v.get_mut(c)) {
            *field = Value::from(kept);
        }
        let omitted = n - kept;
        let t = Truncated {
            omitted_items: (unit == Unit::Items).then_some(omitted),
            omitted_rows: (unit == Unit::Rows).then_some(omitted),
            reason: format!("{over}: the first {kept} of {n} {what} are kept"),
            next: list_next(tool, args, value, kept),
            ..Truncated::default()
        };
        with_truncated(v, t)
    };
    let (mut lo, mut hi) = (0, n);
    // The most entries that fit: `lo` fits (or is 0), `hi + 1` does not.
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if size(&candidate(mid)) <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(candidate(lo))
}

/// Keeps the header and the most last lines of `csv` that fit.
fn cut_log(value: &Value, over: &str, budget: usize) -> Option<Value> {
    let csv = value.get("csv")?.as_str()?;
    let total = value
        .get("total_lines")
        .and_then(Value::as_u64)
        .map(|n| n as usize);
    let mut lines = csv.split('\n');
    let header = lines.next()?;
    let body: Vec<&str> = lines.collect();
    let n = body.len();
    let candidate = |kept: usize| -> Value {
        let mut text = header.to_owned();
        for line in &body[n - kept..] {
            text.push('\n');
            text.push_str(line);
        }
        let mut v = value.clone();
        if let Some(map) = v.as_object_mut() {
            map.insert("csv".to_owned(), Value::from(text));
            map.insert("returned_lines".to_owned(), Value::from(kept));
        }
        let t = Truncated {
            omitted_lines: Some(total.unwrap_or(n).saturating_sub(kept)),
            reason: format!("{over}: the last {kept} of {n} selected lines are kept"),
            next: format!(
                "tail_lines={} returns what fits; {}",
                kept.max(1),
                doc_next("get_run_logs")
            ),
            ..Truncated::default()
        };
        with_truncated(v, t)
    };
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if size(&candidate(mid)) <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(candidate(lo))
}

/// A field is worth eliding when its text is longer than this (about the text that replaces it).
const WORTH_ELIDING: usize = 64;

/// Room kept for what a cut adds (the marker and its entry in `truncated`) when a list is cut.
const MARKER_ROOM: usize = 160;

/// A path as a person reads it: `properties.schemas[0].tables`.
fn display(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if !seg.starts_with('[') && !out.is_empty() {
            out.push('.');
        }
        out.push_str(seg);
    }
    out
}

/// Replaces the largest fields of `value` until it fits: a list keeps its first items that fit,
/// then a text saying how many more there were ([`ELIDED`]); any other field becomes a text
/// saying its size. The fields are named in `truncated`, after what `earlier` says. The marker
/// stays inside the document, so a write of it back is refused ([`elided_field`]).
fn elide(tool: &str, mut value: Value, earlier: Truncated, over: &str, budget: usize) -> Value {
    // Path → (what is said of it, the list's length before any cut).
    let mut elided: Vec<(String, String, Option<usize>)> = Vec::new();
    loop {
        let cut = Truncated {
            elided_fields: elided.iter().map(|(_, said, _)| said.clone()).collect(),
            reason: format!("{over}: the largest fields are elided"),
            next: doc_next(tool),
            ..Truncated::default()
        };
        let t = if earlier == Truncated::default() {
            cut
        } else {
            earlier.clone().and(cut)
        };
        let candidate = with_truncated(value.clone(), t.clone());
        let bytes = size(&candidate);
        if bytes <= budget {
            return candidate;
        }
        let excess = bytes - budget;
        let mut path = Vec::new();
        if !pick(&value, excess, &mut path) {
            // Nothing large is left to elide: only what was cut is said.
            let mut t = t;
            t.reason = format!("{over}: nothing of it could be kept");
            return with_truncated(Value::Object(Map::new()), t);
        }
        let at = display(&path);
        let Some(field) = at_mut(&mut value, &path) else {
            return value;
        };
        let field_bytes = size(field);
        let before = elided.iter().position(|(p, _, _)| *p == at);
        if let Value::Array(items) = field {
            // A list already cut ends with its marker: count without it.
            let had = if before.is_some() {
                items.pop();
                items.len()
            } else {
                items.len()
            };
            let total = before.and_then(|i| elided[i].2).unwrap_or(had);
            let target = field_bytes.saturating_sub(excess + MARKER_ROOM);
            let mut used = 2;
            let mut kept = 0;
            for item in items.iter() {
                let n = size(item) + 1;
                if used + n > target {
                    break;
                }
                used += n;
                kept += 1;
            }
            if kept > 0 && kept < had {
                items.truncate(kept);
                let more = total - kept;
                items.push(Value::from(format!(
                    "{ELIDED} {more} more items, see truncated>"
                )));
                let said = format!("{at} ({more} of {total} items)");
                match before {
                    Some(i) => elided[i] = (at, said, Some(total)),
                    None => elided.push((at, said, Some(total))),
                }
                continue;
            }
        }
        if let Some(field) = at_mut(&mut value, &path) {
            *field = Value::from(format!("{ELIDED} {field_bytes} bytes, see truncated>"));
        }
        match before {
            Some(i) => elided[i] = (at.clone(), at, None),
            None => elided.push((at.clone(), at, None)),
        }
    }
}

/// The fields of `node` (an object's, or a list's items as `[i]`), the elided ones left out.
fn children(node: &Value, top: bool) -> Vec<(String, &Value)> {
    let live = |v: &Value| !v.as_str().is_some_and(|s| s.starts_with(ELIDED));
    match node {
        Value::Object(map) => map
            .iter()
            .filter(|(k, v)| live(v) && !(top && *k == FIELD))
            .map(|(k, v)| (k.clone(), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .filter(|(_, v)| live(v))
            .map(|(i, v)| (format!("[{i}]"), v))
            .collect(),
        _ => Vec::new(),
    }
}

/// The path to elide in `node`: the largest field, or within it (an object's field or a list's
/// item), when one of its own alone covers the `excess`; false when no field is worth eliding.
fn pick(node: &Value, excess: usize, path: &mut Vec<String>) -> bool {
    if !node.is_object() && !path.is_empty() {
        return false;
    }
    let largest = children(node, path.is_empty())
        .into_iter()
        .map(|(k, v)| (k, v, size(v)))
        .max_by_key(|(_, _, n)| *n);
    let Some((key, child, bytes)) = largest else {
        return false;
    };
    if bytes <= WORTH_ELIDING {
        return false;
    }
    path.push(key);
    descend(child, excess, path);
    true
}

/// Goes on into `node` (at the end of `path`) while one of its fields or items alone is larger
/// than the `excess`: the shallowest cut that suffices is the deepest one that still covers it.
fn descend(node: &Value, excess: usize, path: &mut Vec<String>) {
    let inner = children(node, false)
        .into_iter()
        .map(|(k, v)| (k, v, size(v)))
        .max_by_key(|(_, _, n)| *n);
    if let Some((key, child, bytes)) = inner
        && bytes > excess + WORTH_ELIDING
    {
        path.push(key);
        descend(child, excess, path);
    }
}

/// The path of the first text in `doc` that replaced an elided field, if any.
pub fn elided_field_in(doc: &Map<String, Value>) -> Option<String> {
    doc.iter().find_map(|(k, v)| {
        elided_field(v).map(|p| {
            if p.is_empty() {
                k.clone()
            } else if p.starts_with('[') {
                format!("{k}{p}")
            } else {
                format!("{k}.{p}")
            }
        })
    })
}

/// The path of a text that replaced an elided field in `value`, if any: such a document came
/// from a cut result and is not whole.
pub fn elided_field(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.starts_with(ELIDED) => Some(String::new()),
        Value::Object(m) => elided_field_in(m),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, v)| {
            elided_field(v).map(|p| {
                if p.is_empty() || p.starts_with('[') {
                    format!("[{i}]{p}")
                } else {
                    format!("[{i}].{p}")
                }
            })
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
