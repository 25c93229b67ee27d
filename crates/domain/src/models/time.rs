//! Timestamps: every form the API writes, and the windows callers give.

use super::*;

/// A UTC timestamp that parses every form the API uses: `...T18:38:55.640Z`, `...T13:38:44.054000`
/// (no zone, meaning UTC) and `...T00:00:00+00:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Parses any of the API's timestamp forms, or a bare date (midnight UTC).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return Ok(Self(dt.with_timezone(&Utc)));
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
                return Ok(Self(n.and_utc()));
            }
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            && let Some(n) = d.and_hms_opt(0, 0, 0)
        {
            return Ok(Self(n.and_utc()));
        }
        Err(Error::invalid(
            "timestamp",
            format!(
                "{} is not a valid time: use ISO 8601, e.g. 2026-05-25T00:00:00",
                crate::error::quote(s)
            ),
        ))
    }

    /// Parses a caller's time given as parameter `field`; the error names the parameter and says
    /// how to write a time.
    pub fn parse_for(field: &str, s: &str) -> Result<Self, Error> {
        Self::parse(s).map_err(|_| {
            Error::invalid(
                field,
                format!(
                    "{} is not a valid time: use ISO 8601 UTC, e.g. 2026-05-25T00:00:00",
                    crate::error::quote(s)
                ),
            )
        })
    }

    /// A time window `[start, end)` from a caller's two times, each named by its parameter: both
    /// must parse, and the window must not be empty.
    pub fn window_for(
        (start_field, start): (&str, &str),
        (end_field, end): (&str, &str),
    ) -> Result<(Self, Self), Error> {
        let window = (
            Self::parse_for(start_field, start)?,
            Self::parse_for(end_field, end)?,
        );
        Self::check_window((start_field, window.0), (end_field, window.1))
    }

    /// Checks a window of two times already known: `start` must come before `end`.
    pub fn check_window(
        (start_field, start): (&str, Self),
        (end_field, end): (&str, Self),
    ) -> Result<(Self, Self), Error> {
        if start >= end {
            return Err(Error::invalid(
                end_field,
                format!(
                    "{end_field} ({}) must be after {start_field} ({})",
                    crate::error::quote(&end.to_query()),
                    crate::error::quote(&start.to_query())
                ),
            ));
        }
        Ok((start, end))
    }

    /// The form the API's query parameters take: `YYYY-MM-DDTHH:MM:SS`, UTC, no zone.
    pub fn to_query(&self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%S").to_string()
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(&self) -> i64 {
        self.0.timestamp_millis()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
