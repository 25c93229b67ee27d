//! The charts of each kind of dataset, each one SQL query and a shape. The SQL is what the page
//! shows under the chart and opens in the SQL box: one text that runs as is on DuckDB and on
//! PostgreSQL (timestamps are cast to UTC `timestamp`, which both read alike since the readers'
//! sessions are in UTC; no `round(x, n)`, which PostgreSQL lacks for doubles), so a number on a
//! chart is always a number a person can get again by hand.
//!
//! Windows are the 30 days up to the latest row, not up to now: a dataset loaded last month
//! still charts.

/// Which loader made the dataset, and so which charts apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `bdi load flow`: Boomi Flow.
    BoomiFlow,
    /// `bdi load history`: the run history of Data Integration.
    History,
}

impl Kind {
    /// As the page names it.
    pub fn title(self) -> &'static str {
        match self {
            Self::BoomiFlow => "Boomi Flow",
            Self::History => "Data Integration run history",
        }
    }
}

/// How a chart draws its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Columns `x`, `series`, `value` (the first three): a column per x, a segment per series.
    Stacked {
        /// What the value counts.
        unit: &'static str,
    },
    /// The first column labels a row; a bar per column named in `series`; `note` is shown
    /// after the bars, its `{column}`s replaced by the row's values.
    Bars {
        /// The columns drawn as bars.
        series: &'static [&'static str],
        /// What the values count.
        unit: &'static str,
        /// A note per row.
        note: Option<&'static str>,
    },
}

/// A chart: its SQL and how to draw the result.
#[derive(Clone, Copy, Debug)]
pub struct Chart {
    /// Its id in the page (`#chart-<id>`) and the `data-chart` of its SVG.
    pub id: &'static str,
    /// Its title.
    pub title: &'static str,
    /// One sentence on what it shows.
    pub about: &'static str,
    /// The tables it reads (a missing one is named instead of a failing query).
    pub tables: &'static [&'static str],
    /// Its query.
    pub sql: &'static str,
    /// How the result is drawn.
    pub shape: Shape,
}

/// The charts of a kind of dataset, in page order.
pub fn charts(kind: Kind) -> &'static [Chart] {
    match kind {
        Kind::History => HISTORY,
        Kind::BoomiFlow => FLOW,
    }
}

const HISTORY: &[Chart] = &[
    Chart {
        id: "runs_per_day",
        title: "Runs per day, by status",
        about: "Table runs started each UTC day, stacked by their status, over the 30 days up to the latest run.",
        tables: &["runs"],
        sql: "SELECT start_date_utc::timestamp::date AS day, status, count(*) AS runs
FROM runs
WHERE start_date_utc::timestamp > (SELECT max(start_date_utc)::timestamp FROM runs) - INTERVAL '30 days'
GROUP BY day, status
ORDER BY day, status",
        shape: Shape::Stacked { unit: "runs" },
    },
    Chart {
        id: "rpu_per_flow_day",
        title: "RPU per data flow per day",
        about: "Units (RPU) the runs of each data flow used each UTC day, stacked by data flow, over the 30 days up to the latest run; the nine data flows that used the most, and the others together.",
        tables: &["runs", "data_flows"],
        sql: "WITH daily AS (
  SELECT r.start_date_utc::timestamp::date AS day,
         coalesce(f.name, r.river_cross_id) AS data_flow,
         sum(r.units) AS units
  FROM runs r LEFT JOIN data_flows f USING (environment_id, river_cross_id)
  WHERE r.start_date_utc::timestamp > (SELECT max(start_date_utc)::timestamp FROM runs) - INTERVAL '30 days'
  GROUP BY 1, 2
), top AS (
  SELECT data_flow FROM daily GROUP BY data_flow ORDER BY sum(units) DESC, data_flow LIMIT 9
)
SELECT day,
       CASE WHEN data_flow IN (SELECT data_flow FROM top) THEN data_flow ELSE '(other data flows)' END AS data_flow,
       round(sum(units) * 100) / 100 AS rpu
FROM daily
GROUP BY 1, 2
ORDER BY 1, 2",
        shape: Shape::Stacked { unit: "RPU" },
    },
    Chart {
        id: "failure_rate_by_flow",
        title: "Failure rate by data flow",
        about: "The share of each data flow's table runs that failed, over the 30 days up to the latest run; the 20 worst.",
        tables: &["runs", "data_flows"],
        sql: "SELECT coalesce(f.name, r.river_cross_id) AS data_flow,
       round(1000 * CAST(count(*) FILTER (WHERE r.status = 'failed') AS double precision) / count(*)) / 10 AS failed_pct,
       count(*) FILTER (WHERE r.status = 'failed') AS failed,
       count(*) AS runs
FROM runs r LEFT JOIN data_flows f USING (environment_id, river_cross_id)
WHERE r.start_date_utc::timestamp > (SELECT max(start_date_utc)::timestamp FROM runs) - INTERVAL '30 days'
GROUP BY data_flow
ORDER BY failed_pct DESC, runs DESC, data_flow
LIMIT 20",
        shape: Shape::Bars {
            series: &["failed_pct"],
            unit: "%",
            note: Some("{failed} failed of {runs}"),
        },
    },
    Chart {
        id: "duration_by_target",
        title: "Run duration by target, p50 and p95",
        about: "How long the ended runs of each target table took, in seconds: the median and the 95th percentile; the 15 slowest by p95.",
        tables: &["runs"],
        sql: "SELECT target_name AS target,
       round(10 * percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', end_date_utc::timestamp - start_date_utc::timestamp))) / 10 AS p50_s,
       round(10 * percentile_cont(0.95) WITHIN GROUP (ORDER BY date_part('epoch', end_date_utc::timestamp - start_date_utc::timestamp))) / 10 AS p95_s,
       count(*) AS runs
FROM runs
WHERE end_date_utc IS NOT NULL
  AND start_date_utc::timestamp > (SELECT max(start_date_utc)::timestamp FROM runs) - INTERVAL '30 days'
GROUP BY target_name
ORDER BY p95_s DESC, target
LIMIT 15",
        shape: Shape::Bars {
            series: &["p50_s", "p95_s"],
            unit: "s",
            note: Some("n = {runs}"),
        },
    },
];

const FLOW: &[Chart] = &[
    Chart {
        id: "audit_events_per_day",
        title: "Audit events per day, by type",
        about: "Audit events that occurred each UTC day, stacked by type, over the 30 days up to the latest event.",
        tables: &["audit_search"],
        sql: "SELECT occurred_at::timestamp::date AS day, type, count(*) AS events
FROM audit_search
WHERE occurred_at::timestamp > (SELECT max(occurred_at)::timestamp FROM audit_search) - INTERVAL '30 days'
GROUP BY day, type
ORDER BY day, type",
        shape: Shape::Stacked { unit: "events" },
    },
    Chart {
        id: "states_by_flow",
        title: "States by flow",
        about: "The states (running instances) of each flow: done, expired or in progress; the 20 flows with the most.",
        tables: &["states"],
        sql: "WITH per_flow AS (
  SELECT coalesce(current_flow_developer_name, current_flow_id__id) AS flow,
         CASE WHEN is_done THEN 'done' WHEN is_expired THEN 'expired' ELSE 'in progress' END AS state,
         count(*) AS states
  FROM states
  GROUP BY 1, 2
), top AS (
  SELECT flow FROM per_flow GROUP BY flow ORDER BY sum(states) DESC, flow LIMIT 20
)
SELECT flow, state, states
FROM per_flow
WHERE flow IN (SELECT flow FROM top)
ORDER BY flow, state",
        shape: Shape::Stacked { unit: "states" },
    },
];
