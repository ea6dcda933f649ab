//! Paged operations as a stream of items, written once: which query parameters
//! page and where a page's items are is data in the spec (`x-sonoran-paging`),
//! turned into a generated `.items(page_size)` on each paged operation's builder
//! that takes the typed items out of the typed answer.
//! Pages are fetched lazily, one at a time, through the client (so through the
//! rate limiter and the retry policy).

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::Serialize;

use crate::Error;
pub(crate) use crate::spec::PageShape;

/// One page's items and total, taken from the typed answer by the generated
/// `.items(..)` (no trip through JSON).
pub(crate) struct Page<T> {
    /// The items, or `None` when the answer holds no list where the spec says.
    pub(crate) items: Option<Vec<T>>,
    /// The total count, when the answer gives one.
    pub(crate) total: Option<u64>,
}

/// One page's answer.
type PageFuture<'a, T> = Pin<Box<dyn Future<Output = Result<Page<T>, Error>> + Send + 'a>>;

/// Fetches the page at `offset` of `size` items.
type FetchPage<'a, T> = Box<dyn FnMut(u64, u64) -> PageFuture<'a, T> + Send + 'a>;

/// The error of a page whose answer cannot be read as items.
fn unreadable_page(message: String) -> Error {
    Error::InvalidResponse(Box::new(crate::error::InvalidResponse {
        status: None,
        request_id: None,
        decode: None,
        message,
        body: bytes::Bytes::new(),
        history: crate::error::CallHistory::default(),
    }))
}

/// The items of a paged operation, as a [`Stream`](futures_core::Stream):
/// pages are fetched lazily as items are read, and an error ends it after the
/// items already yielded. Build it with the paged operation's
/// `.items(page_size)` (`get_accounts`, `get_template_submissions`,
/// `get_roster_contents`), and read it with `futures::StreamExt::next`.
///
/// It starts at the offset set on the builder (`get_accounts().skip(200)`
/// starts at the 201st account) and yields at most the size set there
/// (`.take(50)`), or [`max_items`](Self::max_items). It ends when as many
/// items as the answer's total have been fetched, or at an empty page: never
/// at a page merely shorter than asked for, because a server may cap its
/// pages below what was asked (every item comes, however the server pages).
/// The page size asked for is at most the API's largest page (`max-size` in
/// the spec: 100 accounts, 50 submissions or roster rows).
///
/// A server that contradicts itself never truncates the stream silently nor
/// yields an item twice:
///
/// - an item already yielded (offset paging repeats items when data moves
///   underneath) is skipped, with a `tracing` warning naming the operation,
///   the offset and how many were skipped: items are told apart by the
///   member the spec names (an account's `accId`, a submission's `formId`);
///   roster rows have none, so two equal rows both come;
/// - a total smaller than what was already received, and an empty page
///   before the total, each log a `tracing` warning naming the operation and
///   the numbers; the first goes on to the next empty page (the total is not
///   believed), the second ends the stream there;
/// - the same page answered again for the next offset (a server that ignores
///   the offset) ends the stream with an error.
pub struct Items<'a, T> {
    fetch: FetchPage<'a, T>,
    operation: crate::Operation,
    page_size: u64,
    offset: u64,
    limit: Option<u64>,
    /// An error to yield first: the builder's offset or size could not be read.
    refused: Option<Error>,
    /// What tells two items apart (the spec's paging `identity`), if anything.
    identity: Option<fn(&T) -> Option<String>>,
    /// The identity of each item yielded, so that none is yielded twice.
    seen: std::collections::HashSet<String>,
    /// Once a total contradicted what was received, totals are not believed.
    total_contradicted: bool,
    /// The total the last page that had one gave (a list may come in a form
    /// with a total on one page and without on the next).
    total: Option<u64>,
    /// A hash of the previous page's items as JSON: a server that ignores the
    /// offset answers the same page again, which would loop forever.
    previous_page: Option<u64>,
    yielded: u64,
    buffered: VecDeque<T>,
    pending: Option<PageFuture<'a, T>>,
    finished: bool,
    item: PhantomData<fn() -> T>,
}

impl<'a, T: Serialize> Items<'a, T> {
    /// A stream that fetches pages of `page_size` items (1 to the API's
    /// largest page) with `fetch`.
    pub(crate) fn new(
        page_size: u64,
        operation: crate::Operation,
        fetch: impl FnMut(u64, u64) -> PageFuture<'a, T> + Send + 'a,
    ) -> Self {
        // The generated `.items(..)` exists only on operations the spec pages.
        let shape = operation.spec().paging.unwrap_or(PageShape {
            max_size: u64::MAX,
            identity: None,
        });
        Self {
            fetch: Box::new(fetch),
            operation,
            page_size: page_size.clamp(1, shape.max_size.max(1)),
            offset: 0,
            limit: None,
            refused: None,
            identity: None,
            seen: std::collections::HashSet::new(),
            total_contradicted: false,
            total: None,
            previous_page: None,
            yielded: 0,
            buffered: VecDeque::new(),
            pending: None,
            finished: false,
            item: PhantomData,
        }
    }

    /// Stops after `most` items, fetching no page beyond them (with a size set
    /// on the builder as well, the smaller wins).
    pub fn max_items(mut self, most: u64) -> Self {
        self.limit = Some(self.limit.map_or(most, |limit| limit.min(most)));
        self
    }

    /// Tells items apart by `identity` (an account's `accId`): an item whose
    /// identity was already yielded is skipped.
    pub(crate) fn identified_by(mut self, identity: fn(&T) -> Option<String>) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Streams the window the builder set: `(offset, size)`, each optional;
    /// a value the builder could not take is the stream's first error.
    pub(crate) fn within(mut self, window: Result<(Option<u64>, Option<u64>), String>) -> Self {
        match window {
            Ok((offset, size)) => {
                self.offset = offset.unwrap_or(0);
                if let Some(size) = size {
                    self = self.max_items(size);
                }
            }
            Err(message) => {
                self.refused = Some(Error::InvalidRequest { message });
            }
        }
        self
    }

    /// The page size asked for, after clamping to the API's largest page.
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// Takes a page's items (and whether it was the last) from its answer.
    fn read_page(&mut self, page: Page<T>) -> Result<(Vec<T>, bool), Error> {
        let operation = self.operation.as_str();
        let received = self
            .offset
            .saturating_add(page.items.as_ref().map_or(0, Vec::len) as u64);
        if let Some(total) = page.total.filter(|total| *total < received) {
            if !self.total_contradicted {
                tracing::warn!(
                    operation,
                    total,
                    received,
                    "a page's total is smaller than what was already received; the stream goes on to an empty page"
                );
            }
            self.total_contradicted = true;
        }
        let total = page
            .total
            .or(self.total)
            .filter(|_| !self.total_contradicted);
        self.total = total;
        let Some(items) = page.items else {
            // No list at all: the end, unless the total says more remain.
            if let Some(total) = total.filter(|total| self.offset < *total) {
                return Err(unreadable_page(format!(
                    "a page has no list of items although {} of {total} were fetched",
                    self.offset
                )));
            }
            return Ok((Vec::new(), true));
        };
        let fingerprint = (!items.is_empty()).then(|| fingerprint(&items)).flatten();
        if fingerprint.is_some() && fingerprint == self.previous_page {
            return Err(unreadable_page(format!(
                "the server answered the same page again for offset {} (it may ignore the offset); \
                 the stream stops rather than repeat items",
                self.offset
            )));
        }
        self.previous_page = fingerprint;
        let fetched = self.offset.saturating_add(items.len() as u64);
        if items.is_empty()
            && let Some(total) = total.filter(|total| self.offset < *total)
        {
            tracing::warn!(
                operation,
                offset = self.offset,
                total,
                "an empty page before the total; the stream ends here"
            );
        }
        // A short page is not the last: a server may cap pages below what was
        // asked. Only the total, or an empty page, says the list is over.
        let last = items.is_empty() || total.is_some_and(|total| fetched >= total);
        Ok((items, last))
    }

    /// `items` without those already yielded (by their identity; items
    /// without one cannot be told apart and all come).
    fn unseen(&mut self, items: Vec<T>) -> Vec<T> {
        let Some(identity) = self.identity else {
            return items;
        };
        let before = items.len();
        let unseen: Vec<T> = items
            .into_iter()
            .filter(|item| match identity(item) {
                Some(key) => self.seen.insert(key),
                None => true,
            })
            .collect();
        let repeated = before - unseen.len();
        if repeated > 0 {
            tracing::warn!(
                operation = self.operation.as_str(),
                offset = self.offset,
                repeated,
                "a page repeated items already yielded (the list moved between pages); they are skipped"
            );
        }
        unseen
    }
}

/// A hash of every item as JSON, written straight into the hasher (no text
/// kept): two pages are the same page when their hashes are.
fn fingerprint<T: Serialize>(items: &[T]) -> Option<u64> {
    use std::hash::Hasher;
    struct HashWriter(std::collections::hash_map::DefaultHasher);
    impl std::io::Write for HashWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.write(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = HashWriter(std::collections::hash_map::DefaultHasher::new());
    serde_json::to_writer(&mut writer, items).ok()?;
    Some(writer.0.finish())
}

// Nothing of an `Items` is pinned in place: its page future is boxed, and items
// are moved out of the buffer, so it may move whatever `T` is.
impl<T> Unpin for Items<'_, T> {}

impl<T: Serialize> futures_core::Stream for Items<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(refused) = this.refused.take() {
            this.finished = true;
            return Poll::Ready(Some(Err(refused)));
        }
        loop {
            if this.limit.is_some_and(|limit| this.yielded >= limit) {
                return Poll::Ready(None);
            }
            if let Some(item) = this.buffered.pop_front() {
                this.yielded += 1;
                return Poll::Ready(Some(Ok(item)));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            let pending = match &mut this.pending {
                Some(pending) => pending,
                None => {
                    // Never ask for more than the cap still allows.
                    let size = this.limit.map_or(this.page_size, |limit| {
                        this.page_size.min(limit - this.yielded).max(1)
                    });
                    this.pending.insert((this.fetch)(this.offset, size))
                }
            };
            let page = match pending.as_mut().poll(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(page) => page,
            };
            this.pending = None;
            let read = page.and_then(|page| this.read_page(page));
            match read {
                Err(error) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Ok((items, last)) => {
                    this.offset += items.len() as u64;
                    this.finished = last || items.is_empty();
                    let unseen = this.unseen(items);
                    this.buffered.extend(unseen);
                }
            }
        }
    }
}
