//! `BoomiFlowClient::pages` against the sandbox's Boomi Flow emulator in every envelope variant
//! the contract leaves open (section 2): page base 0 or 1, next links absolute, relative,
//! root-relative or none, totals as pages, items, both or none, other key names, and a server cap
//! below the page size asked. Every variant must yield every audit event once, in order. And the
//! emulator's 429 surfaces as the Boomi Flow client's own rate limit.
//!
//! Section numbers are those of the Boomi Flow contract, `docs/boomi-flow-api.md`.

use std::collections::HashSet;
use std::time::Duration;

use bdi_api_client::{BoomiFlowClient, BoomiFlowConfig, BoomiFlowError};
use bdi_sandbox::boomi_flow::{Envelope, Links, PageBase, Totals, demo};
use bdi_sandbox::{BoomiFlowConfig as EmulatorConfig, Sandbox, SandboxConfig};
use futures::StreamExt;

const EVENTS: u64 = 237;

async fn read_all(envelope: Envelope) -> Vec<String> {
    let config = SandboxConfig {
        boomi_flow: EmulatorConfig {
            audit_events: EVENTS,
            envelope,
            ..EmulatorConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.expect("the sandbox starts");
    let flow = &sandbox.config().boomi_flow;
    let client = BoomiFlowClient::new(
        BoomiFlowConfig::new(
            &sandbox.boomi_flow_base_url(),
            &flow.api_key,
            Some(&flow.tenant_id),
        )
        .expect("valid")
        .with_page_size(50),
    )
    .expect("a client");
    let query = vec![("orderBy".to_owned(), "occurredAt".to_owned())];
    let pages: Vec<_> = client.pages("audit/1/search", query).collect().await;
    let mut ids = Vec::new();
    for page in pages {
        let page = page.unwrap_or_else(|e| panic!("a page failed: {e}"));
        for item in page.values() {
            ids.push(item["id"].as_str().expect("an id").to_owned());
        }
    }
    sandbox.shutdown().await;
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_envelope_variant_yields_every_event_once_in_order() {
    let expected: Vec<String> = (0..EVENTS).map(demo::audit_event_id).collect();
    let mut variants = Vec::new();
    for page_base in [PageBase::One, PageBase::Zero] {
        for links in [
            Links::Absolute,
            Links::Relative,
            Links::RootRelative,
            Links::None,
        ] {
            for totals in [Totals::Both, Totals::Pages, Totals::Items, Totals::None] {
                variants.push(Envelope {
                    page_base,
                    links,
                    totals,
                    ..Envelope::default()
                });
            }
        }
    }
    // Other key names, and a server that caps pages below the size asked.
    variants.push(Envelope {
        meta_key: "meta".to_owned(),
        links_key: "links".to_owned(),
        total_pages_key: "pages".to_owned(),
        total_items_key: "totalCount".to_owned(),
        links: Links::None,
        ..Envelope::default()
    });
    variants.push(Envelope {
        total_items_key: "total".to_owned(),
        totals: Totals::Items,
        links: Links::None,
        max_page_size: 20,
        ..Envelope::default()
    });
    variants.push(Envelope {
        totals: Totals::None,
        links: Links::None,
        max_page_size: 20,
        page_base: PageBase::Zero,
        ..Envelope::default()
    });
    for envelope in variants {
        let label = format!("{envelope:?}");
        let ids = read_all(envelope).await;
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "duplicates with {label}");
        assert_eq!(ids, expected, "with {label}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_of_the_boomi_flow_api_is_its_own_rate_limit_not_the_platforms() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts");
    // More 429s than the client makes attempts.
    sandbox
        .control()
        .rate_limit_next("GET", "/api/audit/1/search", Some(7), 100);
    let flow = &sandbox.config().boomi_flow;
    let client = BoomiFlowClient::new(
        BoomiFlowConfig::new(
            &sandbox.boomi_flow_base_url(),
            &flow.api_key,
            Some(&flow.tenant_id),
        )
        .expect("valid")
        .with_retry(crate::support::fast_policy()),
    )
    .expect("a client");
    let results: Vec<_> = client.pages("audit/1/search", Vec::new()).collect().await;
    assert_eq!(results.len(), 1, "the walk ends at its first error");
    let e = results
        .into_iter()
        .next()
        .expect("one result")
        .expect_err("rate limited");
    match &e {
        BoomiFlowError::RateLimited {
            path, retry_after, ..
        } => {
            assert!(path.starts_with("audit/1/search"), "{path}");
            assert_eq!(*retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("expected the Boomi Flow rate limit, got {other:?}"),
    }
    assert!(e.is_transient());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    let text = e.to_string();
    assert!(
        text.contains("Boomi Flow API") && text.contains("429"),
        "{text}"
    );
    assert!(!text.contains(&flow.api_key), "{text}");
    let attempts = sandbox
        .control()
        .request_count("GET", "/api/audit/1/search");
    assert_eq!(attempts, 4, "max_retries + 1 attempts");
    sandbox.shutdown().await;
}
