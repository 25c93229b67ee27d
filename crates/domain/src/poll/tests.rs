//! Tests of the poller, with tokio's paused clock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

fn secs(v: &[f64]) -> Vec<Duration> {
    v.iter().map(|s| Duration::from_secs_f64(*s)).collect()
}

fn steady(deadline: u64) -> PollPolicy {
    PollPolicy {
        jitter: 0.0,
        deadline: Duration::from_secs(deadline),
        ..PollPolicy::default()
    }
}

#[test]
fn delays_grow_and_cap() {
    let cases: &[(PollPolicy, &[f64])] = &[
        (
            PollPolicy::default(),
            &[2.0, 3.0, 4.5, 6.75, 10.125, 15.0, 15.0],
        ),
        (
            PollPolicy {
                factor: 1.0,
                ..PollPolicy::default()
            },
            &[2.0, 2.0, 2.0],
        ),
        (
            PollPolicy {
                factor: 0.5,
                ..PollPolicy::default()
            },
            &[2.0, 2.0],
        ),
        (
            PollPolicy {
                factor: f64::NAN,
                ..PollPolicy::default()
            },
            &[2.0, 2.0],
        ),
        (
            PollPolicy {
                factor: 10.0,
                max_interval: Duration::from_secs(5),
                ..PollPolicy::default()
            },
            &[2.0, 5.0, 5.0],
        ),
        (
            PollPolicy {
                initial: Duration::from_secs(30),
                ..PollPolicy::default()
            },
            &[15.0, 15.0],
        ),
    ];
    for (policy, want) in cases {
        let got: Vec<Duration> = policy.delays().take(want.len()).collect();
        assert_eq!(got, secs(want), "{policy:?}");
    }
}

#[test]
fn jitter_scales_within_bounds() {
    let d = Duration::from_secs(10);
    let cases = [
        (0.1, 0.0, 9.0),
        (0.1, 0.5, 10.0),
        (0.1, 1.0, 11.0),
        (0.0, 0.9, 10.0),
        (2.0, 0.0, 0.0),
        (f64::NAN, 0.0, 10.0),
        (0.5, f64::NAN, 10.0),
    ];
    for (jitter, unit, want) in cases {
        let got = apply_jitter(d, jitter, unit).as_secs_f64();
        assert!((got - want).abs() < 1e-9, "{jitter} {unit}: {got}");
    }
}

#[test]
fn fatal_errors_are_classified() {
    let nf = Error::NotFound {
        what: "x".into(),
        message: String::new(),
    };
    let cases = [
        (nf, true),
        (
            Error::Unauthorized {
                message: String::new(),
            },
            true,
        ),
        (
            Error::Forbidden {
                message: String::new(),
            },
            true,
        ),
        (Error::invalid("a", "b"), true),
        (Error::Transport("reset".into()), false),
        (
            Error::Upstream {
                status: 502,
                body: String::new(),
            },
            false,
        ),
        (
            Error::Upstream {
                status: 409,
                body: String::new(),
            },
            false,
        ),
        (
            Error::RateLimited {
                retry_after: None,
                message: String::new(),
                limit: crate::throttle::Limit::Upstream,
            },
            false,
        ),
    ];
    for (e, want) in cases {
        assert_eq!(is_fatal(&e), want, "{e}");
    }
}

type Script = Mutex<Vec<Result<u32>>>;

/// The state of a fetch that plays a script, then returns `Ok(0)` forever.
fn scripted(script: Vec<Result<u32>>) -> (Arc<Script>, Arc<AtomicU32>) {
    let mut s = script;
    s.reverse();
    (Arc::new(Mutex::new(s)), Arc::new(AtomicU32::new(0)))
}

async fn run(
    policy: &PollPolicy,
    cancel: &CancellationToken,
    progress: Option<&ProgressFn>,
    script: Vec<Result<u32>>,
) -> (Result<Waited<u32>>, u32) {
    let (s, calls) = scripted(script);
    let c = calls.clone();
    let out = poll(
        policy,
        cancel,
        progress,
        move || {
            c.fetch_add(1, Ordering::SeqCst);
            let next = s.lock().expect("lock").pop().unwrap_or(Ok(0));
            async move { next }
        },
        |v| *v >= 100,
        |v| format!("s{v}"),
    )
    .await;
    (out, calls.load(Ordering::SeqCst))
}

#[tokio::test(start_paused = true)]
async fn finishes_when_done_and_reports_progress() {
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = reports.clone();
    let progress: ProgressFn = Arc::new(move |p| sink.lock().expect("lock").push(p));
    let start = Instant::now();
    let (out, calls) = run(
        &steady(600),
        &CancellationToken::new(),
        Some(&progress),
        vec![Ok(1), Ok(2), Ok(100)],
    )
    .await;
    assert_eq!(out.expect("no error"), Waited::Finished(100));
    assert_eq!(calls, 3);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    let reports = reports.lock().expect("lock");
    let got: Vec<(u32, u64, &str, &str)> = reports
        .iter()
        .map(|p| {
            (
                p.step,
                p.elapsed.as_secs(),
                p.status.as_str(),
                p.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 0, "s1", "still s1 after 0 s; next check in 2 s"),
            (2, 2, "s2", "still s2 after 2 s; next check in 3 s"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn times_out_at_the_deadline_with_a_final_check() {
    let (out, calls) = run(&steady(10), &CancellationToken::new(), None, vec![Ok(7)]).await;
    // Checks at 0, 2, 5, 9.5 and a last one at the deadline, 10.
    assert_eq!(calls, 5);
    assert_eq!(
        out.expect("no error"),
        Waited::TimedOut {
            last: Some(0),
            elapsed: Duration::from_secs(10)
        }
    );
}

#[tokio::test(start_paused = true)]
async fn transient_errors_do_not_end_the_wait() {
    let script = vec![
        Err(Error::Transport("reset".into())),
        Err(Error::Upstream {
            status: 503,
            body: String::new(),
        }),
        Ok(5),
        Ok(100),
    ];
    let (out, calls) = run(&steady(600), &CancellationToken::new(), None, script).await;
    assert_eq!(out.expect("no error"), Waited::Finished(100));
    assert_eq!(calls, 4);
}

#[tokio::test(start_paused = true)]
async fn transient_errors_until_the_deadline_time_out_without_a_state() {
    let script: Vec<Result<u32>> = (0..20)
        .map(|_| Err(Error::Transport("down".into())))
        .collect();
    let (out, _) = run(&steady(10), &CancellationToken::new(), None, script).await;
    assert_eq!(
        out.expect("no error"),
        Waited::TimedOut {
            last: None,
            elapsed: Duration::from_secs(10)
        }
    );
}

#[tokio::test(start_paused = true)]
async fn fatal_errors_end_the_wait() {
    let script = vec![
        Ok(1),
        Err(Error::NotFound {
            what: "operation".into(),
            message: "gone".into(),
        }),
    ];
    let (out, calls) = run(&steady(600), &CancellationToken::new(), None, script).await;
    assert!(matches!(out, Err(Error::NotFound { .. })), "{out:?}");
    assert_eq!(calls, 2);
}

#[tokio::test(start_paused = true)]
async fn cancellation_ends_the_wait_with_the_last_state() {
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(4)).await;
        trigger.cancel();
    });
    let start = Instant::now();
    let (out, calls) = run(&steady(600), &cancel, None, vec![Ok(3), Ok(4)]).await;
    assert_eq!(out.expect("no error"), Waited::Cancelled { last: Some(4) });
    assert_eq!(calls, 2);
    assert_eq!(start.elapsed(), Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_token_fetches_nothing() {
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (out, calls) = run(&steady(600), &cancel, None, vec![Ok(100)]).await;
    assert_eq!(out.expect("no error"), Waited::Cancelled { last: None });
    assert_eq!(calls, 0);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_fetch_is_cut_at_the_deadline() {
    let start = Instant::now();
    let out: Result<Waited<u32>> = poll(
        &steady(30),
        &CancellationToken::new(),
        None,
        std::future::pending::<Result<u32>>,
        |_| true,
        |_| String::new(),
    )
    .await;
    assert_eq!(
        out.expect("no error"),
        Waited::TimedOut {
            last: None,
            elapsed: Duration::from_secs(30)
        }
    );
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn jittered_waits_stay_within_the_deadline() {
    let policy = PollPolicy {
        jitter: 1.0,
        deadline: Duration::from_secs(60),
        ..PollPolicy::default()
    };
    let start = Instant::now();
    let (out, calls) = run(&policy, &CancellationToken::new(), None, vec![]).await;
    assert!(matches!(out, Ok(Waited::TimedOut { .. })));
    assert!(calls >= 4, "{calls}");
    assert_eq!(start.elapsed(), Duration::from_secs(60));
}

#[test]
fn waited_helpers() {
    let f: Waited<u32> = Waited::Finished(1);
    let t: Waited<u32> = Waited::TimedOut {
        last: Some(2),
        elapsed: Duration::ZERO,
    };
    let c: Waited<u32> = Waited::Cancelled { last: None };
    assert_eq!(
        (f.finished(), t.finished(), c.finished()),
        (Some(&1), None, None)
    );
    assert_eq!(
        (f.latest(), t.latest(), c.latest()),
        (Some(&1), Some(&2), None)
    );
    assert_eq!(
        t.clone().map(|v| v * 10),
        Waited::TimedOut {
            last: Some(20),
            elapsed: Duration::ZERO
        }
    );
    assert_eq!(t.into_latest(), Some(2));
}
