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

use std::borrow::Cow;
use std::collections::HashMap;

use indexmap::IndexMap;
use rand::{Rng, SeedableRng};
use serde_json::value::RawValue;

use crate::naming::{PATH_SEPARATOR, normalize_identifier, shorten};
use crate::rows::{Rows, Value};
use crate::schema::{Schema, Table, WriteDisposition, parse_timestamp, variant_name};
use crate::state::Cursor;

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

/// The rows of one or more tables, column by column in the order of the schema's table (a
/// table's later columns, which these rows never had, may be missing: they are null).
#[derive(Debug, Default)]
pub struct Batch {
    /// Rows by table, tables in the order they appeared.
    pub tables: IndexMap<String, Rows>,
}

impl Batch {
    /// Rows in every table.
    pub fn row_count(&self) -> usize {
        self.tables.values().map(Rows::len).sum()
    }

    /// Rows in `table`.
    pub fn rows_of(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, Rows::len)
    }
}

/// What a normalizer must never write, in names, values or the stored schema: fields of these
/// names at any depth, matched on the normalized name (`authorizationHeader`,
/// `authorization-header`, `" Authorization_Header"`, `AUTHORIZATIONHEADER` are one name) and as its last part
/// (`x_api_key` is an `api_key`); any string value that holds one of the secrets anywhere in it
/// (`"Bearer <key>"`, the key with spaces around it: an API key the API echoes, say); and a field
/// whose very name holds a secret. `Debug` never shows the secrets.
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
    /// Whether `s` holds a secret anywhere in it.
    fn is_secret_value(&self, s: &str) -> bool {
        self.values.iter().any(|v| {
            let v = v.trim();
            !v.is_empty() && s.contains(v)
        })
    }

    /// Whether a field named `key` is a secret field (by its normalized name) or its name holds
    /// a secret.
    fn is_secret_field(&self, key: &str) -> bool {
        let name = normalize_identifier(key);
        let compact = |s: &str| s.replace('_', "");
        self.is_secret_value(key)
            || self.fields.iter().any(|f| {
                let secret = normalize_identifier(f);
                name == secret
                    || compact(&name) == compact(&secret)
                    || name
                        .strip_suffix(secret.as_str())
                        .is_some_and(|head| head.ends_with('_'))
            })
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
    /// For each path, the first key (as served) that took each column name under it: a second
    /// key with the same name (`fooBar` and `foo_bar`) is a collision, reported once.
    taken: Vec<HashMap<String, String>>,
    /// What the normalizer found wrong but went on with, for the load's report.
    warnings: Vec<String>,
    /// The longest name the destination takes (PostgreSQL: 63 bytes), if it has a limit.
    max_name: Option<usize>,
}

/// The columns the loader writes itself: a data field with one of these names is renamed
/// (`<name>_data`), so that the loader's lineage is never overwritten or retyped by the data.
pub const RESERVED: &[&str] = &[
    DLT_ID,
    DLT_LOAD_ID,
    DLT_PARENT_ID,
    DLT_LIST_IDX,
    DLT_ROOT_ID,
];

/// The column name of a key that is empty or blank (`""`, `"   "`), which SQL cannot name.
pub const EMPTY_KEY: &str = "_empty";

impl Paths {
    fn new() -> Self {
        Self {
            info: vec![PathInfo {
                name: String::new(),
                secret: false,
            }],
            children: vec![HashMap::new()],
            taken: vec![HashMap::new()],
            warnings: Vec::new(),
            max_name: None,
        }
    }

    fn child(&mut self, prefix: u32, key: &str, scrub: &Scrub) -> u32 {
        if let Some(&id) = self.children[prefix as usize].get(key) {
            return id;
        }
        let mut own = normalize_identifier(key);
        if own.is_empty() {
            EMPTY_KEY.clone_into(&mut own);
        }
        if prefix == 0 && RESERVED.contains(&own.as_str()) {
            own.push_str("_data");
        }
        let parent = &self.info[prefix as usize];
        let secret = parent.secret || scrub.is_secret_field(key);
        if !secret {
            match self.taken[prefix as usize].get(&own) {
                Some(first) if first != key => {
                    let under = if parent.name.is_empty() {
                        String::new()
                    } else {
                        format!(" under `{}`", parent.name)
                    };
                    self.warnings.push(format!(
                        "the fields {} and {}{under} both become the column `{own}`: an item that holds both keeps the value of the one that comes last",
                        bdi_domain::error::quote(first),
                        bdi_domain::error::quote(key)
                    ));
                }
                Some(_) => {}
                None => {
                    self.taken[prefix as usize].insert(own.clone(), key.to_owned());
                }
            }
        }
        let mut name = if prefix == 0 {
            own
        } else {
            format!("{}{PATH_SEPARATOR}{own}", parent.name)
        };
        if let Some(max) = self.max_name {
            name = shorten(&name, max);
        }
        let id = u32::try_from(self.info.len()).expect("fewer than 4 billion field paths");
        self.info.push(PathInfo { name, secret });
        self.children.push(HashMap::new());
        self.taken.push(HashMap::new());
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
    /// For each table (by index) and path, the column the path went to last.
    columns: Vec<Vec<u32>>,
    /// For each root table with a primary key, the keys admitted in this load.
    keys: HashMap<String, std::collections::HashSet<String>>,
}

/// How many items of a page were admitted (the others were loaded before).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Normalized {
    /// Items turned into rows.
    pub admitted: usize,
    /// Items skipped by the cursor.
    pub skipped: usize,
    /// Items skipped because an item with the same primary key was already admitted in this
    /// load (an item a listing repeats on two pages): each key is stored once per load.
    pub repeated: usize,
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
            columns: Vec::new(),
            keys: HashMap::new(),
        }
    }

    /// The load id written to root rows.
    pub fn load_id(&self) -> &str {
        &self.load_id
    }

    /// Names (columns, child tables) longer than `max` bytes are shortened as dlt shortens them
    /// ([`crate::naming::shorten`]): the same in every load, so a later load finds its columns.
    #[must_use]
    pub fn with_max_name_bytes(mut self, max: Option<usize>) -> Self {
        self.paths.max_name = max;
        self
    }

    /// What the normalizer found wrong since the last call but went on with (keys that fold
    /// to one column name), for the load's report.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.paths.warnings)
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
        items: &[serde_json::Value],
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
            let marks: Vec<usize> = ctx.out.tables.values().map(Rows::len).collect();
            let mut de = serde_json::Deserializer::from_str(item.get());
            serde::de::DeserializeSeed::deserialize(
                Element {
                    ctx: &mut ctx,
                    target: Target::Table(table_index),
                    link: Link::Root,
                },
                &mut de,
            )?;
            let mut admitted = match (cursor.as_deref_mut(), ctx.capture.take()) {
                (Some(c), Some(cap)) => c.admit_parts(cap.value, cap.id),
                _ => true,
            };
            let mut repeated = false;
            if admitted
                && let Some(key) = root_key(schema, out, table)
                && !self.keys.entry(table.to_owned()).or_default().insert(key)
            {
                admitted = false;
                repeated = true;
            }
            if admitted {
                done.admitted += 1;
            } else {
                // Seen in an earlier load, or earlier in this one: its rows go (the columns it
                // brought stay, which is harmless: it was loaded once, so they were too).
                if repeated {
                    done.repeated += 1;
                } else {
                    done.skipped += 1;
                }
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

/// A row's values by column, before they go into the batch.
type Scratch<'de> = Vec<Option<Value<'de>>>;

impl Ctx<'_, '_> {
    /// Starts a row of table `table`: its id, and its table's place in the batch (before any row
    /// of its children).
    fn start_row(&mut self, table: usize) -> String {
        let name = self.schema.tables.get_index(table).expect("known table").0;
        if !self.out.tables.contains_key(name) {
            self.out.tables.insert(name.clone(), Rows::default());
        }
        self.n.new_id()
    }

    /// Ends a row: its system columns, then the row into the batch.
    fn end_row(&mut self, table: usize, id: String, link: Link<'_>, cells: Scratch<'_>) {
        let (name, t) = self
            .schema
            .tables
            .get_index_mut(table)
            .expect("known table");
        let mut cells: Scratch<'_> = cells;
        match link {
            Link::Root => {
                let load_id = Value::Text(Cow::Borrowed(self.n.load_id.as_str()));
                put(t, DLT_LOAD_ID, load_id, &mut cells);
            }
            Link::Child {
                parent,
                index,
                root,
            } => {
                put(
                    t,
                    DLT_PARENT_ID,
                    Value::Text(Cow::Borrowed(parent)),
                    &mut cells,
                );
                put(t, DLT_LIST_IDX, Value::Bigint(index), &mut cells);
                if self.merge {
                    put(t, DLT_ROOT_ID, Value::Text(Cow::Borrowed(root)), &mut cells);
                }
            }
        }
        put(t, DLT_ID, Value::Text(Cow::Owned(id)), &mut cells);
        let rows = self
            .out
            .tables
            .get_mut(name.as_str())
            .expect("placed by start_row");
        rows.widen(t.columns.values().map(|c| c.data_type));
        rows.push(&mut cells);
    }

    /// Sets a data value of the row being built.
    fn set<'de>(&mut self, table: usize, path: u32, value: Value<'de>, cells: &mut Scratch<'de>) {
        let t = self
            .schema
            .tables
            .get_index_mut(table)
            .expect("known table")
            .1;
        let name = &self.n.paths.info[path as usize].name;
        // The column a path went to last time, checked by name (cheaper than hashing it).
        let slots = &mut self.n.columns;
        if slots.len() <= table {
            slots.resize_with(table + 1, Vec::new);
        }
        let slot = &mut slots[table];
        if slot.len() <= path as usize {
            slot.resize(path as usize + 1, u32::MAX);
        }
        let cached = slot[path as usize] as usize;
        let known = match t.columns.get_index(cached) {
            Some((n, _)) if n == name => Some(cached),
            _ => t.columns.get_index_of(name.as_str()),
        };
        let i = set(t, name, known, value, cells);
        if let Some(i) = i {
            slot[path as usize] = u32::try_from(i).unwrap_or(u32::MAX);
        }
    }

    /// The child table of `table` for the list at `path`, created on its first element.
    fn child_table(&mut self, table: usize, path: u32) -> usize {
        let (parent, t) = self.schema.tables.get_index(table).expect("known table");
        let mut name = format!(
            "{parent}{PATH_SEPARATOR}{}",
            self.n.paths.info[path as usize].name
        );
        if let Some(max) = self.n.paths.max_name {
            name = shorten(&name, max);
        }
        if let Some(i) = self.schema.tables.get_index_of(&name) {
            return i;
        }
        let child = Table::new(&name, Some(parent), t.write_disposition);
        self.schema.tables.insert_full(name, child).0
    }

    fn resolve(&mut self, target: Target) -> usize {
        match target {
            Target::Table(i) => i,
            Target::Child { parent, path } => self.child_table(parent, path),
        }
    }

    /// The path of the `value` column of a wrapped scalar or list.
    fn value_path(&mut self) -> u32 {
        let n = &mut *self.n;
        n.paths.child(0, "value", &Scrub::default())
    }
}

/// The row being built, and where its fields go.
struct Row<'r, 'de> {
    table: usize,
    id: &'r str,
    root: &'r str,
    is_root: bool,
    cells: &'r mut Scratch<'de>,
}

/// The table an element's row goes to: known, or the child table of a list, created when the
/// list's first element is read.
#[derive(Clone, Copy)]
enum Target {
    Table(usize),
    Child { parent: usize, path: u32 },
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
    fn row<'de, E>(
        self,
        fill: impl FnOnce(&mut Ctx<'_, '_>, &mut Row<'_, 'de>) -> Result<(), E>,
    ) -> Result<Option<usize>, E> {
        let Self { ctx, target, link } = self;
        let table = ctx.resolve(target);
        let id = ctx.start_row(table);
        let root = match link {
            Link::Root => id.clone(),
            Link::Child { root, .. } => root.to_owned(),
        };
        let mut cells = Scratch::new();
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
    fn scalar<E>(self, value: Value<'_>) -> Result<Option<usize>, E> {
        self.row(|ctx, row| {
            let path = ctx.value_path();
            ctx.set(row.table, path, value, row.cells);
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
        self.scalar(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Option<usize>, E> {
        self.scalar(Value::Bigint(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Option<usize>, E> {
        self.scalar(unsigned(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Option<usize>, E> {
        self.scalar(Value::Double(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        if self.ctx.n.scrub.is_secret_value(v) {
            return Ok(None);
        }
        self.scalar(Value::Text(Cow::Borrowed(v)))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Option<usize>, A::Error> {
        self.row(|ctx, row: &mut Row<'_, 'de>| {
            let path = ctx.value_path();
            list(ctx, row, path, seq)
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Option<usize>, A::Error> {
        self.row(|ctx, row: &mut Row<'_, 'de>| fields(ctx, row, 0, map))
    }
}

/// An unsigned integer: a `BIGINT` when it fits, else a `DOUBLE`.
fn unsigned<'a>(v: u64) -> Value<'a> {
    i64::try_from(v).map_or(Value::Double(v as f64), Value::Bigint)
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

impl serde::de::Visitor<'_> for Key<'_, '_, '_> {
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
struct Field<'a, 'b, 'c, 'f, 'r, 'de> {
    ctx: &'a mut Ctx<'c, 'f>,
    row: &'b mut Row<'r, 'de>,
    path: u32,
    cursor: Option<CursorField>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Field<'_, '_, '_, '_, '_, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Field<'_, '_, '_, '_, '_, 'de> {
    fn value(self, value: Value<'de>, text: impl FnOnce() -> String) {
        if let (Some(which), Some(capture)) = (self.cursor, self.ctx.capture.as_mut()) {
            let slot = match which {
                CursorField::Value => &mut capture.value,
                CursorField::Id => &mut capture.id,
            };
            *slot = Some(text());
        }
        self.ctx
            .set(self.row.table, self.path, value, self.row.cells);
    }

    fn text(self, v: Cow<'de, str>) {
        if self.ctx.n.scrub.is_secret_value(&v) {
            return;
        }
        let owned = |v: &str| v.to_owned();
        let copy = self.cursor.map(|_| owned(&v));
        self.value(Value::Text(v), || copy.unwrap_or_default());
    }
}

impl<'de> serde::de::Visitor<'de> for Field<'_, '_, '_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.ctx
            .set(self.row.table, self.path, Value::Bool(v), self.row.cells);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.value(Value::Bigint(v), || v.to_string());
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.value(unsigned(v), || v.to_string());
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.value(Value::Double(v), || {
            serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string())
        });
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.text(Cow::Borrowed(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.text(Cow::Owned(v.to_owned()));
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
    row: &mut Row<'_, 'de>,
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
    row: &mut Row<'_, 'de>,
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

/// The primary key of the root row `table` got last (the item just normalized), as one text,
/// when the table has a primary key whose columns all exist.
fn root_key(schema: &Schema, out: &Batch, table: &str) -> Option<String> {
    let t = schema.tables.get(table)?;
    if t.primary_key.is_empty() {
        return None;
    }
    let rows = out.tables.get(table)?;
    let row = rows.len().checked_sub(1)?;
    let mut key = String::new();
    for column in &t.primary_key {
        let i = t.columns.get_index_of(column)?;
        // The cell's Debug form tells types apart (`Text("1")` is not `Bigint(1)`).
        key.push_str(&format!("{:?}\u{1f}", rows.cell(row, i)));
    }
    Some(key)
}

/// Puts a system column's value.
fn put<'a>(t: &mut Table, name: &str, value: Value<'a>, cells: &mut Scratch<'a>) {
    let i = t.column(name, value.data_type(), false);
    place(cells, i, value);
}

fn place<'a>(cells: &mut Scratch<'a>, i: usize, value: Value<'a>) {
    if cells.len() <= i {
        cells.resize(i + 1, None);
    }
    cells[i] = Some(value);
}

/// Puts a data value, given the index of its column if it has one: into its column when the
/// types agree or the value coerces, else into the variant column of the value's type. A new
/// column takes the value's type, with ISO 8601 date-time strings detected as timestamps.
/// Returns the index of the column named `name` (not of a variant).
fn set<'a>(
    t: &mut Table,
    name: &str,
    known: Option<usize>,
    value: Value<'a>,
    cells: &mut Scratch<'a>,
) -> Option<usize> {
    match known {
        Some(i) => {
            let column_type = t.columns[i].data_type;
            let own_type = value.data_type();
            if own_type == column_type {
                place(cells, i, value);
                return Some(i);
            }
            match value.clone().into_cell().coerce(column_type) {
                Some(coerced) => {
                    if let Some(v) = Value::of_cell(coerced) {
                        place(cells, i, v);
                    }
                }
                None => {
                    let variant = variant_name(name, own_type);
                    let j = t.column(&variant, own_type, true);
                    place(cells, j, value);
                }
            }
            Some(i)
        }
        None => {
            let value = match value {
                Value::Text(s) => match parse_timestamp(&s) {
                    Some(us) => Value::Timestamp(us),
                    None => Value::Text(s),
                },
                other => other,
            };
            let i = t.column(name, value.data_type(), true);
            place(cells, i, value);
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests;
