//! The Boomi Flow source against the sandbox's emulator over loopback HTTP: every resource reads
//! what the emulator holds, ids come from the parent listing, secrets never reach a row, and an
//! incremental start is inclusive.

use bdi_api_client::{BoomiFlowClient, BoomiFlowConfig};
use bdi_load::boomi_flow::{BoomiFlowSource, RESOURCES, resource};
use bdi_load::normalize::{Batch, Normalizer};
use bdi_load::schema::{Cell, Schema};
use bdi_load::{Page, Source};
use bdi_sandbox::boomi_flow::demo;
use bdi_sandbox::{Sandbox, SandboxConfig};
use futures::StreamExt;
use serde_json::Value;

/// The Boomi Flow source on `sandbox`'s emulator, 50 items a page.
pub(crate) fn source(sandbox: &Sandbox) -> BoomiFlowSource {
    let flow = &sandbox.config().boomi_flow;
    let config = BoomiFlowConfig::new(
        &sandbox.boomi_flow_base_url(),
        &flow.api_key,
        Some(&flow.tenant_id),
    )
    .unwrap()
    .with_page_size(50);
    BoomiFlowSource::new(BoomiFlowClient::new(config).unwrap())
}

async fn read(source: &BoomiFlowSource, name: &str, start: Option<String>) -> Vec<Value> {
    let r = resource(name).unwrap();
    let pages: Vec<Page> = source
        .pages(&r, start)
        .map(|p| p.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
        .await;
    pages
        .into_iter()
        .flat_map(|p| p.items)
        .map(|i| serde_json::from_str(i.get()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_reads_what_the_emulator_holds_and_no_secret_reaches_a_row() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let source = source(&sandbox);
    let expected = [
        ("flows", demo::DEFAULT_FLOWS),
        ("flow", demo::DEFAULT_FLOWS),
        ("flow_active", demo::DEFAULT_ACTIVE_FLOWS),
        ("graph_flow", demo::DEFAULT_FLOWS),
        ("runtimes", demo::DEFAULT_RUNTIMES),
        ("users", demo::DEFAULT_USERS),
        ("api_keys", demo::DEFAULT_API_KEYS),
        ("states", demo::DEFAULT_STATES),
        ("audit_search", demo::DEFAULT_AUDIT_EVENTS as usize),
        ("translations", demo::DEFAULT_TRANSLATIONS),
    ];
    assert_eq!(expected.len(), RESOURCES.len());
    for (name, count) in expected {
        let items = read(&source, name, None).await;
        assert_eq!(items.len(), count, "{name}");
        // The rows the normalizer makes of them, with the source's scrub.
        let raw: Vec<_> = items
            .iter()
            .map(|i| serde_json::value::to_raw_value(i).unwrap())
            .collect();
        let mut schema = Schema::default();
        let mut batch = Batch::default();
        Normalizer::with_scrub("1", source.scrub())
            .normalize_raw(&mut schema, name, &raw, None, &mut batch)
            .unwrap();
        assert_eq!(batch.rows_of(name), count, "{name}: a row per item");
        for table in schema.tables.values() {
            for column in table.columns.keys() {
                for secret in ["authorization_header", "api_key"] {
                    assert!(!column.contains(secret), "{name}: column {column}");
                }
            }
        }
        for rows in batch.tables.values() {
            for cell in (0..rows.len()).flat_map(|r| rows.row(r)) {
                if let Cell::Text(text) = &cell {
                    assert!(
                        !text.contains(demo::BOOMI_FLOW_API_KEY),
                        "{name} holds the key"
                    );
                    assert!(!text.contains(demo::SECOND_API_KEY), "{name} holds a key");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_start_is_inclusive() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let source = source(&sandbox);
    let start = demo::audit_occurred_at(150);
    let items = read(&source, "audit_search", Some(start.clone())).await;
    assert_eq!(items.len(), 50, "events 150 to 199");
    assert_eq!(items[0]["occurredAt"].as_str(), Some(start.as_str()));
    assert_eq!(
        items[0]["id"].as_str(),
        Some(demo::audit_event_id(150).as_str())
    );
}

/// A server whose totals are short of the truth (the emulator announces 60 items fewer than it
/// holds, more than a page of 50): the walk goes on past the total until a short page, every item is loaded, and the
/// load's report warns that the total and the items disagree (before, the walk stopped at the
/// total and the rest was lost, exit 0).
#[cfg(feature = "duckdb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_total_short_of_the_truth_loses_nothing_and_is_a_warning() {
    use bdi_load::destination::duckdb::DuckDb;
    use bdi_load::{LoadOptions, load};
    use bdi_sandbox::boomi_flow::{BoomiFlowConfig as Emulated, Envelope};

    let sandbox = Sandbox::start(SandboxConfig {
        boomi_flow: Emulated {
            envelope: Envelope {
                total_offset: -60,
                ..Envelope::default()
            },
            ..Emulated::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lying.duckdb");
    let report = load(
        std::sync::Arc::new(source(&sandbox)),
        Box::new(DuckDb::open(&path).unwrap()),
        LoadOptions {
            pipeline: "flow".into(),
            dataset: "d".into(),
            resources: ["audit_search", "flows"]
                .iter()
                .map(|r| resource(r).unwrap())
                .collect(),
            full_refresh: false,
        },
        None,
    )
    .await
    .unwrap();
    let audit = &report.resources[0];
    assert_eq!(audit.rows, demo::DEFAULT_AUDIT_EVENTS, "{report:?}");
    assert!(
        audit.warnings.iter().any(|w| w.contains(&format!(
            "announced {} items in total and returned {}",
            demo::DEFAULT_AUDIT_EVENTS - 60,
            demo::DEFAULT_AUDIT_EVENTS
        ))),
        "{report:?}"
    );
    let flows = &report.resources[1];
    assert_eq!(flows.rows, demo::DEFAULT_FLOWS as u64, "{report:?}");
}
