//! The dataset's schema: tables, their columns and types, how they are written, and how a value
//! is typed and coerced, with dlt's rules: a column's type is the type of its first non-null
//! value; a later value that cannot be coerced to it goes to a variant column `<col>__v_<type>`;
//! a column whose every value is null does not exist.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::naming::PATH_SEPARATOR;

/// dlt's data types, as the destination names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// Text (`VARCHAR`).
    Text,
    /// 64-bit integer (`BIGINT`).
    Bigint,
    /// Floating point (`DOUBLE`).
    Double,
    /// Boolean (`BOOLEAN`).
    Bool,
    /// An instant, from an ISO 8601 date-time string (`TIMESTAMP WITH TIME ZONE`).
    Timestamp,
}

impl DataType {
    /// Every type.
    pub const ALL: [Self; 5] = [
        Self::Text,
        Self::Bigint,
        Self::Double,
        Self::Bool,
        Self::Timestamp,
    ];

    /// dlt's name of the type (`text`, `bigint`, `double`, `bool`, `timestamp`), used in variant
    /// column names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Bigint => "bigint",
            Self::Double => "double",
            Self::Bool => "bool",
            Self::Timestamp => "timestamp",
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value of a row, typed.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// No value.
    Null,
    /// Text.
    Text(String),
    /// An integer.
    Bigint(i64),
    /// A float.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
}

impl Cell {
    /// The type of a non-null cell.
    pub fn data_type(&self) -> Option<DataType> {
        match self {
            Self::Null => None,
            Self::Text(_) => Some(DataType::Text),
            Self::Bigint(_) => Some(DataType::Bigint),
            Self::Double(_) => Some(DataType::Double),
            Self::Bool(_) => Some(DataType::Bool),
            Self::Timestamp(_) => Some(DataType::Timestamp),
        }
    }

    /// The cell as `to`, when dlt would coerce it; `None` when it goes to a variant column.
    pub fn coerce(self, to: DataType) -> Option<Cell> {
        let from = self.data_type()?;
        if from == to {
            return Some(self);
        }
        match (self, to) {
            (Cell::Bigint(i), DataType::Text) => Some(Cell::Text(i.to_string())),
            (Cell::Double(d), DataType::Text) => Some(Cell::Text(python_float(d))),
            (Cell::Bool(b), DataType::Text) => {
                Some(Cell::Text(if b { "True" } else { "False" }.to_owned()))
            }
            (Cell::Timestamp(us), DataType::Text) => {
                DateTime::<Utc>::from_timestamp_micros(us).map(|t| Cell::Text(t.to_rfc3339()))
            }
            (Cell::Bigint(i), DataType::Double) => Some(Cell::Double(i as f64)),
            (Cell::Double(d), DataType::Bigint) => {
                (d.fract() == 0.0 && d.abs() < 9.0e18).then_some(Cell::Bigint(d as i64))
            }
            (Cell::Text(s), DataType::Bigint) => s.trim().parse().ok().map(Cell::Bigint),
            (Cell::Text(s), DataType::Double) => s.trim().parse().ok().map(Cell::Double),
            (Cell::Text(s), DataType::Bool) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Some(Cell::Bool(true)),
                "false" => Some(Cell::Bool(false)),
                _ => None,
            },
            (Cell::Text(s), DataType::Timestamp) => parse_timestamp(&s).map(Cell::Timestamp),
            (Cell::Bigint(i), DataType::Timestamp) => i.checked_mul(1_000_000).map(Cell::Timestamp),
            (Cell::Double(d), DataType::Timestamp) => {
                let us = d * 1e6;
                (us.is_finite() && us.abs() < 9.0e18).then_some(Cell::Timestamp(us as i64))
            }
            _ => None,
        }
    }
}

/// Python's `str(float)`, as dlt writes a float into a text column.
fn python_float(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() < 1e16 {
        format!("{d:.1}")
    } else {
        format!("{d}")
    }
}

/// Microseconds since the epoch of an ISO 8601 date-time (`2026-11-29T19:57:38Z`,
/// `2026-11-29T19:57:38.123+01:00`, `2026-11-29 19:57:38`; no zone means UTC). A date alone, a
/// time alone, or anything else, is not a date-time: dlt leaves those as text.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // Cheap shape check first: `YYYY-MM-DD` then `T` or a space, then `HH:MM`.
    if b.len() < 16
        || b.len() > 40
        || !b[..4].iter().all(u8::is_ascii_digit)
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        || b[13] != b':'
    {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    let normalized = s.replacen(['t', ' '], "T", 1);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(&normalized, fmt) {
            return Some(t.timestamp_micros());
        }
    }
    let naive = normalized.trim_end_matches(['Z', 'z']);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    None
}

/// Whether `s` is a date alone (`2026-11-29`), which dlt keeps as text.
pub fn is_date(s: &str) -> bool {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// A column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Its type.
    pub data_type: DataType,
    /// Whether it may hold nulls (dlt's system columns and primary keys may not).
    pub nullable: bool,
}

/// How a load writes a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteDisposition {
    /// Add the rows.
    Append,
    /// Replace the table's rows with the load's.
    Replace,
    /// Replace the rows whose primary key the load holds, add the others (dlt's delete-insert).
    Merge,
}

impl WriteDisposition {
    /// Parses `append`, `replace` or `merge`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "append" => Some(Self::Append),
            "replace" => Some(Self::Replace),
            "merge" => Some(Self::Merge),
            _ => None,
        }
    }

    /// `append`, `replace` or `merge`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Append => "append",
            Self::Replace => "replace",
            Self::Merge => "merge",
        }
    }
}

impl fmt::Display for WriteDisposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A table of the dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Its name (the resource's, or `<parent>__<field>` for a child table).
    pub name: String,
    /// The parent table of a child table.
    pub parent: Option<String>,
    /// The root table's disposition (child tables follow their root).
    pub write_disposition: WriteDisposition,
    /// The primary key columns (merge).
    pub primary_key: Vec<String>,
    /// The columns, in the order they appeared.
    pub columns: IndexMap<String, Column>,
}

impl Table {
    /// A table with no columns yet.
    pub fn new(name: &str, parent: Option<&str>, disposition: WriteDisposition) -> Self {
        Self {
            name: name.to_owned(),
            parent: parent.map(str::to_owned),
            write_disposition: disposition,
            primary_key: Vec::new(),
            columns: IndexMap::new(),
        }
    }

    /// The index of a column, creating it with `data_type` when missing.
    pub fn column(&mut self, name: &str, data_type: DataType, nullable: bool) -> usize {
        if let Some(i) = self.columns.get_index_of(name) {
            return i;
        }
        self.columns.insert(
            name.to_owned(),
            Column {
                data_type,
                nullable,
            },
        );
        self.columns.len() - 1
    }
}

/// The variant column of `column` for values of `data_type` (`id__v_text`).
pub fn variant_name(column: &str, data_type: DataType) -> String {
    format!("{column}{PATH_SEPARATOR}v_{}", data_type.name())
}

/// Every table of a dataset, in the order they appeared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// The tables by name.
    pub tables: IndexMap<String, Table>,
}

impl Schema {
    /// The tables that hang from `root`, at any depth, in the schema's order: the tree the
    /// tables' `parent`s make, never their names.
    pub fn descendants(&self, root: &str) -> Vec<String> {
        self.tables
            .values()
            .filter(|t| self.hangs_from(t, root))
            .map(|t| t.name.clone())
            .collect()
    }

    /// Whether `table` hangs from `root` (a walk up the parents, bounded by the number of tables
    /// whatever a stored schema holds).
    fn hangs_from<'a>(&'a self, mut table: &'a Table, root: &str) -> bool {
        for _ in 0..self.tables.len() {
            match table.parent.as_deref() {
                Some(p) if p == root => return true,
                Some(p) => match self.tables.get(p) {
                    Some(parent) => table = parent,
                    None => return false,
                },
                None => return false,
            }
        }
        false
    }

    /// A digest of the tables and their columns, which changes whenever they do (dlt's
    /// `schema_version_hash`).
    pub fn version_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut canonical: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for t in self.tables.values() {
            canonical.insert(
                &t.name,
                t.columns
                    .iter()
                    .map(|(n, c)| (n.as_str(), c.data_type.name()))
                    .collect(),
            );
        }
        let text = serde_json::to_string(&canonical).unwrap_or_default();
        let digest = Sha256::digest(text.as_bytes());
        base64_url(&digest[..20])
    }
}

/// Unpadded URL-safe base64, as dlt writes its hashes and ids.
pub fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_date_times_are_timestamps_and_the_rest_is_not() {
        let t = |s| parse_timestamp(s);
        assert_eq!(t("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(t("1970-01-01T01:00:01+01:00"), Some(1_000_000));
        assert_eq!(t("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(t("1970-01-01 00:00:01"), Some(1_000_000));
        assert_eq!(t("1970-01-01T00:01"), Some(60_000_000));
        for not in [
            "1970-01-01",
            "hello",
            "12:00:00",
            "2026-13-01T00:00:00Z",
            "",
        ] {
            assert_eq!(t(not), None, "{not}");
        }
        assert!(is_date("2026-11-29"));
    }

    #[test]
    fn coercions_follow_dlt() {
        assert_eq!(
            Cell::Bigint(5).coerce(DataType::Text),
            Some(Cell::Text("5".into()))
        );
        assert_eq!(
            Cell::Double(2.0).coerce(DataType::Text),
            Some(Cell::Text("2.0".into()))
        );
        assert_eq!(
            Cell::Double(2.0).coerce(DataType::Bigint),
            Some(Cell::Bigint(2))
        );
        assert_eq!(Cell::Double(2.5).coerce(DataType::Bigint), None);
        assert_eq!(Cell::Text("abc".into()).coerce(DataType::Bigint), None);
        assert_eq!(
            Cell::Text("42".into()).coerce(DataType::Bigint),
            Some(Cell::Bigint(42))
        );
        assert_eq!(Cell::Text("x".into()).coerce(DataType::Timestamp), None);
        assert_eq!(Cell::Null.coerce(DataType::Text), None);
    }

    #[test]
    fn base64_url_matches_the_standard_alphabet_without_padding() {
        assert_eq!(base64_url(b"f"), "Zg");
        assert_eq!(base64_url(b"fo"), "Zm8");
        assert_eq!(base64_url(b"foo"), "Zm9v");
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn the_version_hash_follows_the_columns() {
        let mut s = Schema::default();
        let h0 = s.version_hash();
        let mut t = Table::new("flows", None, WriteDisposition::Replace);
        t.column("id", DataType::Text, true);
        s.tables.insert("flows".into(), t);
        let h1 = s.version_hash();
        assert_ne!(h0, h1);
        assert_eq!(h1, s.clone().version_hash());
    }
}
