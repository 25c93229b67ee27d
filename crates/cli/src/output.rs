//! Rendering: aligned tables and `key: value` listings for people, JSON and YAML for scripts.
//!
//! Renderers write to a `&mut dyn Write` and never to the process's stdout, so that tests capture
//! exactly what a user sees. Colour is used only when asked for by [`Style`], which honours
//! `NO_COLOR` and terminals.

use std::io::{self, Write};

use clap::ValueEnum;
use serde::Serialize;
use serde_json::Value;

/// The format of the data written on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns and `key: value` listings, for people.
    #[default]
    Table,
    /// Pretty-printed JSON, for scripts (`| jq`).
    Json,
    /// YAML, for people and for files.
    Yaml,
    /// Comma-separated values with a header line (for `bdi load query`; other commands write
    /// JSON).
    Csv,
}

/// Whether to paint text with ANSI colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Paint or not.
    pub color: bool,
}

impl Style {
    /// Colour only on a terminal and when `NO_COLOR` is unset or empty.
    pub fn detect(is_terminal: bool, no_color: Option<&str>) -> Self {
        Self {
            color: is_terminal && no_color.is_none_or(str::is_empty),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Bold.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Bold red, for `error:`.
    pub fn error(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Bold yellow, for `warning:`.
    pub fn warning(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    /// Bold cyan, for `hint:`.
    pub fn hint(self, text: &str) -> String {
        self.paint("1;36", text)
    }

    /// A status word coloured by meaning (green for success, red for failure).
    pub fn status(self, text: &str) -> String {
        match text {
            "succeeded" | "active" | "D" | "done" => self.paint("32", text),
            "failed" | "error" | "E" | "canceled" => self.paint("31", text),
            "running" | "pending" | "R" | "W" => self.paint("33", text),
            _ => text.to_owned(),
        }
    }
}

/// Columns of rows, printed aligned with two spaces between columns and no borders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Self {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells print empty).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the table; the header is bold when `style` paints.
    pub fn write(&self, w: &mut dyn Write, style: Style) -> io::Result<()> {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(n) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: &[String], paint: &dyn Fn(&str) -> String| {
            let mut s = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                if i + 1 == n {
                    s.push_str(&paint(cell));
                } else {
                    let pad = width - cell.chars().count();
                    s.push_str(&paint(cell));
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            s.trim_end().to_owned()
        };
        writeln!(w, "{}", line(&self.headers, &|c| style.bold(c)))?;
        for row in &self.rows {
            writeln!(w, "{}", line(row, &|c| c.to_owned()))?;
        }
        Ok(())
    }
}

/// `key: value` lines with the values aligned, for one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// An empty listing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a line.
    pub fn add(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.push((key.into(), value.into()));
        self
    }

    /// Adds a line when the value is present and not empty.
    pub fn opt(&mut self, key: impl Into<String>, value: Option<impl Into<String>>) -> &mut Self {
        if let Some(v) = value.map(Into::into).filter(|v: &String| !v.is_empty()) {
            self.0.push((key.into(), v));
        }
        self
    }

    /// Writes the lines.
    pub fn write(&self, w: &mut dyn Write, style: Style) -> io::Result<()> {
        let width = self
            .0
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, v) in &self.0 {
            let pad = " ".repeat(width - k.chars().count());
            writeln!(w, "{}{pad}  {v}", style.bold(&format!("{k}:")))?;
        }
        Ok(())
    }
}

/// How the data looks in the `table` format; JSON and YAML always show the data itself.
#[derive(Debug)]
pub enum View {
    /// Rows of a list; `empty` is said on stderr when there are none.
    Table {
        /// The rows.
        table: Table,
        /// What to say when there is no row, e.g. `no data flows found`.
        empty: &'static str,
    },
    /// One object, as `key: value` lines.
    Fields(Fields),
    /// Text printed verbatim (a log, a document).
    Text(String),
    /// The data itself, as YAML (nested documents of free shape).
    Yaml,
}

/// Serializes any value into JSON (the data every format starts from).
pub fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Pretty JSON with a final newline.
pub fn json_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".to_owned());
    s.push('\n');
    s
}

/// YAML text.
pub fn yaml_text(v: &Value) -> String {
    match serde_norway::to_string(v) {
        Ok(s) => s,
        Err(_) => json_text(v),
    }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
pub fn csv_field(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// `data` as CSV when it is a list of objects (the keys of the first one are the header), else
/// `None`.
pub fn csv_text(data: &Value) -> Option<String> {
    let rows = data.as_array()?;
    let header: Vec<String> = match rows.first() {
        Some(Value::Object(first)) => first.keys().cloned().collect(),
        Some(_) => return None,
        None => return Some(String::new()),
    };
    let mut out = header
        .iter()
        .map(|h| csv_field(&Value::String(h.clone())))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in rows {
        let line: Vec<String> = header
            .iter()
            .map(|h| csv_field(row.get(h).unwrap_or(&Value::Null)))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Some(out)
}

/// Writes `data` on `out` in `format`; in the `table` format `view` decides, and an empty table's
/// message goes to `err`.
pub fn emit(
    out: &mut dyn Write,
    err: &mut dyn Write,
    format: Format,
    style: Style,
    data: &Value,
    view: View,
) -> io::Result<()> {
    match format {
        Format::Json => out.write_all(json_text(data).as_bytes()),
        Format::Csv => match csv_text(data) {
            Some(text) => out.write_all(text.as_bytes()),
            None => out.write_all(json_text(data).as_bytes()),
        },
        Format::Yaml => out.write_all(yaml_text(data).as_bytes()),
        Format::Table => match view {
            View::Table { table, empty } => {
                if table.is_empty() {
                    writeln!(err, "{empty}")
                } else {
                    table.write(out, style)
                }
            }
            View::Fields(f) => f.write(out, style),
            View::Text(t) => {
                out.write_all(t.as_bytes())?;
                if !t.is_empty() && !t.ends_with('\n') {
                    out.write_all(b"\n")?;
                }
                Ok(())
            }
            View::Yaml => out.write_all(yaml_text(data).as_bytes()),
        },
    }
}

/// A short text for a JSON scalar; objects and arrays as compact JSON.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
