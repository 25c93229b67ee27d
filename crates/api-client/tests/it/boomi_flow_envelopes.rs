//! `BoomiFlowClient::pages` against the sandbox's Boomi Flow emulator in every envelope variant the contract
//! leaves open (section 2): page base 0 or 1, next links absolute, relative, root-relative or
//! none, totals as pages, items, both or none, other key names, and a server cap below the page
//! size asked. Every variant must yield every audit event once, in order.
//!
//! Section numbers are those of the Boomi Flow contract, `docs/boomi-flow-api.md`.

use std::collections::HashSet;

use bdi_api_client::{BoomiFlowClient, BoomiFlowConfig};
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
