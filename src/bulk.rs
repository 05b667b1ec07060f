//! Bulk cleaning on every core, output in input order, memory bounded.
//!
//! One producer thread reads inputs (files, WARC records) in order; `jobs`
//! worker threads clean them; the calling thread writes results in input
//! order. A fixed number of tickets caps the items in flight (read but not
//! yet written): the producer takes a ticket before reading the next item
//! and the writer returns one after writing. So however large the input,
//! at most `in_flight` pages are held in memory, and a slow page cannot let
//! the reorder buffer grow without bound.
//!
//! A panic in `work` is caught on the worker ([`crate::isolate`]) and
//! handed to `emit` in the item's place: a lost item would leave the writer
//! waiting for it forever, with every ticket spent.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use crate::isolate::{self, Panicked};

/// An item whose work panicked: its place in the input (from 0) and the
/// panic.
#[derive(Debug)]
pub struct Lost {
    pub seq: u64,
    pub panic: Panicked,
}

/// What the writer does after an item: go on, or stop the run (a closed
/// output pipe, a write error).
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Maps `work` over `items` on `jobs` threads and hands each result to
/// `emit` in the order of `items`, or the panic of `work` on it with the
/// item's index. `items` runs on its own thread.
pub fn ordered<T, R>(
    items: impl Iterator<Item = T> + Send,
    jobs: usize,
    in_flight: usize,
    work: impl Fn(T) -> R + Sync,
    mut emit: impl FnMut(Result<R, Lost>) -> Flow,
) where
    T: Send,
    R: Send,
{
    let jobs = jobs.max(1);
    let in_flight = in_flight.max(jobs);
    let (ticket_tx, ticket_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        ticket_tx
            .send(())
            .expect("channel has room for every ticket");
    }
    let (work_tx, work_rx) = sync_channel::<(u64, T)>(jobs);
    let work_rx: Arc<Mutex<Receiver<(u64, T)>>> = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<(u64, Result<R, Lost>)>(in_flight);

    std::thread::scope(|s| {
        s.spawn(move || {
            for (seq, item) in (0u64..).zip(items) {
                // No ticket: the writer stopped; end quietly.
                if ticket_rx.recv().is_err() || work_tx.send((seq, item)).is_err() {
                    return;
                }
            }
        });
        for _ in 0..jobs {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            let work = &work;
            s.spawn(move || {
                loop {
                    // The lock is held only while waiting for the next item.
                    let next = work_rx.lock().expect("work queue lock").recv();
                    let Ok((seq, item)) = next else { return };
                    let done = isolate::page(|| work(item)).map_err(|panic| Lost { seq, panic });
                    if done_tx.send((seq, done)).is_err() {
                        return;
                    }
                }
            });
        }
        // Workers hold the only handles now: when they all stop, sending
        // work fails and the producer stops too.
        drop(work_rx);
        drop(done_tx);

        let mut pending: BTreeMap<u64, Result<R, Lost>> = BTreeMap::new();
        let mut next = 0u64;
        'recv: for (seq, r) in done_rx.iter() {
            pending.insert(seq, r);
            while let Some(r) = pending.remove(&next) {
                next += 1;
                if emit(r) == Flow::Stop {
                    break 'recv;
                }
                // A closed ticket channel means the producer is done.
                let _ = ticket_tx.send(());
            }
        }
        // Dropping the receivers ends the producer and workers early.
        drop(ticket_tx);
        drop(done_rx);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_stops_early() {
        let mut seen = Vec::new();
        ordered(
            0..200u32,
            4,
            8,
            |i| {
                // Uneven work so that results arrive out of order.
                std::thread::sleep(std::time::Duration::from_micros(
                    ((i * 7919) % 13) as u64 * 50,
                ));
                i * 2
            },
            |r| {
                seen.push(r.expect("no panic"));
                Flow::Continue
            },
        );
        assert_eq!(seen, (0..200).map(|i| i * 2).collect::<Vec<_>>());

        let mut n = 0;
        ordered(
            0..10_000u32,
            2,
            4,
            |i| i,
            |_| {
                n += 1;
                if n == 5 { Flow::Stop } else { Flow::Continue }
            },
        );
        assert_eq!(n, 5);
    }

    #[test]
    fn a_panic_takes_its_item_place_and_the_run_goes_on() {
        let mut seen = Vec::new();
        ordered(
            0..50u32,
            2,
            2,
            |i| if i % 7 == 3 { panic!("item {i}") } else { i },
            |r| {
                seen.push(r.map_err(|l| (l.seq, l.panic.message)));
                Flow::Continue
            },
        );
        assert_eq!(seen.len(), 50);
        for (i, r) in (0..50u32).zip(&seen) {
            match r {
                Ok(v) => assert_eq!(*v, i),
                Err((seq, msg)) => {
                    assert_eq!((*seq, i % 7), (u64::from(i), 3));
                    assert!(msg.starts_with(&format!("item {i} (at")), "{msg}");
                }
            }
        }
    }
}
