//! Charts drawn on the server as SVG: stacked columns (a category on x, series stacked) and
//! horizontal bars (a label per row, one bar per value column). No script, no external file:
//! the page works offline and under a strict content security policy (colours are SVG
//! attributes, not CSS).
//!
//! Every mark stands for exactly one row of the chart's SQL and carries its numbers as data
//! (`data-x`, `data-series`, `data-value` or `data-label`) and as a tooltip (`<title>`), so a
//! person can hover, a screen reader can read, and the browser test can check each bar against
//! the same SQL run in the SQL box.

use maud::{Markup, html};
use serde_json::Value;

/// Width of every chart, in SVG units (it scales to the page).
const WIDTH: f64 = 760.0;

/// Colours of the series without a colour of their own (Tableau 10: tells ten apart, also in
/// most forms of colour blindness).
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
    "#bab0ac", "#e15759",
];

/// The colour of series `name`, the `index`-th to appear: statuses keep their meaning (failed
/// is red in every chart), other series take the palette in order.
pub(crate) fn colour(name: &str, index: usize) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "succeeded" | "success" | "done" => "#3a9a5b",
        "failed" | "error" | "expired" | "failed_pct" => "#d1495b",
        "running" | "in progress" => "#3c7dc4",
        "pending" | "waiting" | "queued" => "#a0a4ab",
        "cancelled" | "canceled" | "aborted" => "#edae49",
        _ => PALETTE[index % PALETTE.len()],
    }
}

/// A number of a result: JSON numbers, and numbers sent as text (PostgreSQL's `numeric`).
pub(crate) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Null => Some(0.0),
        _ => None,
    }
}

/// A value as a label: text as is, numbers as JSON writes them, null as `(none)`.
pub(crate) fn label(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as the data attribute a test compares: exactly what the SQL box shows.
fn raw(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A number as people read it: whole numbers without decimals, others with at most two.
pub(crate) fn format_number(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 && x.abs() < 1e15 {
        format!("{}", x.round() as i64)
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Round tick values from 0 to at least `max`: about five steps of 1, 2 or 5 times a power of
/// ten.
pub(crate) fn ticks(max: f64) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let rough = max / 5.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude);
    let steps = (max / step).ceil().max(1.0) as usize;
    // Rounded to a billionth: 3 × 0.2 is 0.6, not 0.6000000000000001.
    (0..=steps)
        .map(|i| (i as f64 * step * 1e9).round() / 1e9)
        .collect()
}

/// Where a status stacks: done first, failed last; `None` for a series that is no status.
fn status_rank(name: &str) -> Option<usize> {
    Some(match name.to_ascii_lowercase().as_str() {
        "succeeded" | "success" | "done" => 0,
        "running" | "in progress" => 1,
        "pending" | "waiting" | "queued" => 2,
        "cancelled" | "canceled" | "aborted" => 3,
        "failed" | "error" | "expired" => 4,
        _ => return None,
    })
}

/// Days (`YYYY-MM-DD`) as a continuous axis: a day with no rows is an empty column, not a
/// missing one (which would read as if the days were adjacent). Anything else is kept as is.
fn days_without_gaps(xs: Vec<String>) -> Vec<String> {
    let days: Option<Vec<chrono::NaiveDate>> = xs
        .iter()
        .map(|x| chrono::NaiveDate::parse_from_str(x, "%Y-%m-%d").ok())
        .collect();
    let Some(days) = days else { return xs };
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return xs;
    };
    if (*last - *first).num_days() > 366 {
        return xs;
    }
    first
        .iter_days()
        .take_while(|d| d <= last)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect()
}

/// Cuts a label to `max` characters, with an ellipsis.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// One row of a stacked-column chart.
#[derive(Debug, Clone)]
pub(crate) struct Stacked {
    pub(crate) x: Value,
    pub(crate) series: Value,
    pub(crate) value: Value,
}

/// Stacked columns: a column per distinct `x` (in the rows' order), a segment per row stacked in
/// the order series first appear; `unit` names the value (`runs`, `RPU`).
pub(crate) fn stacked_columns(id: &str, rows: &[Stacked], unit: &str) -> Markup {
    let mut xs: Vec<String> = Vec::new();
    let mut series: Vec<String> = Vec::new();
    for r in rows {
        let (x, s) = (label(&r.x), label(&r.series));
        if !xs.contains(&x) {
            xs.push(x);
        }
        if !series.contains(&s) {
            series.push(s);
        }
    }
    // Statuses stack in their order (succeeded at the bottom, failed on top), whatever the
    // order the rows came in; other series keep theirs.
    series.sort_by_key(|s| status_rank(s).unwrap_or(usize::MAX));
    let xs = days_without_gaps(xs);
    let mut totals = vec![0.0_f64; xs.len()];
    for r in rows {
        if let Some(i) = xs.iter().position(|x| *x == label(&r.x)) {
            totals[i] += number(&r.value).unwrap_or(0.0).max(0.0);
        }
    }
    let max = totals.iter().copied().fold(0.0, f64::max);
    let ticks = ticks(max);
    let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let (left, right, upper) = (56.0, 16.0, 12.0);
    let plot_w = WIDTH - left - right;
    let band = plot_w / xs.len().max(1) as f64;
    // Labels are turned when they would not fit side by side (about 7 units a character).
    let widest = xs
        .iter()
        .map(|x| x.chars().count().min(16))
        .max()
        .unwrap_or(0);
    let long_labels = widest as f64 * 7.0 > band;
    let lower = if long_labels { 92.0 } else { 36.0 };
    let height = 300.0;
    let plot_h = height - upper - lower;
    let bar_w = (band * 0.7).min(56.0);
    let every = xs.len().div_ceil(24).max(1);
    let y_of = |v: f64| upper + plot_h - v / top * plot_h;
    // Segment positions: stack each column in the order series first appear.
    let mut base = vec![0.0_f64; xs.len()];
    let mut marks = Vec::new();
    for s in &series {
        for r in rows.iter().filter(|r| label(&r.series) == *s) {
            let Some(i) = xs.iter().position(|x| *x == label(&r.x)) else {
                continue;
            };
            let v = number(&r.value).unwrap_or(0.0).max(0.0);
            let (y0, y1) = (y_of(base[i]), y_of(base[i] + v));
            base[i] += v;
            marks.push((i, s.clone(), r, y1, y0 - y1));
        }
    }
    let aria = format!(
        "{unit} by {} and {}: {} columns, {} series",
        "category",
        "series",
        xs.len(),
        series.len()
    );
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {height}"))
            role="img" aria-label=(aria) data-chart=(id) data-kind="stacked" {
            @for t in &ticks {
                line.grid x1=(left) x2=(WIDTH - right) y1=(y_of(*t)) y2=(y_of(*t)) stroke="#e3e5e8" {}
                text x=(left - 6.0) y=(y_of(*t) + 4.0) text-anchor="end" font-size="11" fill="#555" { (format_number(*t)) }
            }
            @for (i, s, r, y, h) in &marks {
                @let si = series.iter().position(|n| n == s).unwrap_or(0);
                rect x=(left + band * *i as f64 + (band - bar_w) / 2.0) y=(y) width=(bar_w) height=(h.max(0.0))
                    fill=(colour(s, si))
                    data-x=(raw(&r.x)) data-series=(raw(&r.series)) data-value=(raw(&r.value)) {
                    title { (label(&r.x)) " · " (s) ": " (format_number(number(&r.value).unwrap_or(0.0))) " " (unit) }
                }
            }
            line x1=(left) x2=(WIDTH - right) y1=(upper + plot_h) y2=(upper + plot_h) stroke="#888" {}
            @for (i, x) in xs.iter().enumerate() {
                @if i % every == 0 {
                    @let cx = left + band * i as f64 + band / 2.0;
                    @let cy = upper + plot_h + 14.0;
                    @if long_labels {
                        text x=(cx) y=(cy) text-anchor="end" font-size="11" fill="#333"
                            transform=(format!("rotate(-40 {cx} {cy})")) { (short(x, 16)) title { (x) } }
                    } @else {
                        text x=(cx) y=(cy) text-anchor="middle" font-size="11" fill="#333" { (x) }
                    }
                }
            }
        }
        (legend(&series))
    }
}

/// The legend of a chart's series, in HTML (wraps and reads as text).
fn legend(series: &[String]) -> Markup {
    html! {
        ul.legend {
            @for (i, s) in series.iter().enumerate() {
                li {
                    svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" {
                        rect width="12" height="12" rx="2" fill=(colour(s, i)) {}
                    }
                    " " (s)
                }
            }
        }
    }
}

/// One row of a bar chart: its label, its values (one per series) and a note shown after them.
#[derive(Debug, Clone)]
pub(crate) struct BarRow {
    pub(crate) label: Value,
    pub(crate) values: Vec<Value>,
    pub(crate) note: Option<String>,
}

/// Horizontal bars: a row per label (in the rows' order), a bar per series (grouped).
pub(crate) fn bars(id: &str, series: &[String], rows: &[BarRow], unit: &str) -> Markup {
    let max = rows
        .iter()
        .flat_map(|r| r.values.iter().filter_map(number))
        .fold(0.0, f64::max);
    let ticks = ticks(max);
    let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let (left, right, upper, lower) = (190.0, 150.0, 8.0, 24.0);
    let bar_h = 14.0;
    let row_h = bar_h * series.len().max(1) as f64 + 10.0;
    let height = upper + lower + row_h * rows.len() as f64;
    let plot_w = WIDTH - left - right;
    let x_of = |v: f64| left + v.max(0.0) / top * plot_w;
    let aria = format!("{unit} by row: {} rows", rows.len());
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {height}"))
            role="img" aria-label=(aria) data-chart=(id) data-kind="bars" {
            @for t in &ticks {
                line.grid x1=(x_of(*t)) x2=(x_of(*t)) y1=(upper) y2=(height - lower) stroke="#e3e5e8" {}
                text x=(x_of(*t)) y=(height - lower + 14.0) text-anchor="middle" font-size="11" fill="#555" { (format_number(*t)) }
            }
            @for (i, r) in rows.iter().enumerate() {
                @let y0 = upper + row_h * i as f64 + 5.0;
                @let name = label(&r.label);
                text x=(left - 8.0) y=(y0 + row_h / 2.0 - 1.0) text-anchor="end" font-size="12" fill="#222" {
                    (short(&name, 26)) title { (name) }
                }
                @for (j, (s, v)) in series.iter().zip(&r.values).enumerate() {
                    @let x = number(v).unwrap_or(0.0);
                    @let y = y0 + bar_h * j as f64;
                    rect x=(left) y=(y) width=(x_of(x) - left) height=(bar_h - 2.0)
                        fill=(colour(s, j))
                        data-label=(raw(&r.label)) data-series=(s) data-value=(raw(v)) {
                        title { (name) " · " (s) ": " (format_number(x)) " " (unit) }
                    }
                    text x=(x_of(x) + 4.0) y=(y + bar_h - 4.0) font-size="11" fill="#333" {
                        (format_number(x)) " " (unit)
                        @if j + 1 == series.len() { @if let Some(n) = &r.note { " (" (n) ")" } }
                    }
                }
            }
            line x1=(left) x2=(left) y1=(upper) y2=(height - lower) stroke="#888" {}
        }
        @if series.len() > 1 { (legend(series)) }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Rows of a stacked chart: (x, series, value).
    fn stacked(rows: &[(&str, &str, i64)]) -> Vec<Stacked> {
        rows.iter()
            .map(|(x, s, v)| Stacked {
                x: json!(x),
                series: json!(s),
                value: json!(v),
            })
            .collect()
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        let shown = |max: f64| {
            ticks(max)
                .into_iter()
                .map(format_number)
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(shown(0.0), "0 1");
        assert_eq!(shown(3.0), "0 1 2 3");
        assert_eq!(shown(7.0), "0 2 4 6 8");
        assert_eq!(shown(0.6), "0 0.2 0.4 0.6");
        assert_eq!(shown(1234.0), "0 500 1000 1500");
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(92.5), "92.5");
        assert_eq!(number(&json!("33.3")), Some(33.3));
        assert_eq!(number(&json!(null)), Some(0.0));
        assert_eq!(number(&json!({"a": 1})), None);
    }

    #[test]
    fn a_stacked_chart_has_one_mark_per_row_with_its_numbers() {
        let rows = stacked(&[
            ("2026-11-27", "succeeded", 3),
            ("2026-11-28", "failed", 1),
            ("2026-11-28", "succeeded", 2),
        ]);
        let svg = stacked_columns("runs", &rows, "runs").into_string();
        assert_eq!(
            svg.matches("<rect").count(),
            3 + 2,
            "3 marks and 2 legend swatches"
        );
        assert!(svg.contains(r#"data-x="2026-11-28" data-series="failed" data-value="1""#));
        assert!(svg.contains("#d1495b"), "failed is red");
        assert!(svg.contains("<title>2026-11-28 · failed: 1 runs</title>"));
    }

    #[test]
    fn days_make_a_continuous_axis_and_statuses_stack_in_order() {
        let rows = stacked(&[
            ("2026-11-27", "failed", 1),
            ("2026-11-27", "succeeded", 3),
            ("2026-11-30", "succeeded", 2),
        ]);
        let svg = stacked_columns("runs", &rows, "runs").into_string();
        for day in ["2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30"] {
            assert!(svg.contains(&format!(">{day}<")), "{day} on the axis");
        }
        assert_eq!(
            svg.matches("<rect").count(),
            3 + 2,
            "no mark for an empty day"
        );
        let legend = &svg[svg.find("<ul class=\"legend\">").unwrap()..];
        assert!(legend.find("succeeded").unwrap() < legend.find("failed").unwrap());
        assert_eq!(
            days_without_gaps(vec!["a".to_owned(), "b".to_owned()]),
            ["a", "b"]
        );
    }

    #[test]
    fn labels_are_escaped() {
        let rows = vec![BarRow {
            label: json!("<script>alert(1)</script>"),
            values: vec![json!(1)],
            note: Some("a & b".to_owned()),
        }];
        let svg = bars("x", &["n".to_owned()], &rows, "runs").into_string();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("a &amp; b"));
    }
}
