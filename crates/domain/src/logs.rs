//! Run log selection: the last N lines, or only warnings and errors, so that an agent or a
//! terminal does not pull megabytes of CSV. Pure text processing, shared by every front end.

/// A selection of a CSV log.
#[derive(Debug, PartialEq, Eq)]
pub struct Selected {
    /// The header and the kept lines.
    pub csv: String,
    /// Lines in the whole log, header excluded.
    pub total: usize,
    /// Lines kept.
    pub kept: usize,
}

const PROBLEM_LEVELS: &[&str] = &["error", "warn", "warning", "fatal", "critical", "exception"];
const PROBLEM_WORDS: &[&str] = &["error", "warn", "fail", "exception", "fatal"];

/// Whether a line reports a problem: by its level column when the header names one (`level`,
/// `severity`, `log_level`), else by its words.
fn is_problem(line: &str, level_column: Option<usize>) -> bool {
    match level_column.and_then(|i| line.split(',').nth(i)) {
        Some(level) => {
            let level = level.trim().trim_matches('"').to_ascii_lowercase();
            PROBLEM_LEVELS.contains(&level.as_str())
        }
        None => {
            let l = line.to_ascii_lowercase();
            PROBLEM_WORDS.iter().any(|w| l.contains(w))
        }
    }
}

/// Keeps the header line, then the problem lines when `errors_only`, then the last `tail` lines
/// (`0` keeps all).
pub fn select(csv: &str, tail: usize, errors_only: bool) -> Selected {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Selected {
            csv: String::new(),
            total: 0,
            kept: 0,
        };
    };
    let level_column = header.split(',').position(|h| {
        matches!(
            h.trim().trim_matches('"').to_ascii_lowercase().as_str(),
            "level" | "severity" | "log_level"
        )
    });
    let body: Vec<&str> = lines.collect();
    let total = body.len();
    let mut kept: Vec<&str> = if errors_only {
        body.into_iter()
            .filter(|l| is_problem(l, level_column))
            .collect()
    } else {
        body
    };
    if tail > 0 && kept.len() > tail {
        kept.drain(..kept.len() - tail);
    }
    let mut out = String::from(header);
    for line in &kept {
        out.push('\n');
        out.push_str(line);
    }
    Selected {
        csv: out,
        total,
        kept: kept.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "timestamp,level,message\n1,INFO,start\n2,INFO,extract\n3,ERROR,table broken_events: access denied\n4,WARNING,retrying\n5,INFO,run finished with status failed\n";

    #[test]
    fn tail_keeps_the_header_and_the_last_lines() {
        let s = select(LOG, 2, false);
        assert_eq!(
            s.csv,
            "timestamp,level,message\n4,WARNING,retrying\n5,INFO,run finished with status failed"
        );
        assert_eq!((s.total, s.kept), (5, 2));
    }

    #[test]
    fn errors_only_keeps_problem_lines() {
        let s = select(LOG, 0, true);
        assert_eq!(
            s.csv,
            "timestamp,level,message\n3,ERROR,table broken_events: access denied\n4,WARNING,retrying"
        );
        assert_eq!((s.total, s.kept), (5, 2));
    }

    #[test]
    fn without_a_level_column_words_decide() {
        let s = select("when,what\n1,started\n2,Extraction failed\n3,done", 0, true);
        assert_eq!(s.csv, "when,what\n2,Extraction failed");
    }

    #[test]
    fn empty_log_stays_empty() {
        assert_eq!(
            select("", 10, false),
            Selected {
                csv: String::new(),
                total: 0,
                kept: 0
            }
        );
        assert_eq!(select(LOG, 0, false).kept, 5);
    }
}
