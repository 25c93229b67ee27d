//! Unit tests of the page sweep: every stop signal, the page cap as an error, and page
//! numbering.

use std::cell::RefCell;

use serde_json::json;

use super::*;

/// A page as the server would send it.
fn page(items: Vec<u32>, page: u32, total: u64, next: serde_json::Value) -> Page<u32> {
    serde_json::from_value(json!({
        "items": items, "page": page, "total_items": total, "next_page": next,
        "current_page_size": items.len(),
    }))
    .expect("valid page")
}

/// Sweeps a server that holds `total` items and answers `next` for every page but the last.
async fn run(
    total: u32,
    per_page: u32,
    max_pages: u32,
    next: impl Fn(u32) -> serde_json::Value,
    report_total: bool,
) -> (Result<Vec<u32>>, Vec<PageQuery>) {
    let asked = RefCell::new(Vec::new());
    let got = sweep(per_page, max_pages, |q| {
        asked.borrow_mut().push(q);
        let start = (q.page - 1) * q.items_per_page;
        let items: Vec<u32> = (start..total.min(start + q.items_per_page)).collect();
        let last = start + q.items_per_page >= total;
        let nxt = if last { json!(null) } else { next(q.page + 1) };
        let t = if report_total { u64::from(total) } else { 0 };
        let p = page(items, q.page, t, nxt);
        async move { Ok(p) }
    })
    .await;
    (got, asked.into_inner())
}

#[tokio::test]
async fn follows_page_numbers_not_next_page_urls() {
    let (items, asked) = run(
        25,
        10,
        100,
        |n| json!(format!("http://127.0.0.1:1/v1/x?page={n}")),
        true,
    )
    .await;
    assert_eq!(items.expect("ok"), (0..25).collect::<Vec<_>>());
    assert_eq!(
        asked,
        vec![
            PageQuery::new(1, 10),
            PageQuery::new(2, 10),
            PageQuery::new(3, 10)
        ]
    );
}

#[tokio::test]
async fn integer_and_string_next_page_both_work() {
    let (items, _) = run(7, 3, 100, |n| json!(n), false).await;
    assert_eq!(items.expect("ok").len(), 7);
    let (items, _) = run(7, 3, 100, |n| json!(format!("page={n}")), true).await;
    assert_eq!(items.expect("ok").len(), 7);
}

#[tokio::test]
async fn stops_on_each_end_signal() {
    for stop in [json!(null), json!(""), json!(0)] {
        let calls = RefCell::new(0);
        let got = sweep(2, 100, |q| {
            *calls.borrow_mut() += 1;
            let p = page(vec![q.page, q.page], q.page, 0, stop.clone());
            async move { Ok(p) }
        })
        .await
        .expect("ok");
        assert_eq!((got.len(), *calls.borrow()), (2, 1), "next_page {stop}");
    }

    // An empty page ends the sweep even when next_page still points on.
    let got = sweep(2, 100, |q| {
        let items = if q.page == 1 { vec![1, 2] } else { vec![] };
        let p = page(items, q.page, 0, json!("http://x/?page=9"));
        async move { Ok(p) }
    })
    .await
    .expect("ok");
    assert_eq!(got, vec![1, 2]);

    // total_items reached ends it too.
    let calls = RefCell::new(0);
    let got = sweep(2, 100, |q| {
        *calls.borrow_mut() += 1;
        let p = page(vec![q.page; 2], q.page, 4, json!("more"));
        async move { Ok(p) }
    })
    .await
    .expect("ok");
    assert_eq!((got.len(), *calls.borrow()), (4, 2));
}

#[tokio::test]
async fn an_endless_listing_is_an_error_at_the_cap_not_a_silent_truncation() {
    let calls = RefCell::new(0u32);
    let err = sweep(1, MAX_PAGES, |q| {
        *calls.borrow_mut() += 1;
        let p = page(vec![q.page], q.page, 0, json!("again"));
        async move { Ok(p) }
    })
    .await
    .expect_err("the listing never ends");
    assert_eq!(*calls.borrow(), MAX_PAGES);
    assert!(
        matches!(err, Error::PagingCap { pages } if pages == MAX_PAGES),
        "{err:?}"
    );
    assert_eq!(err.code(), "paging_cap");
    assert!(!err.is_transient());

    // A listing longer than the cap, with a total: an error after the cap's pages.
    let (got, asked) = run(50, 5, 3, |n| json!(n), true).await;
    assert!(matches!(got, Err(Error::PagingCap { pages: 3 })), "{got:?}");
    assert_eq!(asked.len(), 3);

    // A listing that ends on the cap's own page is whole.
    let (got, asked) = run(15, 5, 3, |n| json!(n), true).await;
    assert_eq!((got.expect("ends on page 3").len(), asked.len()), (15, 3));
    // A cap of 0 reads one page.
    let (got, asked) = run(5, 5, 0, |n| json!(n), true).await;
    assert_eq!((got.expect("one page").len(), asked.len()), (5, 1));
}

#[tokio::test]
async fn an_error_ends_the_sweep() {
    let err = sweep(2, 100, |q| async move {
        if q.page == 2 {
            Err(Error::Upstream {
                status: 500,
                body: "boom".to_owned(),
            })
        } else {
            Ok(page(vec![1, 2], q.page, 10, json!("next")))
        }
    })
    .await
    .expect_err("page 2 fails");
    assert!(matches!(err, Error::Upstream { status: 500, .. }));
}
