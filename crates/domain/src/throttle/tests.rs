//! Tests of the run limiter, with explicit instants.

use super::*;

const F1: &str = "507f191e810c19729de860ea";
const F2: &str = "507f191e810c19729de860eb";

fn flow(s: &str) -> DataFlowId {
    DataFlowId::parse(s).expect("valid id")
}

fn at(base: Instant, secs: u64) -> Instant {
    base + Duration::from_secs(secs)
}

fn wait_secs(d: &Decision) -> Option<u64> {
    match d {
        Decision::Go => None,
        Decision::Wait(d, _) => Some(ceil_secs(*d)),
    }
}

#[test]
fn per_flow_window_slides() {
    let l = InMemoryLimiter::default();
    let t0 = Instant::now();
    let f = flow(F1);
    // (record at, check at, expected wait in seconds)
    let script: &[(Option<u64>, u64, Option<u64>)] = &[
        (None, 0, None),
        (Some(0), 0, None),
        (Some(19), 19, Some(41)),
        (None, 59, Some(1)),
        (None, 60, None),
        (Some(60), 60, Some(19)),
        (None, 79, None),
    ];
    for (record, check, want) in script {
        if let Some(r) = record {
            l.record(&f, "u", at(t0, *r));
        }
        assert_eq!(
            wait_secs(&l.check(&f, "u", at(t0, *check))),
            *want,
            "check at {check}"
        );
    }
}

#[test]
fn per_flow_message_is_exact() {
    let l = InMemoryLimiter::default();
    let t0 = Instant::now();
    let f = flow(F1);
    l.record(&f, "u", t0);
    l.record(&f, "u", at(t0, 10));
    match l.check(&f, "u", at(t0, 19)) {
        Decision::Wait(d, reason) => {
            assert_eq!(d, Duration::from_secs(41));
            assert_eq!(
                reason,
                "data flow 507f191e810c19729de860ea was run twice in the last 60 s (the limit is 2); next run allowed in 41 s"
            );
        }
        Decision::Go => panic!("should wait"),
    }
    assert_eq!(l.check(&flow(F2), "u", at(t0, 19)), Decision::Go);
}

#[test]
fn per_user_limit_spans_flows() {
    let limits = ThrottleLimits {
        per_flow: 100,
        per_user: 3,
        ..ThrottleLimits::default()
    };
    let l = InMemoryLimiter::new(limits);
    let t0 = Instant::now();
    for (i, s) in [F1, F2, F1].iter().enumerate() {
        l.record(&flow(s), "alice", at(t0, i as u64));
    }
    match l.check(&flow(F2), "alice", at(t0, 5)) {
        Decision::Wait(d, reason) => {
            assert_eq!(d, Duration::from_secs(55));
            assert!(
                reason.starts_with("user alice started 3 runs in the last 60 s"),
                "{reason}"
            );
        }
        Decision::Go => panic!("should wait"),
    }
    assert_eq!(l.check(&flow(F2), "bob", at(t0, 5)), Decision::Go);
}

#[test]
fn penalties_hold_back_until_they_expire() {
    let l = InMemoryLimiter::default();
    let t0 = Instant::now();
    let f = flow(F1);
    l.penalize(&f, "u", at(t0, 30));
    l.penalize(&f, "u", at(t0, 20));
    let cases = [(0, Some(30)), (29, Some(1)), (30, None)];
    for (t, want) in cases {
        assert_eq!(wait_secs(&l.check(&f, "u", at(t0, t))), want, "at {t}");
    }
    l.penalize(&f, "u", at(t0, 45));
    match l.check(&f, "u", at(t0, 40)) {
        Decision::Wait(_, reason) => assert!(
            reason.contains("(429); next run allowed in 5 s"),
            "{reason}"
        ),
        Decision::Go => panic!("should wait"),
    }
}

#[test]
fn the_longest_wait_wins_and_maps_are_swept() {
    let l = InMemoryLimiter::default();
    let t0 = Instant::now();
    let f = flow(F1);
    l.record(&f, "u", t0);
    l.record(&f, "u", t0);
    l.penalize(&f, "u", at(t0, 10));
    assert_eq!(wait_secs(&l.check(&f, "u", at(t0, 1))), Some(59));
    assert_eq!(l.check(&f, "u", at(t0, 61)), Decision::Go);
    l.with_state(|w| {
        assert!(w.flows.is_empty() && w.users.is_empty() && w.penalties.is_empty());
    });
}

#[test]
fn ceil_secs_rounds_up() {
    for (d, want) in [
        (Duration::ZERO, 0),
        (Duration::from_millis(1), 1),
        (Duration::from_secs(41), 41),
        (Duration::from_millis(40_001), 41),
    ] {
        assert_eq!(ceil_secs(d), want, "{d:?}");
    }
}
