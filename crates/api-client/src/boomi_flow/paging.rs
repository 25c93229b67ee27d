//! The Boomi Flow API's listings, walked page by page (`docs/boomi-flow-api.md` section 2, "Paged envelopes").
//!
//! A body is one of three shapes: a bare JSON array (one whole page), a paged envelope
//! `{"_meta": {...}, "_links": {...}, "items": [...]}` (an object with `items`, `_meta` or
//! `_links`; keys looked up case-insensitively, `meta` and `links` accepted inside one), or any
//! other object (a page of one item). An envelope is followed by these rules, in order:
//!
//! 1. **Base.** Page 1 is asked first, with an explicit `pageSize`. Whether pages count from 0 or
//!    from 1 is learned once per path and remembered by the client: if page 1 is empty while page
//!    0 is not, the base is 0. Page 0 is also asked when page 1 does hold items, because a
//!    0-based listing longer than one page answers page 1 with its *second* page: page 0 is then
//!    taken as the first page if it holds items and not page 1's first item (a 1-based server
//!    that serves page 0 as page 1, or as the whole listing, is recognised that way). A page 0
//!    refused means base 1 (remembered after a 4xx, not after a 5xx). The probe is skipped when page 1 alone proves base 1 (it
//!    holds the total item count, or the total page count is 1). Page 0's items come first, page
//!    1's next, each once.
//! 2. **Links.** If `_links` has a `next` (a string, or an object with `href`), it is followed: an
//!    absolute URL, a path from the host root that starts with the base URL's path, or a path
//!    relative to the base URL. A link to another origin (scheme, host, port) is refused with an
//!    error, since the key would go with it, and so is a link already followed (a loop). Once a
//!    listing has given next links, the first page without one is its last.
//! 3. **Totals.** Else, if `_meta` has a total page count (`totalPages`, `pages`) or a total item
//!    count (`total`, `totalCount`, `totalItems`), the last page is derived from it: from the
//!    page count directly, or from the item count and the largest page the server actually
//!    returned (servers cap `pageSize`). The remaining pages are fetched `concurrency` at a time
//!    and yielded in order. An empty page ends the listing; if the item total is still not reached
//!    after the last derived page, the walk goes on page by page until it is, or a page is empty.
//!    A total is not trusted to end the walk: once it is reached, a full page is followed by one
//!    more request, so a total short of the truth loses nothing; and when the items returned
//!    differ from the total announced, the walk's last page (empty if need be) carries a note
//!    that says so ([`BoomiFlowPage::notes`]).
//! 4. **Neither.** Else pages are read one after the other until a page is empty or holds fewer
//!    items than the largest page seen so far. Not "fewer than asked": a server that caps
//!    `pageSize` returns full pages smaller than asked although more follow.
//!
//! A listing longer than `max_pages` requests is an error, never an endless loop.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::task::JoinHandle;
use url::Url;

use super::{BoomiFlowClient, BoomiFlowError, BoomiFlowPage, Result};

/// What a body's shape says about the listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A bare JSON array: the whole listing.
    Bare,
    /// An object that is not an envelope: a listing of one.
    Single,
    /// A paged envelope.
    Envelope,
}

/// The totals an envelope's `_meta` announces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// The number of pages.
    pub(crate) pages: Option<u64>,
    /// The number of items.
    pub(crate) items: Option<u64>,
}

/// A body read as a page of a listing.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) shape: Shape,
    pub(crate) items: Vec<Box<RawValue>>,
    /// `_links.next`, when present and not empty.
    pub(crate) next: Option<String>,
    pub(crate) totals: Totals,
}

/// The value of the first key of `map` equal to one of `names`, ignoring ASCII case (an exact
/// match wins).
fn get_ci<'m>(map: &'m Map<String, Value>, names: &[&str]) -> Option<&'m Value> {
    names.iter().find_map(|n| map.get(*n)).or_else(|| {
        map.iter()
            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .map(|(_, v)| v)
    })
}

/// A count: a non-negative integer, as a number or a string.
fn count_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The totals in an envelope's `_meta` (or `meta`).
pub(crate) fn totals_of(envelope: &Map<String, Value>) -> Totals {
    let Some(Value::Object(meta)) = get_ci(envelope, &["_meta", "meta"]) else {
        return Totals::default();
    };
    Totals {
        pages: get_ci(meta, &["totalPages", "pages"]).and_then(count_of),
        items: get_ci(meta, &["total", "totalCount", "totalItems"]).and_then(count_of),
    }
}

/// The `next` link of an envelope's `_links` (or `links`): a string or an object with `href`
/// under the key `next`, or an item `{"rel": "next", "href": ...}` of a list.
pub(crate) fn next_of(envelope: &Map<String, Value>) -> Option<String> {
    let href = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Object(o) => get_ci(o, &["href"])
            .and_then(Value::as_str)
            .map(|s| s.trim().to_owned()),
        _ => None,
    };
    let link = match get_ci(envelope, &["_links", "links"])? {
        Value::Object(links) => href(get_ci(links, &["next"])?),
        Value::Array(links) => links.iter().find_map(|l| {
            let o = l.as_object()?;
            let rel = get_ci(o, &["rel"])?.as_str()?;
            rel.eq_ignore_ascii_case("next").then(|| href(l)).flatten()
        }),
        _ => None,
    }?;
    (!link.is_empty()).then_some(link)
}

/// A JSON object's entries in the body's order, each value left unparsed.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    entries.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// What a JSON text is, from its first byte.
fn raw_kind(raw: &str) -> &'static str {
    match raw.trim_start().as_bytes().first() {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'"') => "a string",
        Some(b'[') => "a list",
        Some(b'{') => "an object",
        _ => "a number",
    }
}

/// Why a body is not a page.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// It is not JSON (the parser's error).
    NotJson(serde_json::Error),
    /// It is JSON of the wrong shape.
    Shape(String),
}

/// Reads a body as a page. `null` (or nothing) is an empty listing; a scalar is an error (its
/// message). The items are kept as JSON text: a reader parses each one as it needs, and the page
/// costs one allocation per item instead of a tree of them.
pub(crate) fn read_body(body: &[u8]) -> std::result::Result<Parsed, BodyError> {
    let not_json = BodyError::NotJson;
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let bare = |shape, items| Parsed {
        shape,
        items,
        next: None,
        totals: Totals::default(),
    };
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| body[i]) {
        None => Ok(bare(Shape::Bare, Vec::new())),
        Some(b'[') => serde_json::from_slice::<Vec<Box<RawValue>>>(body)
            .map(|items| bare(Shape::Bare, items))
            .map_err(not_json),
        Some(b'{') => {
            let Entries(entries) = serde_json::from_slice(body).map_err(not_json)?;
            let is = |k: &str, names: &[&str]| names.iter().any(|n| k.eq_ignore_ascii_case(n));
            let items_at = entries.iter().position(|(k, _)| is(k, &["items"]));
            // `meta` and `links` alone may be fields of a single object; `_meta` and `_links`
            // are the envelope's own.
            let is_envelope =
                items_at.is_some() || entries.iter().any(|(k, _)| is(k, &["_meta", "_links"]));
            if !is_envelope {
                let text = std::str::from_utf8(body).map_err(|e| {
                    BodyError::NotJson(<serde_json::Error as serde::de::Error>::custom(e))
                })?;
                let item = RawValue::from_string(text.trim().to_owned()).map_err(not_json)?;
                return Ok(bare(Shape::Single, vec![item]));
            }
            let items = match items_at.map(|i| entries[i].1) {
                None => Vec::new(),
                Some(raw) => match raw_kind(raw.get()) {
                    "null" => Vec::new(),
                    "a list" => serde_json::from_str(raw.get()).map_err(not_json)?,
                    other => {
                        return Err(BodyError::Shape(format!(
                            "the envelope's `items` is {other}, not a list"
                        )));
                    }
                },
            };
            // The envelope's other keys are small: read them as values.
            let mut rest = Map::new();
            for (i, (key, raw)) in entries.into_iter().enumerate() {
                if Some(i) != items_at && !rest.contains_key(&key) {
                    let value: Value = serde_json::from_str(raw.get()).map_err(not_json)?;
                    rest.insert(key, value);
                }
            }
            Ok(Parsed {
                shape: Shape::Envelope,
                items,
                next: next_of(&rest),
                totals: totals_of(&rest),
            })
        }
        Some(b'n') => {
            let _: () = serde_json::from_slice(body).map_err(not_json)?;
            Ok(bare(Shape::Bare, Vec::new()))
        }
        Some(_) => {
            let value: Value = serde_json::from_slice(body).map_err(not_json)?;
            Err(BodyError::Shape(format!(
                "expected a JSON array or object, got {}",
                kind(&value)
            )))
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `scheme://host:port` of a URL, for messages.
fn origin(u: &Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
        (Some(h), None) => format!("{}://{h}", u.scheme()),
        _ => u.scheme().to_owned(),
    }
}

/// Resolves a `next` link against the base URL (and `current`, the page that gave it, for a
/// query-only link), refusing any other origin.
pub(crate) fn resolve_next(
    base: &Url,
    current: &Url,
    link: &str,
) -> std::result::Result<Url, String> {
    let link = link.trim();
    let base_str = base.as_str().trim_end_matches('/');
    let resolved = match Url::parse(link) {
        Ok(url) => Ok(url),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            if link.starts_with("//") {
                base.join(link)
            } else if link.starts_with('?') {
                current.join(link)
            } else if let Some(rest) = link.strip_prefix('/') {
                let base_path = base.path().trim_end_matches('/');
                let under_base = !base_path.is_empty()
                    && link.strip_prefix(base_path).is_some_and(|tail| {
                        tail.is_empty() || tail.starts_with('/') || tail.starts_with('?')
                    });
                if under_base {
                    base.join(link)
                } else {
                    Url::parse(&format!("{base_str}/{rest}"))
                }
            } else {
                Url::parse(&format!("{base_str}/{link}"))
            }
        }
        Err(e) => Err(e),
    };
    let url = resolved.map_err(|e| format!("the next link `{link}` is not a URL: {e}"))?;
    let same_origin = url.scheme() == base.scheme()
        && url.host() == base.host()
        && url.port_or_known_default() == base.port_or_known_default();
    if !same_origin {
        return Err(format!(
            "the next link `{link}` leads to {}, not to the API at {}: refusing to send the API key there",
            origin(&url),
            origin(base)
        ));
    }
    Ok(url)
}

/// Whether page 0 is a page of its own (the listing is 0-based) rather than page 1 served again
/// or the whole listing: it holds items and not the first item of page 1.
pub(crate) fn is_base_zero(page0: &[Box<RawValue>], page1: &[Box<RawValue>]) -> bool {
    !page0.is_empty()
        && page1
            .first()
            .is_none_or(|first| !page0.iter().any(|i| i.get() == first.get()))
}

/// Whether page 1 alone proves the listing 1-based: it holds the whole item total, or the total
/// is one page.
pub(crate) fn proves_base_one(page1: &[Box<RawValue>], totals: Totals) -> bool {
    !page1.is_empty()
        && (totals.items.is_some_and(|t| page1.len() as u64 >= t)
            || totals.pages.is_some_and(|p| p <= 1))
}

/// What the walk has seen so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// The listing's first page number (0 or 1).
    pub(crate) base: u32,
    /// Items seen, on every page so far.
    pub(crate) count: u64,
    /// The most items one page held.
    pub(crate) largest: usize,
    /// Whether a next link was followed.
    pub(crate) followed_links: bool,
    /// The `pageSize` asked for.
    pub(crate) asked: usize,
    /// Pages seen so far.
    pub(crate) pages: u32,
}

impl Progress {
    fn saw(&mut self, items: usize) {
        self.count += items as u64;
        self.largest = self.largest.max(items);
        self.pages += 1;
    }

    /// Whether a page of `len` items (the last one seen) is full, so that more may follow it: it
    /// holds as many as asked, or, past the first page, as many as the largest page (a server
    /// that caps `pageSize` below what was asked).
    fn full(&self, len: usize) -> bool {
        len > 0 && (len >= self.asked || (self.pages > 1 && len >= self.largest))
    }
}

/// What to fetch after a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Follow this `next` link (still unresolved).
    Link(String),
    /// Fetch pages `first..=last`, concurrently, in order.
    Range { first: u32, last: u32 },
    /// Fetch this page, then decide again.
    Page(u32),
    /// The listing is complete.
    End,
}

/// Decides what follows page number `page` (holding `len` items, with `next` and `totals`), once
/// `progress` counts that page too. The rules are in the module's documentation.
pub(crate) fn next_step(
    page: u32,
    len: usize,
    next: Option<&str>,
    totals: Totals,
    progress: &Progress,
) -> Step {
    if let Some(link) = next {
        return Step::Link(link.to_owned());
    }
    if progress.followed_links || len == 0 {
        return Step::End;
    }
    if totals.items.is_some_and(|t| progress.count >= t) {
        // The announced total is reached. A full page may still have more behind it (a total
        // that is short of the truth): the walk goes on until a short or empty page.
        return if progress.full(len) {
            Step::Page(page.saturating_add(1))
        } else {
            Step::End
        };
    }
    let to_u32 = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let last = match (totals.pages, totals.items) {
        (Some(pages), _) => Some(to_u32(u64::from(progress.base) + pages.max(1) - 1)),
        (None, Some(items)) => {
            let remaining = items - progress.count;
            let size = progress.largest.max(1) as u64;
            Some(to_u32(u64::from(page) + remaining.div_ceil(size)))
        }
        (None, None) => None,
    };
    match last {
        Some(last) if last > page => Step::Range {
            first: page.saturating_add(1),
            last,
        },
        // The page count is reached but the item total is not: go on until it is; and a full
        // last page may have more behind it (a page count short of the truth).
        Some(_) if totals.items.is_some() || progress.full(len) => {
            Step::Page(page.saturating_add(1))
        }
        Some(_) => Step::End,
        None if len < progress.largest => Step::End,
        None => Step::Page(page.saturating_add(1)),
    }
}

/// A page fetched and read.
struct Fetched {
    url: Url,
    parsed: Parsed,
}

/// A page being fetched by a task of its own, so that it downloads and parses while the caller
/// works on the previous page. Dropping it aborts the task.
struct Task(JoinHandle<Result<Fetched>>);

impl Task {
    fn spawn(client: &BoomiFlowClient, url: Url) -> Self {
        let client = client.clone();
        Self(tokio::spawn(async move { fetch_page(&client, url).await }))
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Future for Task {
    type Output = Result<Fetched>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| match joined {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(BoomiFlowError::Transport {
                message: format!("a page fetch was cancelled: {e}"),
                source: None,
            }),
        })
    }
}

/// Where the walk stands.
enum State {
    /// Nothing fetched yet.
    Start,
    /// Following a next link.
    Link(Task),
    /// Fetching this page number.
    Page(u32, Task),
    /// Pages being fetched concurrently; `last` is the last page read from them.
    Range {
        pages: BoxStream<'static, Result<(u32, Fetched)>>,
        last: Option<(u32, usize, Option<String>, Totals)>,
        previous: Url,
    },
    /// The walk cannot go on: this error comes once the pages read so far are yielded.
    Failed(BoomiFlowError),
    /// Done.
    End,
}

/// The walk over one listing.
struct Walker {
    client: BoomiFlowClient,
    /// The listing's key in the client's page-base memory: its path.
    key: String,
    /// The listing's URL with the caller's query, without `page` and `pageSize`.
    template: Url,
    /// The `pageSize` asked for.
    asked: u32,
    /// Pages read, waiting to be yielded.
    ready: VecDeque<Fetched>,
    state: State,
    /// An error to report before anything else (a path that makes no URL).
    failed: Option<BoomiFlowError>,
    progress: Progress,
    /// Pages yielded so far.
    yielded: u32,
    /// Requests made so far (pages and the base probe).
    requests: u32,
    /// URLs fetched, to catch a next link that loops.
    seen: HashSet<String>,
    /// The largest item total a page announced.
    announced: Option<u64>,
}

/// The stream behind [`BoomiFlowClient::pages`].
pub(crate) fn walk(
    client: &BoomiFlowClient,
    path: &str,
    query: Vec<(String, String)>,
) -> impl Stream<Item = Result<BoomiFlowPage>> + Send + 'static {
    let path = path.trim().trim_start_matches('/');
    let key = path
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_owned();
    let mut asked = client.config().page_size;
    let mut kept = Vec::with_capacity(query.len());
    for (k, v) in query {
        if k == "pageSize" {
            if let Some(n) = v.trim().parse::<u32>().ok().filter(|n| *n > 0) {
                asked = n;
            }
        } else if k != "page" {
            kept.push((k, v));
        }
    }
    let (template, failed) = match client.url_for(path, &kept) {
        Ok(url) => (url, None),
        Err(e) => (client.base().clone(), Some(e)),
    };
    let walker = Walker {
        client: client.clone(),
        key,
        template,
        asked,
        ready: VecDeque::new(),
        state: State::Start,
        failed,
        progress: Progress {
            asked: asked as usize,
            ..Progress::default()
        },
        yielded: 0,
        requests: 0,
        seen: HashSet::new(),
        announced: None,
    };
    futures::stream::unfold(walker, |mut w| async move {
        let page = w.next_page().await?;
        Some((page, w))
    })
}

impl Walker {
    /// The next page to yield, `None` at the end (and after an error).
    async fn next_page(&mut self) -> Option<Result<BoomiFlowPage>> {
        if let Some(e) = self.failed.take() {
            self.state = State::End;
            return Some(Err(e));
        }
        loop {
            if let Some(f) = self.ready.pop_front() {
                self.yielded += 1;
                return Some(Ok(BoomiFlowPage {
                    number: self.yielded,
                    items: f.parsed.items,
                    url: self.client.scrub(f.url.as_str()),
                    notes: Vec::new(),
                }));
            }
            match self.advance().await {
                Ok(true) => {}
                Ok(false) => return self.last_note(),
                Err(e) => {
                    self.state = State::End;
                    self.ready.clear();
                    return Some(Err(e));
                }
            }
        }
    }

    /// Once the walk is complete: an empty last page whose note says that the items returned
    /// differ from the total the server announced, when they do (once).
    fn last_note(&mut self) -> Option<Result<BoomiFlowPage>> {
        let announced = self.announced.take()?;
        let count = self.progress.count;
        if announced == count {
            return None;
        }
        self.yielded += 1;
        Some(Ok(BoomiFlowPage {
            number: self.yielded,
            items: Vec::new(),
            url: self.client.scrub(self.template.as_str()),
            notes: vec![format!(
                "the listing `{}` announced {announced} items in total and returned {count}: all {count} were read (the walk goes on until a short or empty page, whatever the total says)",
                self.key
            )],
        }))
    }

    /// The URL of page `n`.
    fn page_url(&self, n: u32) -> Url {
        page_url(&self.template, n, self.asked)
    }

    /// Queues a page that holds items (an empty one has nothing to yield).
    fn queue(&mut self, f: Fetched) {
        self.progress.saw(f.parsed.items.len());
        if let Some(items) = f.parsed.totals.items {
            self.announced = Some(self.announced.map_or(items, |a| a.max(items)));
        }
        if !f.parsed.items.is_empty() {
            self.ready.push_back(f);
        }
    }

    /// Fetches `url` as a page, counting the request against the cap.
    async fn fetch(&mut self, url: Url) -> Result<Fetched> {
        self.count_requests(1)?;
        self.seen.insert(url.as_str().to_owned());
        fetch_page(&self.client, url).await
    }

    /// Starts fetching `url` as a page in a task, counting the request against the cap.
    fn spawn(&mut self, url: Url) -> Result<Task> {
        self.count_requests(1)?;
        self.seen.insert(url.as_str().to_owned());
        Ok(Task::spawn(&self.client, url))
    }

    fn count_requests(&mut self, n: u32) -> Result<()> {
        let cap = self.client.config().max_pages;
        if self.requests.saturating_add(n) > cap {
            return Err(BoomiFlowError::TooManyPages {
                listing: self.key.clone(),
                max_pages: cap,
            });
        }
        self.requests += n;
        Ok(())
    }

    /// Moves the walk one step: `Ok(false)` once the listing is complete.
    async fn advance(&mut self) -> Result<bool> {
        match std::mem::replace(&mut self.state, State::End) {
            State::End => Ok(false),
            State::Failed(e) => Err(e),
            State::Start => self.start().await.map(|()| true),
            State::Link(task) => {
                let f = task.await?;
                let (len, next, totals) =
                    (f.parsed.items.len(), f.parsed.next.clone(), f.parsed.totals);
                let current = f.url.clone();
                let envelope = f.parsed.shape == Shape::Envelope;
                self.queue(f);
                if envelope {
                    // The page number is unknown here; after links, only links matter.
                    self.decide(0, len, next.as_deref(), totals, &current);
                }
                Ok(true)
            }
            State::Page(n, task) => {
                let f = task.await?;
                self.after(n, f);
                Ok(true)
            }
            State::Range {
                mut pages,
                last,
                previous,
            } => match pages.next().await {
                Some(Ok((n, f))) => {
                    let (len, next, totals) =
                        (f.parsed.items.len(), f.parsed.next.clone(), f.parsed.totals);
                    let url = f.url.clone();
                    self.queue(f);
                    if len > 0 {
                        self.state = State::Range {
                            pages,
                            last: Some((n, len, next, totals)),
                            previous: url,
                        };
                    }
                    // An empty page ends the listing; dropping the stream cancels the rest.
                    Ok(true)
                }
                Some(Err(e)) => Err(e),
                None => {
                    if let Some((n, len, next, totals)) = last {
                        self.decide(n, len, next.as_deref(), totals, &previous);
                    }
                    Ok(true)
                }
            },
        }
    }

    /// Page 1 (or page 0 when the listing is known to be 0-based), and the base probe.
    async fn start(&mut self) -> Result<()> {
        let known = self.client.page_base(&self.key);
        let first = known.unwrap_or(1);
        let head = self.fetch(self.page_url(first)).await?;
        if head.parsed.shape != Shape::Envelope {
            self.queue(head);
            return Ok(());
        }
        let mut base = first;
        if known.is_none() {
            if proves_base_one(&head.parsed.items, head.parsed.totals) {
                self.client.remember_page_base(&self.key, 1);
            } else if let Some(zero) = self.probe_page_zero(&head.parsed.items).await? {
                base = 0;
                self.queue(zero);
            }
        }
        self.progress.base = base;
        self.after(first, head);
        Ok(())
    }

    /// Asks page 0 once for a listing of unknown base; returns it when the listing is 0-based, and
    /// remembers the base either way (unless the answer was a transient failure).
    async fn probe_page_zero(&mut self, page1: &[Box<RawValue>]) -> Result<Option<Fetched>> {
        let url = self.page_url(0);
        match self.fetch(url).await {
            Ok(zero) => {
                let is_zero =
                    zero.parsed.shape == Shape::Envelope && is_base_zero(&zero.parsed.items, page1);
                self.client
                    .remember_page_base(&self.key, if is_zero { 0 } else { 1 });
                tracing::debug!(listing = %self.key, base = if is_zero { 0 } else { 1 }, "page base detected");
                Ok(is_zero.then_some(zero))
            }
            Err(
                e @ (BoomiFlowError::Transport { .. }
                | BoomiFlowError::RateLimited { .. }
                | BoomiFlowError::Unauthorized { .. }
                | BoomiFlowError::Forbidden { .. }),
            ) => Err(e),
            Err(e) => {
                // A refused page 0: the listing counts from 1.
                let transient = e.is_transient();
                tracing::debug!(listing = %self.key, error = %e, "page 0 refused: base 1");
                if !transient {
                    self.client.remember_page_base(&self.key, 1);
                }
                Ok(None)
            }
        }
    }

    /// Queues page `n` and decides what follows it.
    fn after(&mut self, n: u32, f: Fetched) {
        let (len, next, totals) = (f.parsed.items.len(), f.parsed.next.clone(), f.parsed.totals);
        let url = f.url.clone();
        let envelope = f.parsed.shape == Shape::Envelope;
        self.queue(f);
        if envelope {
            self.decide(n, len, next.as_deref(), totals, &url);
        }
    }

    /// Sets the state from [`next_step`]; a step that cannot be taken becomes
    /// [`State::Failed`], so the pages already read are yielded before the error.
    fn decide(&mut self, n: u32, len: usize, next: Option<&str>, totals: Totals, current: &Url) {
        self.state = match self.step(n, len, next, totals, current) {
            Ok(state) => state,
            Err(e) => State::Failed(e),
        };
    }

    fn step(
        &mut self,
        n: u32,
        len: usize,
        next: Option<&str>,
        totals: Totals,
        current: &Url,
    ) -> Result<State> {
        Ok(match next_step(n, len, next, totals, &self.progress) {
            Step::End => State::End,
            Step::Page(n) => {
                let url = self.page_url(n);
                State::Page(n, self.spawn(url)?)
            }
            Step::Link(link) => {
                let bad = |message: String| BoomiFlowError::BadResponse {
                    at: "_links.next".to_owned(),
                    message: self.client.scrub(&message),
                    source: None,
                };
                let url = resolve_next(self.client.base(), current, &link).map_err(bad)?;
                if self.seen.contains(url.as_str()) {
                    return Err(bad(format!(
                        "the next link `{link}` leads back to a page already read: stopped to avoid a loop"
                    )));
                }
                self.progress.followed_links = true;
                State::Link(self.spawn(url)?)
            }
            Step::Range { first, last } => {
                self.count_requests(last - first + 1)?;
                let client = self.client.clone();
                let template = self.template.clone();
                let asked = self.asked;
                let concurrency = client.config().concurrency;
                // Each page is a task, started when `buffered` makes room for it, so at most
                // `concurrency` run at once and they go on while the caller works.
                let pages = futures::stream::iter(first..=last)
                    .map(move |n| {
                        let task = Task::spawn(&client, page_url(&template, n, asked));
                        async move { task.await.map(|f| (n, f)) }
                    })
                    .buffered(concurrency)
                    .boxed();
                State::Range {
                    pages,
                    last: None,
                    previous: current.clone(),
                }
            }
        })
    }
}

/// `template` with `page=n&pageSize=asked` appended.
fn page_url(template: &Url, n: u32, asked: u32) -> Url {
    let mut url = template.clone();
    url.query_pairs_mut()
        .append_pair("page", &n.to_string())
        .append_pair("pageSize", &asked.to_string());
    url
}

/// GETs `url` and reads its body as a page.
async fn fetch_page(client: &BoomiFlowClient, url: Url) -> Result<Fetched> {
    let body = client.fetch_bytes(&url).await?;
    let parsed = read_body(&body).map_err(|e| match e {
        BodyError::NotJson(source) => BoomiFlowError::BadResponse {
            at: ".".to_owned(),
            message: client.scrub(&format!(
                "the response to GET {} is not JSON: {source}",
                client.relative(&url)
            )),
            source: Some(source),
        },
        BodyError::Shape(message) => BoomiFlowError::BadResponse {
            at: ".".to_owned(),
            message: client.scrub(&format!("GET {}: {message}", client.relative(&url))),
            source: None,
        },
    })?;
    Ok(Fetched { url, parsed })
}
