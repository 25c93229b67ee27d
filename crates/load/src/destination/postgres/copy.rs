//! PostgreSQL's binary `COPY` format, written straight from the columnar [`Rows`]: a header, then
//! per row a field count and per field a length (-1 for a null) and the value in network order,
//! then a trailer. Each column is read through a typed view of its buffers, so a value costs a
//! bounds check and a copy, with no allocation and no per-value type dispatch through `ToSql`.

use crate::rows::{Column, Rows, Values};
use crate::schema::DataType;

/// The signature, the flags (no OIDs) and the header extension's length (none).
pub(super) const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of the data: a field count of -1.
pub(super) const TRAILER: &[u8] = &[0xff, 0xff];

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

/// One column of the target table, as the rows give it.
enum Field<'a> {
    /// The rows lack the column: null in every row.
    Missing,
    Text {
        offsets: &'a [i32],
        bytes: &'a [u8],
        valid: &'a [bool],
    },
    /// `bigint`, or `timestamptz` already moved to PostgreSQL's epoch by `shift`.
    Int8 {
        values: &'a [i64],
        valid: &'a [bool],
        shift: i64,
    },
    Float8 {
        values: &'a [f64],
        valid: &'a [bool],
    },
    Bool {
        values: &'a [bool],
        valid: &'a [bool],
    },
    /// A column whose values are of another type than the table's (never made by the
    /// normalizer): coerced cell by cell, a value that does not coerce is a null.
    Coerced { column: &'a Column, to: DataType },
}

impl<'a> Field<'a> {
    fn of(column: Option<&'a Column>, to: DataType) -> Self {
        let Some(column) = column else {
            return Self::Missing;
        };
        let valid = column.valid.as_slice();
        match (&column.values, to) {
            (Values::Text { offsets, bytes }, DataType::Text) => Self::Text {
                offsets,
                bytes,
                valid,
            },
            (Values::Bigint(values), DataType::Bigint) => Self::Int8 {
                values,
                valid,
                shift: 0,
            },
            (Values::Timestamp(values), DataType::Timestamp) => Self::Int8 {
                values,
                valid,
                shift: PG_EPOCH_US,
            },
            (Values::Double(values), DataType::Double) => Self::Float8 { values, valid },
            (Values::Bool(values), DataType::Bool) => Self::Bool { values, valid },
            _ => Self::Coerced { column, to },
        }
    }

    fn write(&self, row: usize, out: &mut Vec<u8>) {
        const NULL: [u8; 4] = (-1i32).to_be_bytes();
        match self {
            Self::Missing => out.extend_from_slice(&NULL),
            Self::Text {
                offsets,
                bytes,
                valid,
            } => {
                if valid[row] {
                    let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                    write_text(&bytes[start..end], out);
                } else {
                    out.extend_from_slice(&NULL);
                }
            }
            Self::Int8 {
                values,
                valid,
                shift,
            } => {
                if valid[row] {
                    out.extend_from_slice(&8i32.to_be_bytes());
                    out.extend_from_slice(&values[row].saturating_sub(*shift).to_be_bytes());
                } else {
                    out.extend_from_slice(&NULL);
                }
            }
            Self::Float8 { values, valid } => {
                if valid[row] {
                    out.extend_from_slice(&8i32.to_be_bytes());
                    out.extend_from_slice(&values[row].to_be_bytes());
                } else {
                    out.extend_from_slice(&NULL);
                }
            }
            Self::Bool { values, valid } => {
                if valid[row] {
                    out.extend_from_slice(&1i32.to_be_bytes());
                    out.push(u8::from(values[row]));
                } else {
                    out.extend_from_slice(&NULL);
                }
            }
            Self::Coerced { column, to } => {
                let cell = column.cell(row).coerce(*to);
                write_cell(cell.as_ref(), out);
            }
        }
    }
}

/// A text value. PostgreSQL's `text` cannot hold U+0000 (DuckDB's can): it is left out, the
/// rest of the text kept, so that one such character never fails a load.
fn write_text(text: &[u8], out: &mut Vec<u8>) {
    if text.contains(&0) {
        let kept: Vec<u8> = text.iter().copied().filter(|b| *b != 0).collect();
        out.extend_from_slice(&(kept.len() as i32).to_be_bytes());
        out.extend_from_slice(&kept);
    } else {
        out.extend_from_slice(&(text.len() as i32).to_be_bytes());
        out.extend_from_slice(text);
    }
}

fn write_cell(cell: Option<&crate::schema::Cell>, out: &mut Vec<u8>) {
    use crate::schema::Cell;
    match cell {
        None | Some(Cell::Null) => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(Cell::Text(s)) => write_text(s.as_bytes(), out),
        Some(Cell::Bigint(i)) => {
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&i.to_be_bytes());
        }
        Some(Cell::Timestamp(us)) => {
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&us.saturating_sub(PG_EPOCH_US).to_be_bytes());
        }
        Some(Cell::Double(d)) => {
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&d.to_be_bytes());
        }
        Some(Cell::Bool(b)) => {
            out.extend_from_slice(&1i32.to_be_bytes());
            out.push(u8::from(*b));
        }
    }
}

/// Writes `rows` as COPY rows of a table whose columns have `types` (the rows' columns are the
/// table's first ones, in order; those they lack are null), calling `flush` with the buffer
/// whenever it holds `chunk` bytes or more (it is left empty by `flush`, or kept growing).
pub(super) fn encode<E>(
    types: &[DataType],
    rows: &Rows,
    out: &mut Vec<u8>,
    chunk: usize,
    mut flush: impl FnMut(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let fields: Vec<Field<'_>> = types
        .iter()
        .enumerate()
        .map(|(i, t)| Field::of(rows.columns.get(i), *t))
        .collect();
    let count = (fields.len() as i16).to_be_bytes();
    for row in 0..rows.len() {
        out.extend_from_slice(&count);
        for field in &fields {
            field.write(row, out);
        }
        if out.len() >= chunk {
            flush(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Cell, Table, WriteDisposition};

    #[test]
    fn a_nul_in_a_text_is_left_out_and_the_rest_kept() {
        let mut t = Table::new("t", None, WriteDisposition::Append);
        t.column("s", DataType::Text, true);
        let rows = Rows::of_cells(&t, vec![vec![Cell::Text("a\0b\0".into())]]);
        let mut out = Vec::new();
        encode::<()>(&[DataType::Text], &rows, &mut out, usize::MAX, |_| Ok(())).expect("encode");
        assert_eq!(out, [0, 1, 0, 0, 0, 2, b'a', b'b']);
        let mut out = Vec::new();
        write_cell(Some(&Cell::Text("\0x".into())), &mut out);
        assert_eq!(out, [0, 0, 0, 1, b'x']);
    }

    #[test]
    fn rows_are_written_in_the_binary_copy_format() {
        let mut t = Table::new("t", None, WriteDisposition::Append);
        for (c, ty) in [
            ("s", DataType::Text),
            ("n", DataType::Bigint),
            ("x", DataType::Double),
            ("b", DataType::Bool),
            ("at", DataType::Timestamp),
        ] {
            t.column(c, ty, true);
        }
        let rows = Rows::of_cells(
            &t,
            vec![
                vec![
                    Cell::Text("hé".into()),
                    Cell::Bigint(-2),
                    Cell::Double(0.5),
                    Cell::Bool(true),
                    Cell::Timestamp(PG_EPOCH_US + 1),
                ],
                vec![Cell::Null],
            ],
        );
        let mut types: Vec<DataType> = t.columns.values().map(|c| c.data_type).collect();
        types.push(DataType::Text);
        let mut out = Vec::new();
        encode::<()>(&types, &rows, &mut out, usize::MAX, |_| Ok(())).expect("encode");
        let mut want: Vec<u8> = vec![0, 6];
        want.extend([0, 0, 0, 3, b'h', 0xc3, 0xa9]);
        want.extend([0, 0, 0, 8]);
        want.extend((-2i64).to_be_bytes());
        want.extend([0, 0, 0, 8]);
        want.extend(0.5f64.to_be_bytes());
        want.extend([0, 0, 0, 1, 1]);
        want.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        want.extend([0xff; 4]);
        want.extend([0, 6]);
        for _ in 0..6 {
            want.extend([0xff; 4]);
        }
        assert_eq!(out, want);
        assert_eq!(HEADER.len(), 19);
    }

    #[test]
    fn a_column_of_another_type_is_coerced_value_by_value() {
        let mut t = Table::new("t", None, WriteDisposition::Append);
        t.column("n", DataType::Text, true);
        let rows = Rows::of_cells(
            &t,
            vec![vec![Cell::Text("7".into())], vec![Cell::Text("x".into())]],
        );
        let mut out = Vec::new();
        encode::<()>(&[DataType::Bigint], &rows, &mut out, usize::MAX, |_| Ok(())).expect("encode");
        let mut want: Vec<u8> = vec![0, 1, 0, 0, 0, 8];
        want.extend(7i64.to_be_bytes());
        want.extend([0, 1, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(out, want);
    }
}
