//! dlt's relational normalizer: JSON items become rows of a root table and its child tables.
//!
//! - Nested objects flatten into their row with `__` (`whoCreated.email` → `who_created__email`);
//!   an empty object adds nothing.
//! - Lists become child tables `<table>__<field>`, a row per element with `_dlt_parent_id` (the
//!   parent row's `_dlt_id`), `_dlt_list_idx` and its own `_dlt_id`; a list of scalars gets a
//!   `value` column; with merge, child rows also carry `_dlt_root_id`.
//! - Root rows carry `_dlt_load_id` and `_dlt_id`.
//! - Nulls create no column; types and variant columns follow [`crate::schema`].
//!
//! The normalizer owns no I/O: it turns items into [`Batch`]es and grows the [`Schema`]; a
//! destination writes them.

use std::collections::HashMap;

use indexmap::IndexMap;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use crate::naming::{PATH_SEPARATOR, normalize_identifier};
use crate::schema::{
    Cell, DataType, Schema, Table, WriteDisposition, parse_timestamp, variant_name,
};

/// `_dlt_id`: the row's id.
pub const DLT_ID: &str = "_dlt_id";
/// `_dlt_load_id`: the load that wrote a root row.
pub const DLT_LOAD_ID: &str = "_dlt_load_id";
/// `_dlt_parent_id`: a child row's parent row.
pub const DLT_PARENT_ID: &str = "_dlt_parent_id";
/// `_dlt_list_idx`: a child row's position in its list.
pub const DLT_LIST_IDX: &str = "_dlt_list_idx";
/// `_dlt_root_id`: a child row's root row (merge only).
pub const DLT_ROOT_ID: &str = "_dlt_root_id";

/// The rows of one or more tables, each row with a cell per column of the schema's table at the
/// time it was made (later columns are null).
#[derive(Debug, Default)]
pub struct Batch {
    /// Rows by table, tables in the order they appeared.
    pub tables: IndexMap<String, Vec<Vec<Cell>>>,
}

impl Batch {
    /// Rows in every table.
    pub fn row_count(&self) -> usize {
        self.tables.values().map(Vec::len).sum()
    }

    /// Rows in `table`.
    pub fn rows_of(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, Vec::len)
    }
}

/// Where a row hangs.
#[derive(Clone, Copy)]
enum Link<'a> {
    Root,
    Child {
        parent: &'a str,
        index: i64,
        root: &'a str,
    },
}

/// Normalizes the items of one load into rows, growing the schema as new fields show up.
#[derive(Debug)]
pub struct Normalizer {
    load_id: String,
    names: HashMap<String, String>,
    rng: rand::rngs::StdRng,
}

impl Normalizer {
    /// A normalizer for the load `load_id`.
    pub fn new(load_id: &str) -> Self {
        Self {
            load_id: load_id.to_owned(),
            names: HashMap::new(),
            rng: rand::rngs::StdRng::from_os_rng(),
        }
    }

    /// The load id written to root rows.
    pub fn load_id(&self) -> &str {
        &self.load_id
    }

    /// Declares a root table (before its first rows): how it is written and its primary key.
    pub fn declare_root(
        schema: &mut Schema,
        table: &str,
        disposition: WriteDisposition,
        primary_key: &[&str],
    ) {
        let t = schema
            .tables
            .entry(table.to_owned())
            .or_insert_with(|| Table::new(table, None, disposition));
        t.write_disposition = disposition;
        t.primary_key = primary_key.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Normalizes `items` (objects; anything else becomes a row with a `value` column) into rows
    /// of `table` and its child tables.
    pub fn normalize(
        &mut self,
        schema: &mut Schema,
        table: &str,
        items: &[Value],
        out: &mut Batch,
    ) {
        let disposition = schema
            .tables
            .get(table)
            .map_or(WriteDisposition::Append, |t| t.write_disposition);
        if !schema.tables.contains_key(table) {
            schema
                .tables
                .insert(table.to_owned(), Table::new(table, None, disposition));
        }
        let merge = disposition == WriteDisposition::Merge;
        for item in items {
            match item {
                Value::Object(obj) => self.row(schema, table, obj, Link::Root, merge, out),
                Value::Null => {}
                other => {
                    let mut wrapped = Map::new();
                    wrapped.insert("value".to_owned(), other.clone());
                    self.row(schema, table, &wrapped, Link::Root, merge, out);
                }
            }
        }
    }

    fn new_id(&mut self) -> String {
        let bytes: [u8; 10] = self.rng.random();
        crate::schema::base64_url(&bytes)
    }

    fn row(
        &mut self,
        schema: &mut Schema,
        table: &str,
        obj: &Map<String, Value>,
        link: Link<'_>,
        merge: bool,
        out: &mut Batch,
    ) {
        let id = self.new_id();
        let root_id = match link {
            Link::Root => id.clone(),
            Link::Child { root, .. } => root.to_owned(),
        };
        let mut cells: Vec<Cell> = Vec::new();
        let mut children: Vec<(String, &Vec<Value>)> = Vec::new();
        {
            let t = table_of(schema, table);
            self.flatten(t, "", obj, &mut cells, &mut children);
            match link {
                Link::Root => {
                    let load_id = Cell::Text(self.load_id.clone());
                    put(t, DLT_LOAD_ID, load_id, false, &mut cells);
                }
                Link::Child {
                    parent,
                    index,
                    root,
                } => {
                    put(
                        t,
                        DLT_PARENT_ID,
                        Cell::Text(parent.to_owned()),
                        false,
                        &mut cells,
                    );
                    put(t, DLT_LIST_IDX, Cell::Bigint(index), false, &mut cells);
                    if merge {
                        put(
                            t,
                            DLT_ROOT_ID,
                            Cell::Text(root.to_owned()),
                            false,
                            &mut cells,
                        );
                    }
                }
            }
            put(t, DLT_ID, Cell::Text(id.clone()), false, &mut cells);
        }
        out.tables.entry(table.to_owned()).or_default().push(cells);

        for (child, list) in children {
            if !schema.tables.contains_key(&child) {
                let disposition = schema.tables[table].write_disposition;
                schema
                    .tables
                    .insert(child.clone(), Table::new(&child, Some(table), disposition));
            }
            for (index, element) in list.iter().enumerate() {
                let link = Link::Child {
                    parent: &id,
                    index: i64::try_from(index).unwrap_or(i64::MAX),
                    root: &root_id,
                };
                match element {
                    Value::Object(obj) => self.row(schema, &child, obj, link, merge, out),
                    Value::Null => {}
                    other => {
                        let mut wrapped = Map::new();
                        wrapped.insert("value".to_owned(), other.clone());
                        self.row(schema, &child, &wrapped, link, merge, out);
                    }
                }
            }
        }
    }

    /// The snake_case name of an identifier, cached (the same keys repeat on every row).
    fn name(&mut self, key: &str) -> &str {
        if !self.names.contains_key(key) {
            self.names.insert(key.to_owned(), normalize_identifier(key));
        }
        &self.names[key]
    }

    fn flatten<'v>(
        &mut self,
        t: &mut Table,
        prefix: &str,
        obj: &'v Map<String, Value>,
        cells: &mut Vec<Cell>,
        children: &mut Vec<(String, &'v Vec<Value>)>,
    ) {
        let table_name = t.name.clone();
        for (key, value) in obj {
            let name = {
                let n = self.name(key);
                if prefix.is_empty() {
                    n.to_owned()
                } else {
                    format!("{prefix}{PATH_SEPARATOR}{n}")
                }
            };
            match value {
                Value::Null => {}
                Value::Object(inner) => self.flatten(t, &name, inner, cells, children),
                Value::Array(list) => {
                    if !list.is_empty() {
                        children.push((format!("{table_name}{PATH_SEPARATOR}{name}"), list));
                    }
                }
                Value::String(s) => set(t, &name, Cell::Text(s.clone()), cells),
                Value::Bool(b) => set(t, &name, Cell::Bool(*b), cells),
                Value::Number(n) => {
                    let cell = match n.as_i64() {
                        Some(i) => Cell::Bigint(i),
                        None => Cell::Double(n.as_f64().unwrap_or(f64::NAN)),
                    };
                    set(t, &name, cell, cells);
                }
            }
        }
    }
}

fn table_of<'s>(schema: &'s mut Schema, table: &str) -> &'s mut Table {
    schema
        .tables
        .get_mut(table)
        .expect("tables are created before their rows")
}

/// Puts a system column's cell.
fn put(t: &mut Table, name: &str, cell: Cell, nullable: bool, cells: &mut Vec<Cell>) {
    let data_type = cell.data_type().unwrap_or(DataType::Text);
    let i = t.column(name, data_type, nullable);
    place(cells, i, cell);
}

fn place(cells: &mut Vec<Cell>, i: usize, cell: Cell) {
    if cells.len() <= i {
        cells.resize(i + 1, Cell::Null);
    }
    cells[i] = cell;
}

/// Puts a data cell: into its column when the types agree or the value coerces, else into the
/// variant column of the value's type. A new column takes the value's type, with ISO 8601
/// date-time strings detected as timestamps.
fn set(t: &mut Table, name: &str, cell: Cell, cells: &mut Vec<Cell>) {
    match t.columns.get_index_of(name) {
        Some(i) => {
            let column_type = t.columns[i].data_type;
            let own_type = cell.data_type().unwrap_or(DataType::Text);
            if own_type == column_type {
                place(cells, i, cell);
                return;
            }
            match cell.clone().coerce(column_type) {
                Some(coerced) => place(cells, i, coerced),
                None => {
                    let variant = variant_name(name, own_type);
                    let j = t.column(&variant, own_type, true);
                    place(cells, j, cell);
                }
            }
        }
        None => {
            let cell = match cell {
                Cell::Text(s) => match parse_timestamp(&s) {
                    Some(us) => Cell::Timestamp(us),
                    None => Cell::Text(s),
                },
                other => other,
            };
            let data_type = cell.data_type().unwrap_or(DataType::Text);
            let i = t.column(name, data_type, true);
            place(cells, i, cell);
        }
    }
}

#[cfg(test)]
mod tests;
