//! The pagination envelope of every list, and page queries.

use super::*;

/// One page of a list endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items on this page (`data` is accepted too).
    #[serde(alias = "data")]
    pub items: Vec<T>,
    /// The page number (1-based).
    #[serde(default = "one")]
    pub page: u32,
    /// The number of items on this page.
    #[serde(default)]
    pub current_page_size: Option<u64>,
    /// The number of items across all pages.
    #[serde(default)]
    pub total_items: u64,
    /// The next page's URL, or null on the last page.
    #[serde(default, deserialize_with = "lenient_next")]
    pub next_page: Option<String>,
    /// The previous page's URL, or null on the first page.
    #[serde(default, deserialize_with = "lenient_next")]
    pub previous_page: Option<String>,
    /// Envelope fields this model does not name (`account_id`, `river_cross_id`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl<T> Page<T> {
    /// A page holding all of `items` (used to report a whole sweep as one page).
    pub fn single(items: Vec<T>) -> Self {
        let n = items.len() as u64;
        Self {
            items,
            page: 1,
            current_page_size: Some(n),
            total_items: n,
            next_page: None,
            previous_page: None,
            extra: Extra::new(),
        }
    }

    /// Whether another page follows, judged robustly: `next_page` set, items present, and the
    /// count so far below `total_items`.
    pub fn has_next(&self, items_per_page: u32) -> bool {
        if self.items.is_empty() || self.next_page.is_none() {
            return false;
        }
        let seen = u64::from(self.page.saturating_sub(1)) * u64::from(items_per_page)
            + self.items.len() as u64;
        self.total_items == 0 || seen < self.total_items
    }

    /// Maps the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            current_page_size: self.current_page_size,
            total_items: self.total_items,
            next_page: self.next_page,
            previous_page: self.previous_page,
            extra: self.extra,
        }
    }
}

/// Page number and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageQuery {
    /// 1-based page number.
    pub page: u32,
    /// Items per page; always sent explicitly (the defaults differ per endpoint).
    pub items_per_page: u32,
}

impl Default for PageQuery {
    fn default() -> Self {
        Self {
            page: 1,
            items_per_page: 100,
        }
    }
}

impl PageQuery {
    /// Page `page` of size `items_per_page`.
    pub fn new(page: u32, items_per_page: u32) -> Self {
        Self {
            page,
            items_per_page,
        }
    }
}

/// Sort direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Newest or largest first.
    #[default]
    Desc,
    /// Oldest or smallest first.
    Asc,
}

impl SortOrder {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desc => "desc",
            Self::Asc => "asc",
        }
    }
}
