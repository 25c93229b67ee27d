//! Page sweeps: every page of a listing, read by incrementing `page` (never by following
//! `next_page`, which may drop `items_per_page`), one request at a time, in order.
//!
//! A sweep ends on the first page that says it is the last ([`Page::has_next`]): a page with no
//! items, a `next_page` that is null, `""` or `0`, or a count that reaches the page's
//! `total_items` (when the server gives one). A listing that has not ended after the cap of
//! pages is an error ([`Error::PagingCap`]), never a silent truncation: part of a listing is
//! never returned as if it were all of it. An error on any page ends the sweep with that error.

use std::future::Future;

use crate::error::{Error, Result};
use crate::models::{Page, PageQuery};

/// The cap most sweeps use: pages read of one listing, at most.
pub const MAX_PAGES: u32 = 100;

/// Fetches pages `1, 2, ...` of size `items_per_page` (at least 1) with `fetch` and returns all
/// their items, in order.
///
/// # Errors
///
/// The first error of `fetch`; [`Error::PagingCap`] when page `max_pages` (at least 1) is read
/// and the listing still goes on.
pub async fn sweep<T, F, Fut>(items_per_page: u32, max_pages: u32, mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(PageQuery) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let size = items_per_page.max(1);
    let cap = max_pages.max(1);
    let mut all = Vec::new();
    for page in 1..=cap {
        let got = fetch(PageQuery::new(page, size)).await?;
        let more = got.has_next(size);
        all.extend(got.items);
        if !more {
            return Ok(all);
        }
    }
    Err(Error::PagingCap { pages: cap })
}

#[cfg(test)]
mod tests;
