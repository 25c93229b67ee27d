//! Rows of one table, column by column: what the normalizer makes and a destination writes.
//!
//! A column is one typed vector and a validity vector, strings packed in one buffer with
//! offsets (Arrow's layout), so a page of rows costs a few allocations instead of one per value,
//! and a destination hands the buffers over as they are.

use std::borrow::Cow;

use crate::schema::{Cell, DataType, Table};

/// The values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Text: value `i` is `bytes[offsets[i]..offsets[i + 1]]`.
    Text {
        /// `len + 1` offsets into `bytes`, from 0.
        offsets: Vec<i32>,
        /// The UTF-8 bytes of every value, one after the other.
        bytes: Vec<u8>,
    },
    /// Integers.
    Bigint(Vec<i64>),
    /// Floats.
    Double(Vec<f64>),
    /// Booleans.
    Bool(Vec<bool>),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(Vec<i64>),
}

impl Values {
    fn new(data_type: DataType) -> Self {
        match data_type {
            DataType::Text => Self::Text {
                offsets: vec![0],
                bytes: Vec::new(),
            },
            DataType::Bigint => Self::Bigint(Vec::new()),
            DataType::Double => Self::Double(Vec::new()),
            DataType::Bool => Self::Bool(Vec::new()),
            DataType::Timestamp => Self::Timestamp(Vec::new()),
        }
    }

    /// The type of the values.
    pub fn data_type(&self) -> DataType {
        match self {
            Self::Text { .. } => DataType::Text,
            Self::Bigint(_) => DataType::Bigint,
            Self::Double(_) => DataType::Double,
            Self::Bool(_) => DataType::Bool,
            Self::Timestamp(_) => DataType::Timestamp,
        }
    }
}

/// A value on its way into a column: text borrowed from the item when it can be.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Text(Cow<'a, str>),
    Bigint(i64),
    Double(f64),
    Bool(bool),
    Timestamp(i64),
}

impl Value<'_> {
    pub(crate) fn data_type(&self) -> DataType {
        match self {
            Self::Text(_) => DataType::Text,
            Self::Bigint(_) => DataType::Bigint,
            Self::Double(_) => DataType::Double,
            Self::Bool(_) => DataType::Bool,
            Self::Timestamp(_) => DataType::Timestamp,
        }
    }

    pub(crate) fn into_cell(self) -> Cell {
        match self {
            Self::Text(s) => Cell::Text(s.into_owned()),
            Self::Bigint(i) => Cell::Bigint(i),
            Self::Double(d) => Cell::Double(d),
            Self::Bool(b) => Cell::Bool(b),
            Self::Timestamp(us) => Cell::Timestamp(us),
        }
    }

    /// The value of a cell (`None` for a null).
    pub(crate) fn of_cell(cell: Cell) -> Option<Self> {
        Some(match cell {
            Cell::Null => return None,
            Cell::Text(s) => Self::Text(Cow::Owned(s)),
            Cell::Bigint(i) => Self::Bigint(i),
            Cell::Double(d) => Self::Double(d),
            Cell::Bool(b) => Self::Bool(b),
            Cell::Timestamp(us) => Self::Timestamp(us),
        })
    }
}

/// One column's values and which of them are not null.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The values (a null holds a placeholder: 0, false, or empty text).
    pub values: Values,
    /// `valid[i]`: row `i` holds a value.
    pub valid: Vec<bool>,
}

impl Column {
    fn new(data_type: DataType, nulls: usize) -> Self {
        let mut c = Self {
            values: Values::new(data_type),
            valid: Vec::with_capacity(nulls),
        };
        for _ in 0..nulls {
            c.push_null();
        }
        c
    }

    fn len(&self) -> usize {
        self.valid.len()
    }

    fn push_null(&mut self) {
        self.valid.push(false);
        match &mut self.values {
            Values::Text { offsets, bytes } => offsets.push(offset(bytes.len())),
            Values::Bigint(v) | Values::Timestamp(v) => v.push(0),
            Values::Double(v) => v.push(0.0),
            Values::Bool(v) => v.push(false),
        }
    }

    /// Appends a value, coerced to the column's type (a value that does not coerce is a null).
    fn push(&mut self, value: Value<'_>) {
        let own = self.values.data_type();
        let value = if value.data_type() == own {
            Some(value)
        } else {
            value.into_cell().coerce(own).and_then(Value::of_cell)
        };
        match (&mut self.values, value) {
            (Values::Text { offsets, bytes }, Some(Value::Text(s))) => {
                bytes.extend_from_slice(s.as_bytes());
                offsets.push(offset(bytes.len()));
            }
            (Values::Bigint(v), Some(Value::Bigint(i)))
            | (Values::Timestamp(v), Some(Value::Timestamp(i))) => v.push(i),
            (Values::Double(v), Some(Value::Double(d))) => v.push(d),
            (Values::Bool(v), Some(Value::Bool(b))) => v.push(b),
            _ => return self.push_null(),
        }
        self.valid.push(true);
    }

    fn truncate(&mut self, len: usize) {
        if len >= self.len() {
            return;
        }
        self.valid.truncate(len);
        match &mut self.values {
            Values::Text { offsets, bytes } => {
                offsets.truncate(len + 1);
                bytes.truncate(offsets[len] as usize);
            }
            Values::Bigint(v) | Values::Timestamp(v) => v.truncate(len),
            Values::Double(v) => v.truncate(len),
            Values::Bool(v) => v.truncate(len),
        }
    }

    fn extend(&mut self, other: Self) {
        match (&mut self.values, other.values) {
            (
                Values::Text { offsets, bytes },
                Values::Text {
                    offsets: o,
                    bytes: b,
                },
            ) => {
                let base = offsets.last().copied().unwrap_or(0);
                offsets.extend(o[1..].iter().map(|x| x + base));
                bytes.extend_from_slice(&b);
            }
            (Values::Bigint(v), Values::Bigint(o))
            | (Values::Timestamp(v), Values::Timestamp(o)) => v.extend(o),
            (Values::Double(v), Values::Double(o)) => v.extend(o),
            (Values::Bool(v), Values::Bool(o)) => v.extend(o),
            (_, _) => {
                // Columns keep their type for a whole load; a mismatch is a bug upstream.
                debug_assert!(false, "columns of one table changed type");
                for _ in 0..other.valid.len() {
                    self.push_null();
                }
                return;
            }
        }
        self.valid.extend(other.valid);
    }

    /// The cell of row `i`.
    pub fn cell(&self, i: usize) -> Cell {
        if !self.valid.get(i).copied().unwrap_or(false) {
            return Cell::Null;
        }
        match &self.values {
            Values::Text { offsets, bytes } => {
                let text = &bytes[offsets[i] as usize..offsets[i + 1] as usize];
                Cell::Text(String::from_utf8_lossy(text).into_owned())
            }
            Values::Bigint(v) => Cell::Bigint(v[i]),
            Values::Double(v) => Cell::Double(v[i]),
            Values::Bool(v) => Cell::Bool(v[i]),
            Values::Timestamp(v) => Cell::Timestamp(v[i]),
        }
    }

    /// Whether every value is null.
    pub fn all_null(&self) -> bool {
        !self.valid.iter().any(|v| *v)
    }
}

fn offset(len: usize) -> i32 {
    i32::try_from(len).expect("less than 2 GiB of text in one column of one batch")
}

/// Rows of one table, column by column, columns in the table's order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rows {
    /// The columns (a table's later columns, which these rows never had, may be missing).
    pub columns: Vec<Column>,
    len: usize,
}

impl Rows {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The cell of `row` in column `column` (a null past the columns these rows have).
    pub fn cell(&self, row: usize, column: usize) -> Cell {
        self.columns.get(column).map_or(Cell::Null, |c| c.cell(row))
    }

    /// Every cell of `row`.
    pub fn row(&self, row: usize) -> Vec<Cell> {
        self.columns.iter().map(|c| c.cell(row)).collect()
    }

    /// Gives the rows a column of each of `types` they lack (null in every row so far).
    pub fn widen(&mut self, types: impl Iterator<Item = DataType>) {
        for (i, data_type) in types.enumerate() {
            if i >= self.columns.len() {
                self.columns.push(Column::new(data_type, self.len));
            }
        }
    }

    /// Appends a row: `values[i]` into column `i`, a null where there is none. The columns must
    /// have been widened to hold every value.
    pub(crate) fn push(&mut self, values: &mut [Option<Value<'_>>]) {
        for (i, column) in self.columns.iter_mut().enumerate() {
            match values.get_mut(i).and_then(Option::take) {
                Some(v) => column.push(v),
                None => column.push_null(),
            }
        }
        self.len += 1;
    }

    /// Rows of `table` given cell by cell (each row a cell per column of `table`, in order;
    /// missing cells are null).
    pub fn of_cells(table: &Table, rows: Vec<Vec<Cell>>) -> Self {
        let mut out = Self::default();
        out.widen(table.columns.values().map(|c| c.data_type));
        for row in rows {
            let mut values: Vec<Option<Value<'_>>> = row.into_iter().map(Value::of_cell).collect();
            out.push(&mut values);
        }
        out
    }

    /// Keeps the first `len` rows.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            for c in &mut self.columns {
                c.truncate(len);
            }
            self.len = len;
        }
    }

    /// Appends `other`'s rows (rows of the same table, whose columns may be fewer or more).
    pub fn extend(&mut self, mut other: Self) {
        let types: Vec<DataType> = other.columns.iter().map(|c| c.values.data_type()).collect();
        self.widen(types.into_iter());
        let mine: Vec<DataType> = self.columns.iter().map(|c| c.values.data_type()).collect();
        other.widen(mine.into_iter());
        for (c, o) in self.columns.iter_mut().zip(other.columns) {
            c.extend(o);
        }
        self.len += other.len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Option<Value<'_>> {
        Some(Value::Text(Cow::Borrowed(s)))
    }

    #[test]
    fn rows_go_in_by_row_and_out_by_cell_with_nulls_truncation_and_extension() {
        let mut rows = Rows::default();
        rows.widen([DataType::Text, DataType::Bigint].into_iter());
        rows.push(&mut [text("a"), Some(Value::Bigint(1))]);
        rows.push(&mut [None, Some(Value::Text(Cow::Borrowed("2")))]);
        // A later column: null for the rows before it.
        rows.widen([DataType::Text, DataType::Bigint, DataType::Timestamp].into_iter());
        rows.push(&mut [
            text("c"),
            Some(Value::Text(Cow::Borrowed("x"))),
            Some(Value::Timestamp(7)),
        ]);
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows.row(0),
            [Cell::Text("a".into()), Cell::Bigint(1), Cell::Null]
        );
        assert_eq!(
            rows.row(1),
            [Cell::Null, Cell::Bigint(2), Cell::Null],
            "text that reads as an integer is coerced"
        );
        assert_eq!(
            rows.row(2),
            [Cell::Text("c".into()), Cell::Null, Cell::Timestamp(7)],
            "a value that does not coerce is a null"
        );
        assert_eq!(rows.cell(0, 9), Cell::Null);

        let mut more = Rows::default();
        more.widen([DataType::Text].into_iter());
        more.push(&mut [text("d")]);
        rows.extend(more);
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows.row(3),
            [Cell::Text("d".into()), Cell::Null, Cell::Null]
        );

        rows.truncate(1);
        assert_eq!(rows.len(), 1);
        rows.push(&mut [text("e"), None, None]);
        assert_eq!(
            rows.row(1),
            [Cell::Text("e".into()), Cell::Null, Cell::Null]
        );
        assert_eq!(rows.cell(0, 0), Cell::Text("a".into()));
        assert!(!rows.columns[0].all_null());
        assert!(rows.columns[2].all_null());
    }
}
