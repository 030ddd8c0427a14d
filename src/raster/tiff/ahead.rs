//! Work handed to the thread pool ahead of its use and taken back in
//! order: while one strip or tile is placed in the rows, the next ones
//! are decoded on the other cores.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use rayon::Scope;

/// A queue of work on the pool of `scope`, whose results come back in the
/// order the work went in. Work no thread has started when its result is
/// wanted is done on the asking thread, so waiting never depends on a
/// thread that might be busy elsewhere.
pub(super) struct Ahead<'s, 'scope, T, R> {
    scope: &'s Scope<'scope>,
    work: &'scope (dyn Fn(T) -> R + Sync),
    pending: VecDeque<Pending<T, R>>,
}

struct Pending<T, R> {
    slot: Arc<Mutex<Option<T>>>,
    done: Receiver<R>,
}

impl<'s, 'scope, T: Send + 'scope, R: Send + 'scope> Ahead<'s, 'scope, T, R> {
    pub fn new(scope: &'s Scope<'scope>, work: &'scope (dyn Fn(T) -> R + Sync)) -> Self {
        Self {
            scope,
            work,
            pending: VecDeque::new(),
        }
    }

    /// Work handed out whose result has not been taken back.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Hands `item` to the pool.
    pub fn push(&mut self, item: T) {
        let slot = Arc::new(Mutex::new(Some(item)));
        let (send, done) = mpsc::sync_channel(1);
        let (task, work) = (Arc::clone(&slot), self.work);
        self.scope.spawn(move |_| {
            if let Some(item) = claim(&task) {
                // The receiver is gone only when the reading stopped early.
                let _ = send.send(work(item));
            }
        });
        self.pending.push_back(Pending { slot, done });
    }

    /// The result of the oldest work, or `None` when there is none or the
    /// thread doing it stopped without one.
    pub fn next(&mut self) -> Option<R> {
        let front = self.pending.pop_front()?;
        match claim(&front.slot) {
            Some(item) => Some((self.work)(item)),
            None => front.done.recv().ok(),
        }
    }
}

/// Takes the work out of its slot, if no one has taken it yet.
fn claim<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_the_order_the_work_went_in() {
        let square = |n: u64| {
            std::thread::sleep(std::time::Duration::from_micros(100 * (n % 3)));
            n * n
        };
        let squares = rayon::in_place_scope(|scope| {
            let mut ahead = Ahead::new(scope, &square);
            let mut out = Vec::new();
            for n in 0..40 {
                ahead.push(n);
                if ahead.len() > 5 {
                    out.extend(ahead.next());
                }
            }
            while let Some(square) = ahead.next() {
                out.push(square);
            }
            out
        });
        assert_eq!(squares, (0..40u64).map(|n| n * n).collect::<Vec<_>>());
    }
}
