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
use serde_json::Value;
use serde_json::value::RawValue;

use crate::state::Cursor;

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

/// What a normalizer must never write: fields of these names (at any depth, ASCII case ignored)
/// and string values equal to one of the secrets (an API key the API echoes, say). `Debug` never
/// shows the secrets.
#[derive(Clone, Default)]
pub struct Scrub {
    /// Field names to drop, with their values.
    pub fields: Vec<String>,
    /// Values to drop wherever they appear.
    pub values: Vec<String>,
}

impl std::fmt::Debug for Scrub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrub")
            .field("fields", &self.fields)
            .field("values", &format_args!("[{} redacted]", self.values.len()))
            .finish()
    }
}

impl Scrub {
    fn is_secret_value(&self, s: &str) -> bool {
        self.values.iter().any(|v| !v.is_empty() && v == s)
    }
}

/// A flattened field path: its column name and whether it is a secret field.
#[derive(Debug)]
struct PathInfo {
    name: String,
    secret: bool,
}

/// The column names of field paths, cached: the same keys repeat on every row, so a key is
/// normalized and joined to its prefix once per load.
#[derive(Debug)]
struct Paths {
    /// Path 0 is the row itself (no prefix).
    info: Vec<PathInfo>,
    /// For each path, its keys (as served) and their paths.
    children: Vec<HashMap<String, u32>>,
}

impl Paths {
    fn new() -> Self {
        Self {
            info: vec![PathInfo {
                name: String::new(),
                secret: false,
            }],
            children: vec![HashMap::new()],
        }
    }

    fn child(&mut self, prefix: u32, key: &str, scrub: &Scrub) -> u32 {
        if let Some(&id) = self.children[prefix as usize].get(key) {
            return id;
        }
        let own = normalize_identifier(key);
        let parent = &self.info[prefix as usize];
        let name = if prefix == 0 {
            own
        } else {
            format!("{}{PATH_SEPARATOR}{own}", parent.name)
        };
        let secret = parent.secret || scrub.fields.iter().any(|f| f.eq_ignore_ascii_case(key));
        let id = u32::try_from(self.info.len()).expect("fewer than 4 billion field paths");
        self.info.push(PathInfo { name, secret });
        self.children.push(HashMap::new());
        self.children[prefix as usize].insert(key.to_owned(), id);
        id
    }
}

/// Normalizes the items of one load into rows, growing the schema as new fields show up.
#[derive(Debug)]
pub struct Normalizer {
    load_id: String,
    rng: rand::rngs::StdRng,
    paths: Paths,
    scrub: Scrub,
}

/// How many items of a page were admitted (the others were loaded before).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Normalized {
    /// Items turned into rows.
    pub admitted: usize,
    /// Items skipped by the cursor.
    pub skipped: usize,
}

impl Normalizer {
    /// A normalizer for the load `load_id`.
    pub fn new(load_id: &str) -> Self {
        Self::with_scrub(load_id, Scrub::default())
    }

    /// A normalizer that never writes what `scrub` names.
    pub fn with_scrub(load_id: &str, scrub: Scrub) -> Self {
        Self {
            load_id: load_id.to_owned(),
            rng: rand::rngs::StdRng::from_os_rng(),
            paths: Paths::new(),
            scrub,
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
        let raw: Vec<Box<RawValue>> = items
            .iter()
            .map(|v| serde_json::value::to_raw_value(v).expect("a JSON value serializes"))
            .collect();
        self.normalize_raw(schema, table, &raw, None, out)
            .expect("serialized JSON parses");
    }

    /// Normalizes items given as JSON text, straight from the text (no tree of values is built),
    /// skipping those `cursor` has seen.
    pub fn normalize_raw(
        &mut self,
        schema: &mut Schema,
        table: &str,
        items: &[Box<RawValue>],
        mut cursor: Option<&mut Cursor>,
        out: &mut Batch,
    ) -> Result<Normalized, serde_json::Error> {
        let disposition = schema
            .tables
            .get(table)
            .map_or(WriteDisposition::Append, |t| t.write_disposition);
        if !schema.tables.contains_key(table) {
            schema
                .tables
                .insert(table.to_owned(), Table::new(table, None, disposition));
        }
        let table_index = schema.tables.get_index_of(table).expect("inserted above");
        let merge = disposition == WriteDisposition::Merge;
        let fields = cursor
            .as_deref()
            .map(|c| (c.field().to_owned(), c.id_field().to_owned()));
        let mut done = Normalized::default();
        for item in items {
            let mut ctx = Ctx {
                n: self,
                schema,
                out,
                merge,
                capture: fields.as_ref().map(|(f, i)| Capture {
                    field: f,
                    id_field: i,
                    value: None,
                    id: None,
                }),
            };
            let marks: Vec<usize> = ctx.out.tables.values().map(Vec::len).collect();
            let mut de = serde_json::Deserializer::from_str(item.get());
            serde::de::DeserializeSeed::deserialize(
                Element {
                    ctx: &mut ctx,
                    target: Target::Table(table_index),
                    link: Link::Root,
                },
                &mut de,
            )?;
            let admitted = match (cursor.as_deref_mut(), ctx.capture.take()) {
                (Some(c), Some(cap)) => c.admit_parts(cap.value, cap.id),
                _ => true,
            };
            if admitted {
                done.admitted += 1;
            } else {
                // Seen in an earlier load: its rows go (the columns it brought stay, which is
                // harmless: it was loaded once, so they were too).
                done.skipped += 1;
                // Tables first met in this item come after the others.
                for (i, rows) in out.tables.values_mut().enumerate() {
                    rows.truncate(marks.get(i).copied().unwrap_or(0));
                }
                out.tables.retain(|_, rows| !rows.is_empty());
            }
        }
        Ok(done)
    }

    fn new_id(&mut self) -> String {
        let bytes: [u8; 10] = self.rng.random();
        crate::schema::base64_url(&bytes)
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

/// The cursor fields of a root item, captured as it is read.
struct Capture<'f> {
    field: &'f str,
    id_field: &'f str,
    value: Option<String>,
    id: Option<String>,
}

/// What every visit of one item shares.
struct Ctx<'c, 'f> {
    n: &'c mut Normalizer,
    schema: &'c mut Schema,
    out: &'c mut Batch,
    merge: bool,
    capture: Option<Capture<'f>>,
}

impl Ctx<'_, '_> {
    /// Starts a row of table `table`: its id, and its table's place in the batch (before any row
    /// of its children).
    fn start_row(&mut self, table: usize) -> String {
        let name = self.schema.tables.get_index(table).expect("known table").0;
        if !self.out.tables.contains_key(name) {
            self.out.tables.insert(name.clone(), Vec::new());
        }
        self.n.new_id()
    }

    /// Ends a row: its system columns, then the row into the batch.
    fn end_row(&mut self, table: usize, id: String, link: Link<'_>, mut cells: Vec<Cell>) {
        let (name, t) = self
            .schema
            .tables
            .get_index_mut(table)
            .expect("known table");
        match link {
            Link::Root => {
                let load_id = Cell::Text(self.n.load_id.clone());
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
                if self.merge {
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
        put(t, DLT_ID, Cell::Text(id), false, &mut cells);
        self.out
            .tables
            .get_mut(name.as_str())
            .expect("placed by start_row")
            .push(cells);
    }

    /// Sets a data cell of the row being built.
    fn set(&mut self, table: usize, path: u32, cell: Cell, cells: &mut Vec<Cell>) {
        let t = self
            .schema
            .tables
            .get_index_mut(table)
            .expect("known table")
            .1;
        set(t, &self.n.paths.info[path as usize].name, cell, cells);
    }

    /// The child table of `table` for the list at `path`, created on its first element.
    fn child_table(&mut self, table: usize, path: u32) -> usize {
        let (parent, t) = self.schema.tables.get_index(table).expect("known table");
        let name = format!(
            "{parent}{PATH_SEPARATOR}{}",
            self.n.paths.info[path as usize].name
        );
        if let Some(i) = self.schema.tables.get_index_of(&name) {
            return i;
        }
        let child = Table::new(&name, Some(parent), t.write_disposition);
        self.schema.tables.insert_full(name, child).0
    }
}

/// The row being built, and where its fields go.
struct Row<'r> {
    table: usize,
    id: &'r str,
    root: &'r str,
    is_root: bool,
    cells: &'r mut Vec<Cell>,
}

/// The table an element's row goes to: known, or the child table of a list, created when the
/// list's first element is read.
#[derive(Clone, Copy)]
enum Target {
    Table(usize),
    Child { parent: usize, path: u32 },
}

impl Ctx<'_, '_> {
    fn resolve(&mut self, target: Target) -> usize {
        match target {
            Target::Table(i) => i,
            Target::Child { parent, path } => self.child_table(parent, path),
        }
    }
}

/// An item of a list (or a root item): an object becomes a row; `null` nothing; anything else a
/// row with a `value` column. Yields the table the element belongs to, or `None` for a secret
/// value, which is dropped as if it were not in the list.
struct Element<'a, 'c, 'f, 'l> {
    ctx: &'a mut Ctx<'c, 'f>,
    target: Target,
    link: Link<'l>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Element<'_, '_, '_, '_> {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_any(self)
    }
}

impl Element<'_, '_, '_, '_> {
    /// A row of the element's table, its fields filled by `fill`.
    fn row<E>(
        self,
        fill: impl FnOnce(&mut Ctx<'_, '_>, &mut Row<'_>) -> Result<(), E>,
    ) -> Result<Option<usize>, E> {
        let Self { ctx, target, link } = self;
        let table = ctx.resolve(target);
        let id = ctx.start_row(table);
        let root = match link {
            Link::Root => id.clone(),
            Link::Child { root, .. } => root.to_owned(),
        };
        let mut cells = Vec::new();
        let mut row = Row {
            table,
            id: &id,
            root: &root,
            is_root: matches!(link, Link::Root),
            cells: &mut cells,
        };
        fill(ctx, &mut row)?;
        ctx.end_row(table, id.clone(), link, cells);
        Ok(Some(table))
    }

    /// A row holding one `value` field.
    fn scalar<E>(self, cell: Cell) -> Result<Option<usize>, E> {
        self.row(|ctx, row| {
            let path = ctx.value_path();
            ctx.set(row.table, path, cell, row.cells);
            Ok(())
        })
    }
}

impl<'de> serde::de::Visitor<'de> for Element<'_, '_, '_, '_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Option<usize>, E> {
        Ok(Some(self.ctx.resolve(self.target)))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Option<usize>, E> {
        self.scalar(Cell::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Option<usize>, E> {
        self.scalar(Cell::Bigint(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Option<usize>, E> {
        self.scalar(unsigned(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Option<usize>, E> {
        self.scalar(Cell::Double(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        if self.ctx.n.scrub.is_secret_value(v) {
            return Ok(None);
        }
        self.scalar(Cell::Text(v.to_owned()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Option<usize>, A::Error> {
        self.row(|ctx, row| {
            let path = ctx.value_path();
            list(ctx, row, path, seq)
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Option<usize>, A::Error> {
        self.row(|ctx, row| fields(ctx, row, 0, map))
    }
}

impl Ctx<'_, '_> {
    /// The path of the `value` column of a wrapped scalar or list.
    fn value_path(&mut self) -> u32 {
        let n = &mut *self.n;
        n.paths.child(0, "value", &Scrub::default())
    }
}

/// An unsigned integer: a `BIGINT` when it fits, else a `DOUBLE`.
fn unsigned(v: u64) -> Cell {
    i64::try_from(v).map_or(Cell::Double(v as f64), Cell::Bigint)
}

/// Which cursor field a key is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CursorField {
    Value,
    Id,
}

/// A key of an object at `prefix`: its path, and whether it is a cursor field.
struct Key<'a, 'c, 'f> {
    ctx: &'a mut Ctx<'c, 'f>,
    prefix: u32,
}

impl<'de> serde::de::DeserializeSeed<'de> for Key<'_, '_, '_> {
    type Value = (u32, Option<CursorField>);

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key<'_, '_, '_> {
    type Value = (u32, Option<CursorField>);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        let cursor = match &self.ctx.capture {
            Some(c) if self.prefix == 0 && c.field == key => Some(CursorField::Value),
            Some(c) if self.prefix == 0 && c.id_field == key => Some(CursorField::Id),
            _ => None,
        };
        let n = &mut *self.ctx.n;
        Ok((n.paths.child(self.prefix, key, &n.scrub), cursor))
    }
}

/// The value of a field at `path` of `row`.
struct Field<'a, 'b, 'c, 'f, 'r> {
    ctx: &'a mut Ctx<'c, 'f>,
    row: &'b mut Row<'r>,
    path: u32,
    cursor: Option<CursorField>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Field<'_, '_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Field<'_, '_, '_, '_, '_> {
    fn cell(self, cell: Cell, text: impl FnOnce() -> String) {
        if let (Some(which), Some(capture)) = (self.cursor, self.ctx.capture.as_mut()) {
            let slot = match which {
                CursorField::Value => &mut capture.value,
                CursorField::Id => &mut capture.id,
            };
            *slot = Some(text());
        }
        self.ctx
            .set(self.row.table, self.path, cell, self.row.cells);
    }
}

impl<'de> serde::de::Visitor<'de> for Field<'_, '_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.ctx
            .set(self.row.table, self.path, Cell::Bool(v), self.row.cells);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.cell(Cell::Bigint(v), || v.to_string());
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.cell(unsigned(v), || v.to_string());
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.cell(Cell::Double(v), || {
            serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string())
        });
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if self.ctx.n.scrub.is_secret_value(v) {
            return Ok(());
        }
        self.cell(Cell::Text(v.to_owned()), || v.to_owned());
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        list(self.ctx, self.row, self.path, seq)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        fields(self.ctx, self.row, self.path, map)
    }
}

/// The fields of an object at `prefix`, into `row`.
fn fields<'de, A: serde::de::MapAccess<'de>>(
    ctx: &mut Ctx<'_, '_>,
    row: &mut Row<'_>,
    prefix: u32,
    mut map: A,
) -> Result<(), A::Error> {
    while let Some((path, cursor)) = map.next_key_seed(Key {
        ctx: &mut *ctx,
        prefix,
    })? {
        if ctx.n.paths.info[path as usize].secret {
            map.next_value::<serde::de::IgnoredAny>()?;
            continue;
        }
        let cursor = if row.is_root { cursor } else { None };
        map.next_value_seed(Field {
            ctx: &mut *ctx,
            row: &mut *row,
            path,
            cursor,
        })?;
    }
    Ok(())
}

/// The elements of the list at `path` of `row`: rows of its child table, each with its position
/// in the list (secret values dropped from it first).
fn list<'de, A: serde::de::SeqAccess<'de>>(
    ctx: &mut Ctx<'_, '_>,
    row: &mut Row<'_>,
    path: u32,
    mut seq: A,
) -> Result<(), A::Error> {
    let mut target = Target::Child {
        parent: row.table,
        path,
    };
    let mut index: i64 = 0;
    loop {
        let element = Element {
            ctx: &mut *ctx,
            target,
            link: Link::Child {
                parent: row.id,
                index,
                root: row.root,
            },
        };
        match seq.next_element_seed(element)? {
            None => return Ok(()),
            Some(None) => {}
            Some(Some(table)) => {
                target = Target::Table(table);
                index += 1;
            }
        }
    }
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
