//! Pagination: absolute `next_page` URLs are not followed; `sweep` walks page numbers with an
//! explicit `items_per_page` and stops on the last page; a failing page ends the sweep.

use std::collections::BTreeSet;

use bdi_api_client::sweep;
use bdi_domain::models::{DataFlowQuery, PageQuery};
use bdi_domain::{Backend, Error};
use bdi_sandbox::demo;

use crate::support::{env, fast_policy, start};

#[tokio::test]
async fn next_page_is_an_absolute_url_but_the_sweep_counts_pages() {
    let h = start().await;
    let first = h
        .backend
        .list_connections(&env(), PageQuery::new(1, 20))
        .await
        .expect("page 1");
    assert_eq!(first.items.len(), 20);
    let next = first.next_page.as_deref().expect("more pages");
    assert!(next.starts_with("http://127.0.0.1:"), "{next}");
    assert!(first.has_next(20));

    let e = env();
    let all = sweep(20, 100, |page| h.backend.list_connections(&e, page))
        .await
        .expect("sweep");
    assert_eq!(all.len(), demo::DEMO_CONNECTION_COUNT);
    let distinct: BTreeSet<&str> = all.iter().map(|c| c.cross_id.as_str()).collect();
    assert_eq!(distinct.len(), all.len(), "no page fetched twice");
    let c = h.control();
    // One request for page 1 above, then the sweep's three pages, each with the size sent.
    assert_eq!(
        c.request_count("GET", "/connections?page=1&items_per_page=20"),
        2
    );
    assert_eq!(
        c.request_count("GET", "/connections?page=2&items_per_page=20"),
        1
    );
    assert_eq!(
        c.request_count("GET", "/connections?page=3&items_per_page=20"),
        1
    );
    assert_eq!(c.request_count("GET", "/connections?page=4"), 0);
}

#[tokio::test]
async fn small_pages_of_data_flows() {
    let h = start().await;
    let all = sweep(2, 100, |page| {
        let query = DataFlowQuery {
            page,
            ..DataFlowQuery::default()
        };
        let backend = &h.backend;
        async move { backend.list_data_flows(&env(), &query).await }
    })
    .await
    .expect("sweep");
    let total = h
        .backend
        .list_data_flows(&env(), &DataFlowQuery::default())
        .await
        .expect("one page")
        .total_items;
    assert_eq!(all.len() as u64, total);
}

#[tokio::test]
async fn a_failing_page_is_retried_then_reported() {
    let h = start().await;
    h.control().fail_page("/connections", 2, 500);
    let e = env();
    let err = sweep(20, 100, |page| h.backend.list_connections(&e, page))
        .await
        .expect_err("page 2 keeps failing");
    assert!(
        matches!(err, Error::Upstream { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(
        h.control().request_count("GET", "/connections?page=2"),
        1 + fast_policy().max_retries as usize
    );
    assert_eq!(h.control().request_count("GET", "/connections?page=3"), 0);
}
