//! Where a WARC record starts, as other tools count it: the byte offset in
//! the file of the record's first line, or for a `.warc.gz` the offset of
//! the gzip member that holds it (what warcio's `get_record_offset` and
//! CDX indexes give, and what `dd`/`warcio extract` take to find it again).
//!
//! Members are decoded one at a time (a fresh decoder at each member start)
//! instead of by `MultiGzDecoder`, so that each member's start is known.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A shared reading of the position, for the record parser to take.
#[derive(Debug, Clone, Default)]
pub struct Mark(Arc<AtomicU64>);

impl Mark {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed)
    }
    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// A `BufRead` that counts the bytes consumed from it into a [`Mark`].
pub struct Counted<R> {
    inner: R,
    consumed: Mark,
}

impl<R: BufRead> Counted<R> {
    pub fn new(inner: R) -> (Self, Mark) {
        let consumed = Mark::default();
        let me = Counted {
            inner,
            consumed: consumed.clone(),
        };
        (me, consumed)
    }
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.add(n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.consumed.add(n as u64);
        self.inner.consume(n);
    }
}

/// The decompressed bytes of every gzip member in turn; [`Mark`] holds the
/// compressed offset of the member being read.
pub struct Members<R: BufRead> {
    /// The member being read, or the input between members.
    state: State<R>,
    consumed: Mark,
    member_at: Mark,
}

enum State<R: BufRead> {
    Member(flate2::bufread::GzDecoder<Counted<R>>),
    Between(Counted<R>),
    /// Only while switching (a read that fails leaves the state as it was).
    Gone,
}

impl<R: BufRead> Members<R> {
    pub fn new(input: R) -> (Self, Mark) {
        let (counted, consumed) = Counted::new(input);
        let member_at = Mark::default();
        let me = Members {
            state: State::Between(counted),
            consumed,
            member_at: member_at.clone(),
        };
        (me, member_at)
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, State::Gone) {
                State::Member(mut d) => match d.read(buf) {
                    // This member ended: what follows may be another.
                    Ok(0) if !buf.is_empty() => self.state = State::Between(d.into_inner()),
                    done => {
                        self.state = State::Member(d);
                        return done;
                    }
                },
                State::Between(mut raw) => {
                    let more = raw.fill_buf().map(|b| !b.is_empty());
                    if !matches!(more, Ok(true)) {
                        self.state = State::Between(raw);
                        return more.map(|_| 0);
                    }
                    self.member_at.set(self.consumed.get());
                    self.state = State::Member(flate2::bufread::GzDecoder::new(raw));
                }
                State::Gone => return Err(io::Error::other("an earlier read of this gzip failed")),
            }
        }
    }
}
