//! Unit tests of the retry policy: backoff bounds, `Retry-After` parsing, and which outcomes the
//! loop retries (under tokio's paused clock, so no test waits for real).

use std::cell::Cell;

use bdi_domain::Error;
use chrono::TimeZone;

use super::*;

#[test]
fn backoff_doubles_with_jitter_and_stays_under_the_cap() {
    let p = RetryPolicy::default();
    assert_eq!(p.ceiling(0), Duration::from_millis(500));
    assert_eq!(p.ceiling(1), Duration::from_secs(1));
    assert_eq!(p.ceiling(3), Duration::from_secs(4));
    assert_eq!(p.ceiling(4), Duration::from_secs(8));
    assert_eq!(p.ceiling(40), Duration::from_secs(8));
    for attempt in 0..8 {
        for _ in 0..50 {
            let d = p.backoff(attempt);
            let c = p.ceiling(attempt);
            assert!(
                d >= c / 2 && d <= c,
                "attempt {attempt}: {d:?} outside [{:?}, {c:?}]",
                c / 2
            );
        }
    }
    let zero = RetryPolicy {
        base: Duration::ZERO,
        ..RetryPolicy::default()
    };
    assert_eq!(zero.backoff(3), Duration::ZERO);
}

#[test]
fn retry_after_parses_seconds_and_http_dates() {
    let now = Utc
        .with_ymd_and_hms(2015, 10, 21, 7, 27, 30)
        .single()
        .expect("valid date");
    let cases: &[(&str, Option<Duration>)] = &[
        ("120", Some(Duration::from_secs(120))),
        (" 0 ", Some(Duration::ZERO)),
        ("1.5", Some(Duration::from_millis(1500))),
        (
            "Wed, 21 Oct 2015 07:28:00 GMT",
            Some(Duration::from_secs(30)),
        ),
        ("Wed, 21 Oct 2015 07:00:00 GMT", Some(Duration::ZERO)),
        ("-1", None),
        ("", None),
        ("soon", None),
    ];
    for (value, want) in cases {
        assert_eq!(parse_retry_after(value, now), *want, "value {value:?}");
    }
}

#[test]
fn rate_limit_wait_uses_the_header_the_default_and_the_cap() {
    let p = RetryPolicy::default();
    assert_eq!(p.rate_limit_wait(None), Duration::from_secs(10));
    assert_eq!(
        p.rate_limit_wait(Some(Duration::from_secs(3))),
        Duration::from_secs(3)
    );
    assert_eq!(
        p.rate_limit_wait(Some(Duration::from_secs(3600))),
        Duration::from_secs(60)
    );
}

fn resp(status: u16, retry_after: Option<u64>) -> Attempt<u16> {
    Attempt::Response {
        status,
        retry_after: retry_after.map(Duration::from_secs),
        response: status,
    }
}

/// Runs the loop over a script of outcomes; returns the result, the attempts made and the time
/// spent (on the paused clock).
async fn script(
    idempotent: bool,
    outcomes: &[Option<(u16, Option<u64>)>],
) -> (Result<u16, Error>, usize, Duration) {
    let calls = Cell::new(0usize);
    let started = tokio::time::Instant::now();
    let result = run(&RetryPolicy::default(), idempotent, |_| {
        let i = calls.get();
        calls.set(i + 1);
        let next = outcomes[i.min(outcomes.len() - 1)];
        async move {
            match next {
                Some((status, ra)) => resp(status, ra),
                None => Attempt::Transport(Error::Transport("connection reset".to_owned())),
            }
        }
    })
    .await;
    (result, calls.get(), started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn idempotent_calls_retry_server_and_transport_errors() {
    let (r, n, spent) = script(true, &[Some((503, None)), None, Some((200, None))]).await;
    assert_eq!((r.ok(), n), (Some(200), 3));
    assert!(spent >= Duration::from_millis(250 + 500), "{spent:?}");

    let (r, n, spent) = script(true, &[Some((500, None))]).await;
    assert_eq!((r.ok(), n), (Some(500), 5), "gives up after max_retries");
    assert!(
        spent <= Duration::from_millis(500 + 1000 + 2000 + 4000),
        "{spent:?}"
    );

    let (r, n, _) = script(true, &[None]).await;
    assert!(matches!(r, Err(Error::Transport(_))));
    assert_eq!(n, 5);
}

#[tokio::test(start_paused = true)]
async fn a_post_is_never_replayed_after_a_server_or_transport_error() {
    let (r, n, spent) = script(false, &[Some((502, None)), Some((200, None))]).await;
    assert_eq!((r.ok(), n, spent), (Some(502), 1, Duration::ZERO));

    let (r, n, _) = script(false, &[None, Some((200, None))]).await;
    assert!(matches!(r, Err(Error::Transport(_))));
    assert_eq!(n, 1);
}

#[tokio::test(start_paused = true)]
async fn rate_limits_are_waited_out_for_idempotent_calls() {
    let (r, n, spent) = script(true, &[Some((429, Some(3))), Some((200, None))]).await;
    assert_eq!((r.ok(), n), (Some(200), 2));
    assert!(
        spent >= Duration::from_secs(3) && spent < Duration::from_secs(4),
        "{spent:?}"
    );

    let (r, n, spent) = script(true, &[Some((429, None)), Some((200, None))]).await;
    assert_eq!((r.ok(), n), (Some(200), 2));
    assert!(spent >= Duration::from_secs(10), "default wait: {spent:?}");

    let (r, n, _) = script(true, &[Some((429, Some(0)))]).await;
    assert_eq!(
        (r.ok(), n),
        (Some(429), 5),
        "the last 429 is returned for classification"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_post_comes_back_at_once_and_is_never_repeated() {
    let (r, n, spent) = script(false, &[Some((429, Some(60))), Some((202, None))]).await;
    assert_eq!(
        (r.ok(), n, spent),
        (Some(429), 1, Duration::ZERO),
        "no sleep, no second POST"
    );
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 422] {
        let (r, n, spent) = script(true, &[Some((status, None)), Some((200, None))]).await;
        assert_eq!((r.ok(), n, spent), (Some(status), 1, Duration::ZERO));
    }
}

#[tokio::test(start_paused = true)]
async fn a_503_retry_after_is_honoured_only_when_asked() {
    let outcomes = [(503, Some(7)), (200, None)];
    for (honour, at_least, at_most) in [(true, 7_000, 7_000), (false, 250, 500)] {
        let calls = Cell::new(0usize);
        let started = tokio::time::Instant::now();
        let r = run_with(&RetryPolicy::default(), true, honour, |_| {
            let i = calls.get();
            calls.set(i + 1);
            let (status, ra) = outcomes[i.min(1)];
            async move { resp(status, ra) }
        })
        .await;
        let spent = started.elapsed();
        assert_eq!((r.ok(), calls.get()), (Some(200), 2));
        assert!(
            spent >= Duration::from_millis(at_least) && spent <= Duration::from_millis(at_most),
            "honour={honour}: {spent:?}"
        );
    }
}
