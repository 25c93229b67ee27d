//! Tests of the run limiter: the sliding windows with explicit times, a property test that
//! compares every decision of a random interleaving with a reference model, and concurrent
//! callers on the in-memory limiter and the gate.

use proptest::prelude::*;

use super::*;

const F1: &str = "507f191e810c19729de860ea";
const F2: &str = "507f191e810c19729de860eb";
const F3: &str = "507f191e810c19729de860ec";

fn flow(s: &str) -> DataFlowId {
    DataFlowId::parse(s).expect("valid id")
}

fn secs(s: u64) -> u64 {
    s * 1000
}

/// The wait (whole seconds) a run would get at `at`, without reserving anything.
fn probe(w: &SlidingWindows, f: &DataFlowId, user: &str, at: u64) -> Option<u64> {
    let mut copy = w.clone();
    copy.acquire(&ThrottleLimits::default(), f, user, at)
        .err()
        .map(|r| ceil_secs(r.wait))
}

#[test]
fn per_flow_window_slides() {
    let limits = ThrottleLimits::default();
    let mut w = SlidingWindows::default();
    let f = flow(F1);
    // (acquire at, probe at, expected wait in seconds)
    let script: &[(Option<u64>, u64, Option<u64>)] = &[
        (None, 0, None),
        (Some(0), 0, None),
        (Some(19), 19, Some(41)),
        (None, 59, Some(1)),
        (None, 60, None),
        (Some(60), 60, Some(19)),
        (None, 79, None),
    ];
    for (acquire, at, want) in script {
        if let Some(t) = acquire {
            w.acquire(&limits, &f, "u", secs(*t)).expect("a free slot");
        }
        assert_eq!(probe(&w, &f, "u", secs(*at)), *want, "probe at {at}");
    }
}

#[test]
fn per_flow_message_is_exact() {
    let limits = ThrottleLimits::default();
    let mut w = SlidingWindows::default();
    let f = flow(F1);
    w.acquire(&limits, &f, "u", 0).expect("first");
    w.acquire(&limits, &f, "u", secs(10)).expect("second");
    let refusal = w
        .acquire(&limits, &f, "u", secs(19))
        .expect_err("the third is refused");
    assert_eq!(refusal.wait, Duration::from_secs(41));
    assert_eq!(refusal.limit, Limit::Flow);
    assert_eq!(
        refusal.reason,
        "data flow 507f191e810c19729de860ea was run twice in the last 60 s (the limit is 2); next run allowed in 41 s"
    );
    w.acquire(&limits, &flow(F2), "u", secs(19))
        .expect("another flow is free");
}

#[test]
fn per_user_limit_spans_flows() {
    let limits = ThrottleLimits {
        per_flow: 100,
        per_user: 3,
        ..ThrottleLimits::default()
    };
    let mut w = SlidingWindows::default();
    for (i, s) in [F1, F2, F1].iter().enumerate() {
        w.acquire(&limits, &flow(s), "alice", secs(i as u64))
            .expect("within the limit");
    }
    let refusal = w
        .acquire(&limits, &flow(F2), "alice", secs(5))
        .expect_err("alice is at her limit");
    assert_eq!(refusal.wait, Duration::from_secs(55));
    assert_eq!(refusal.limit, Limit::User);
    assert!(
        refusal
            .reason
            .starts_with("user alice started 3 runs in the last 60 s"),
        "{}",
        refusal.reason
    );
    w.acquire(&limits, &flow(F2), "bob", secs(5))
        .expect("bob has his own limit");
}

#[test]
fn a_released_slot_is_free_again_and_only_that_one() {
    let limits = ThrottleLimits::default();
    let mut w = SlidingWindows::default();
    let f = flow(F1);
    let first = w.acquire(&limits, &f, "u", 0).expect("first");
    let second = w.acquire(&limits, &f, "u", secs(1)).expect("second");
    assert_ne!(first.id, second.id);
    w.acquire(&limits, &f, "u", secs(2)).expect_err("full");
    w.release(&second);
    w.acquire(&limits, &f, "u", secs(2))
        .expect("the released slot is free");
    let refusal = w
        .acquire(&limits, &f, "u", secs(3))
        .expect_err("full again");
    assert_eq!(
        refusal.wait,
        Duration::from_secs(57),
        "the first slot still counts"
    );
    // Releasing twice, or after the window, changes nothing.
    w.release(&second);
    w.acquire(&limits, &f, "u", secs(3))
        .expect_err("still full");
}

#[test]
fn penalties_hold_back_until_they_expire() {
    let mut w = SlidingWindows::default();
    let f = flow(F1);
    w.penalize(&f, secs(30));
    w.penalize(&f, secs(20));
    for (t, want) in [(0, Some(30)), (29, Some(1)), (30, None)] {
        assert_eq!(probe(&w, &f, "u", secs(t)), want, "at {t}");
    }
    w.penalize(&f, secs(45));
    let refusal = w
        .acquire(&ThrottleLimits::default(), &f, "u", secs(40))
        .expect_err("penalized");
    assert_eq!(refusal.limit, Limit::Upstream);
    assert!(
        refusal.reason.contains("(429); next run allowed in 5 s"),
        "{}",
        refusal.reason
    );
}

#[test]
fn the_longest_wait_wins_and_maps_are_swept() {
    let limits = ThrottleLimits::default();
    let mut w = SlidingWindows::default();
    let f = flow(F1);
    w.acquire(&limits, &f, "u", 0).expect("first");
    w.acquire(&limits, &f, "u", 0).expect("second");
    w.penalize(&f, secs(10));
    assert_eq!(probe(&w, &f, "u", secs(1)), Some(59));
    w.acquire(&limits, &f, "u", secs(61)).expect("free again");
    w.sweep(secs(200), secs(60));
    assert!(w.flows.is_empty() && w.users.is_empty() && w.penalties.is_empty());
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

// ---------------------------------------------------------------------------------------------
// A reference model and random interleavings.

/// One step of a random interleaving of callers.
#[derive(Clone, Debug)]
enum Op {
    /// Time moves on by this many milliseconds.
    Advance(u64),
    /// Caller `user` asks for a run of flow number `flow`.
    Acquire { flow: usize, user: usize },
    /// The caller holding the `nth` live reservation proves that no run started.
    Release(usize),
    /// The platform refuses flow number `flow` for this many milliseconds.
    Penalize { flow: usize, ms: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..30_000).prop_map(Op::Advance),
        6 => (0usize..3, 0usize..3).prop_map(|(flow, user)| Op::Acquire { flow, user }),
        1 => (0usize..8).prop_map(Op::Release),
        1 => (0usize..3, 1u64..90_000).prop_map(|(flow, ms)| Op::Penalize { flow, ms }),
    ]
}

/// A run start in the model: flow, user, time, reservation id.
type Start = (usize, usize, u64, u64);

/// What the limits mean, written plainly: the live starts in the window, counted.
#[derive(Default)]
struct Model {
    starts: Vec<Start>,
    penalties: Vec<(usize, u64)>,
}

impl Model {
    /// The wait the limits impose on `user` running `flow` at `now`, in milliseconds.
    fn wait(&self, limits: &ThrottleLimits, flow: usize, user: usize, now: u64) -> Option<u64> {
        let window = millis(limits.window);
        let live = |keep: &dyn Fn(&Start) -> bool| -> Vec<u64> {
            let mut at: Vec<u64> = self
                .starts
                .iter()
                .filter(|s| keep(s) && now - s.2 < window)
                .map(|s| s.2)
                .collect();
            at.sort_unstable();
            at
        };
        let wait_for = |at: Vec<u64>, limit: u32| -> Option<u64> {
            let limit = limit as usize;
            (at.len() >= limit).then(|| at[at.len() - limit] + window - now)
        };
        [
            wait_for(live(&|s| s.0 == flow), limits.per_flow),
            wait_for(live(&|s| s.1 == user), limits.per_user),
            self.penalties
                .iter()
                .filter(|p| p.0 == flow && p.1 > now)
                .map(|p| p.1 - now)
                .max(),
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every decision of a random interleaving agrees with the model: a slot is granted exactly
    /// when no limit is full, a refusal's wait is exact, and after waiting it a run is granted.
    #[test]
    fn every_decision_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        let limits = ThrottleLimits { per_flow: 2, per_user: 4, ..ThrottleLimits::default() };
        let flows = [flow(F1), flow(F2), flow(F3)];
        let users = ["ann", "bob", "cid"];
        let mut w = SlidingWindows::default();
        let mut model = Model::default();
        let mut live: Vec<Reservation> = Vec::new();
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Advance(ms) => now += ms,
                Op::Acquire { flow: fi, user: ui } => {
                    let want = model.wait(&limits, fi, ui, now);
                    match w.acquire(&limits, &flows[fi], users[ui], now) {
                        Ok(r) => {
                            prop_assert_eq!(want, None, "granted although a limit is full");
                            model.starts.push((fi, ui, now, r.id));
                            live.push(r);
                        }
                        Err(refusal) => {
                            prop_assert_eq!(Some(millis(refusal.wait)), want, "{}", refusal.reason);
                            prop_assert!(refusal.wait > Duration::ZERO);
                            let tail = format!("next run allowed in {} s", ceil_secs(refusal.wait));
                            prop_assert!(refusal.reason.ends_with(&tail), "{}", refusal.reason);
                            // Waiting exactly that long is enough.
                            let later = now + millis(refusal.wait);
                            prop_assert_eq!(model.wait(&limits, fi, ui, later), None);
                            let mut copy = w.clone();
                            prop_assert!(copy.acquire(&limits, &flows[fi], users[ui], later).is_ok());
                        }
                    }
                }
                Op::Release(n) => {
                    if !live.is_empty() {
                        let r = live.remove(n % live.len());
                        w.release(&r);
                        model.starts.retain(|s| s.3 != r.id);
                    }
                }
                Op::Penalize { flow: fi, ms } => {
                    w.penalize(&flows[fi], now + ms);
                    model.penalties.push((fi, now + ms));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrent callers.

#[test]
fn concurrent_threads_never_get_more_slots_than_the_limits() {
    let limiter = Arc::new(InMemoryLimiter::new(ThrottleLimits {
        per_flow: 2,
        per_user: 5,
        ..ThrottleLimits::default()
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .expect("runtime");
    let granted: Vec<Reservation> = rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..64 {
            let limiter = Arc::clone(&limiter);
            tasks.push(tokio::spawn(async move {
                let f = flow([F1, F2, F3][i % 3]);
                let user = ["ann", "bob"][i % 2];
                limiter.acquire(&f, user).await.ok()
            }));
        }
        let mut granted = Vec::new();
        for t in tasks {
            granted.extend(t.await.expect("no panic"));
        }
        granted
    });
    for f in [F1, F2, F3] {
        let n = granted.iter().filter(|r| r.flow.as_str() == f).count();
        assert_eq!(n, 2, "flow {f}: {granted:?}");
        assert_eq!(limiter.flow_count(&flow(f)), 2);
    }
    for user in ["ann", "bob"] {
        assert!(granted.iter().filter(|r| r.user == user).count() <= 5);
    }
}

#[tokio::test(start_paused = true)]
async fn waiting_callers_are_served_in_order_each_within_its_deadline() {
    let gate = Arc::new(RunGate::new(Arc::new(InMemoryLimiter::default())));
    let f = flow(F1);
    gate.acquire(&f, "u").await.expect("first");
    gate.acquire(&f, "u").await.expect("second");
    let t0 = Instant::now();
    let cancel = CancellationToken::new();
    let mut tasks = Vec::new();
    // Five waiters arrive in order; the last has too short a deadline for its turn.
    for (i, deadline) in [70u64, 70, 130, 130, 100].into_iter().enumerate() {
        let gate = Arc::clone(&gate);
        let f = f.clone();
        let cancel = cancel.clone();
        tasks.push(tokio::spawn(async move {
            let r = gate
                .acquire_waiting(&f, "u", &cancel, t0 + Duration::from_secs(deadline))
                .await;
            (i, r.map(|_| t0.elapsed()))
        }));
        tokio::task::yield_now().await;
    }
    let mut served = Vec::new();
    for t in tasks {
        served.push(t.await.expect("no panic"));
    }
    let at = |i: usize| served[i].1.as_ref().ok().copied();
    assert_eq!(at(0), Some(Duration::from_secs(60)));
    assert_eq!(at(1), Some(Duration::from_secs(60)));
    assert_eq!(at(2), Some(Duration::from_secs(120)));
    assert_eq!(at(3), Some(Duration::from_secs(120)));
    match &served[4].1 {
        Err(Error::RateLimited { message, .. }) => {
            assert!(message.contains("deadline"), "{message}");
        }
        other => panic!("the fifth waiter cannot be served by its deadline: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_waiter_whose_deadline_is_too_short_is_refused_at_once() {
    let gate = RunGate::new(Arc::new(InMemoryLimiter::default()));
    let f = flow(F1);
    gate.acquire(&f, "u").await.expect("first");
    gate.acquire(&f, "u").await.expect("second");
    let t0 = Instant::now();
    let err = gate
        .acquire_waiting(
            &f,
            "u",
            &CancellationToken::new(),
            t0 + Duration::from_secs(30),
        )
        .await
        .expect_err("the slot frees after the deadline");
    assert_eq!(t0.elapsed(), Duration::ZERO, "refused without waiting");
    match err {
        Error::RateLimited {
            retry_after: Some(d),
            message,
            ..
        } => {
            assert_eq!(d, Duration::from_secs(60));
            assert!(
                message.contains("after this call's deadline (30 s left)"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}
