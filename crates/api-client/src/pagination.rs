//! Page sweeping: fetches page after page by incrementing `page` (never by following
//! `next_page`, which may drop `items_per_page`) and stops robustly on every end-of-list signal
//! the upstream is known to give.

use std::future::Future;

use bdi_domain::Result;
use bdi_domain::models::{Page, PageQuery};

/// The most pages one sweep fetches, whatever the caller asks.
pub const MAX_PAGES: u32 = 100;

/// Fetches pages `1, 2, ...` of size `items_per_page` with `fetch` and returns all their items.
///
/// Stops after a page whose `next_page` is null, `""` or `0`, a page with no items, once the
/// count reaches `total_items` (when the server gives one), or after `max_pages` pages (at most
/// [`MAX_PAGES`]). An error on any page ends the sweep with that error.
pub async fn sweep<T, F, Fut>(items_per_page: u32, max_pages: u32, mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(PageQuery) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let size = items_per_page.max(1);
    let cap = max_pages.clamp(1, MAX_PAGES);
    let mut all = Vec::new();
    for page in 1..=cap {
        let got = fetch(PageQuery::new(page, size)).await?;
        let n = got.items.len();
        let total = got.total_items;
        let more = got.next_page.is_some();
        all.extend(got.items);
        if n == 0 || !more || (total > 0 && all.len() as u64 >= total) {
            break;
        }
        if page == cap {
            tracing::warn!(pages = cap, "page cap reached; the list may be incomplete");
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests;
