//! Mapping a slice on several threads, keeping the order; and the one rule
//! for how many threads drg uses, shared by the CLI, the C ABI and Python.

/// The most worker threads drg starts for one call. More than this gains
/// nothing on any machine drg runs on (each thread groups whole batches, and
/// grouping is bound by the cores), and thousands of threads can exhaust the
/// process's memory or thread limit: a request for more is clamped to this.
pub const MAX_THREADS: usize = 256;

/// The thread count used when none is asked for: every core the process may
/// use (at least 1, at most [`MAX_THREADS`]).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_THREADS)
}

/// A requested thread count made usable: 0 means [`default_threads`]; a
/// count above [`MAX_THREADS`] is clamped to it. The second value is a note
/// for the user when the count was clamped (interfaces print it where they
/// can: the CLI on standard error).
pub fn resolve_threads(requested: usize) -> (usize, Option<String>) {
    match requested {
        0 => (default_threads(), None),
        n if n > MAX_THREADS => {
            (MAX_THREADS, Some(format!("{n} threads asked for; using {MAX_THREADS}, the most drg starts")))
        }
        n => (n, None),
    }
}

/// `f` applied to every item, on `threads` threads (0: every core; more than
/// [`MAX_THREADS`] is clamped), results in the order of `items`. Each thread
/// takes one contiguous share. If the system refuses a new thread, its share
/// is mapped on the calling thread: every item is still mapped.
pub fn par_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let (threads, _) = resolve_threads(threads);
    if threads <= 1 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads.min(items.len()));
    let f = &f;
    let quiet = crate::panic::is_quiet();
    std::thread::scope(|scope| {
        let shares: Vec<_> = items
            .chunks(chunk)
            .map(|share| {
                let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                    crate::panic::set_quiet(quiet);
                    share.iter().map(f).collect::<Vec<R>>()
                });
                spawned.map_err(|_| share)
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for share in shares {
            match share {
                Ok(handle) => match handle.join() {
                    Ok(results) => out.extend(results),
                    // The worker's panic goes on in the caller, as if the
                    // caller had mapped the share itself.
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(share) => out.extend(share.iter().map(f)),
            }
        }
        out
    })
}

/// The reading end of [`ordered_pipeline`]: hands batches to the workers,
/// or works on one itself while they have enough to do.
pub struct Feeder<'a, B, P> {
    batches: std::sync::mpsc::SyncSender<(u64, B)>,
    tokens: std::sync::mpsc::SyncSender<()>,
    spares: &'a std::sync::mpsc::Receiver<P>,
    /// Works on a batch on the reading thread and sends the result to the
    /// writer; false once the writer has stopped (or the work panicked).
    work_here: &'a mut dyn FnMut(u64, B) -> bool,
    seq: u64,
}

impl<B, P> Feeder<'_, B, P> {
    /// Sends the next batch to a worker, waiting while the most batches are
    /// in flight; when every worker already has its share waiting (or there
    /// is none), works on it here instead. False once the writer has stopped
    /// (it failed): the reader should stop too.
    pub fn send(&mut self, batch: B) -> bool {
        use std::sync::mpsc::TrySendError;
        if self.tokens.send(()).is_err() {
            return false;
        }
        let sent = match self.batches.try_send((self.seq, batch)) {
            Ok(()) => true,
            Err(TrySendError::Full((seq, batch))) => (self.work_here)(seq, batch),
            Err(TrySendError::Disconnected(_)) => false,
        };
        self.seq += 1;
        sent
    }

    /// A container a worker has given back (see [`ordered_pipeline`]), to
    /// refill instead of allocating a new one.
    pub fn spare(&self) -> Option<P> {
        self.spares.try_recv().ok()
    }
}

/// Batches in flight per thread: enough to keep every thread busy while one
/// batch waits for an earlier one to be written, few enough that memory does
/// not grow with the input. With two threads: two batches waiting for the
/// worker, one it works on, one the reading thread reads or works on, and
/// two done and waiting to be written. (Four per thread held 4 MB more
/// in `drg group`, 2,048 rows a batch, for no measured gain in rate.)
pub const BATCHES_PER_THREAD: usize = 3;

/// Batches waiting for each worker before the reading thread works on the
/// next one itself: two, so that a worker finishing one finds the next
/// while the reading thread is busy with its own.
const WAITING_PER_WORKER: usize = 2;

/// The reader → workers → writer pipeline every command and service that
/// reads a file of cases runs on (`drg group`, `drg pack diff`, `drg dip`,
/// `drg points`, the HTTP service's batches, Python's `group_frame`).
///
/// `read` runs on the calling thread and sends batches through its
/// [`Feeder`]; `threads - 1` workers (none for one thread) each turn a
/// batch into a result with `work`, given their own state (made once by
/// `state`) and a function that hands a used container back to the reader
/// (`P`: the reader's record buffers, such as a
/// [`crate::io::RecordBatch`], so that rows are read into memory already
/// allocated); one writer thread calls `write` with the results in the order
/// of their batches. At most [`BATCHES_PER_THREAD`] batches per thread are
/// in flight, so memory is flat in the input size.
///
/// The calling thread is one of the `threads`: when every worker has
/// batches waiting, it works on the batch it has just read instead of
/// waiting. Reading is the one step no other thread can take over, and with
/// a reader and as many workers as cores, the three threads of two cores
/// took turns: the workers, sharing a core with the reader, drained the
/// batches it had read, and a core stood idle a fifth of the time while
/// the reader caught up.
///
/// A panic in `work` or `write` goes on in the caller (as with
/// [`par_map`]), once the other threads have stopped: the pipeline does not
/// wait for a batch that will never come.
///
/// Returns what `read` returned and the first error of `write` (an
/// [`std::io::Error`], or the caller's own type when writing can stop for
/// another reason, such as a deadline); when `write` fails, the feeder's
/// `send` returns false and the workers stop.
pub fn ordered_pipeline<B, P, S, D, R, E>(
    threads: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, B, &dyn Fn(P)) -> D + Sync,
    mut write: impl FnMut(D) -> Result<(), E> + Send,
    read: impl FnOnce(&mut Feeder<'_, B, P>) -> R,
) -> (R, Result<(), E>)
where
    B: Send,
    P: Send,
    D: Send,
    E: Send,
{
    use std::panic::AssertUnwindSafe;
    use std::sync::mpsc::{channel, sync_channel};
    use std::sync::{Arc, Mutex};
    let threads = threads.clamp(1, MAX_THREADS);
    let workers = threads - 1;
    let in_flight = threads * BATCHES_PER_THREAD;
    let (batch_tx, batch_rx) = sync_channel::<(u64, B)>(workers * WAITING_PER_WORKER);
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    // A worker's panic is sent in place of its batch: the writer stops on
    // it, so the reader's next send fails and every thread ends.
    let (done_tx, done_rx) = sync_channel::<(u64, std::thread::Result<D>)>(in_flight);
    // One token per batch in flight: the reader takes one before it sends a
    // batch, the writer gives it back once the batch is written.
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    let (spare_tx, spare_rx) = channel::<P>();
    let quiet = crate::panic::is_quiet();
    // Works on one batch and sends the result to the writer; false when the
    // writer has stopped or the work panicked.
    let work_on = |own: &mut S, seq: u64, batch: B, done_tx: &std::sync::mpsc::SyncSender<_>, give_back: &dyn Fn(P)| {
        let done = std::panic::catch_unwind(AssertUnwindSafe(|| work(own, batch, give_back)));
        let failed = done.is_err();
        done_tx.send((seq, done)).is_ok() && !failed
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let batch_rx = Arc::clone(&batch_rx);
            let done_tx = done_tx.clone();
            let spare_tx = spare_tx.clone();
            let (state, work_on) = (&state, &work_on);
            scope.spawn(move || {
                crate::panic::set_quiet(quiet);
                let mut own = state();
                // A container given back after the reader finished just goes.
                let give_back = move |p: P| drop(spare_tx.send(p));
                loop {
                    let next = batch_rx.lock().expect("batch queue").recv();
                    let Ok((seq, batch)) = next else { break };
                    if !work_on(&mut own, seq, batch, &done_tx, &give_back) {
                        break;
                    }
                }
            });
        }
        let writer = scope.spawn(move || write_in_order(done_rx, token_rx, &mut write));
        // The reading thread's own state is made when it first works.
        let mut own = None;
        let give_back = |p: P| drop(spare_tx.send(p));
        let mut work_here = |seq: u64, batch: B| work_on(own.get_or_insert_with(&state), seq, batch, &done_tx, &give_back);
        let mut feeder = Feeder { batches: batch_tx, tokens: token_tx, spares: &spare_rx, work_here: &mut work_here, seq: 0 };
        let read_result = read(&mut feeder);
        drop(feeder);
        // The writer ends once every sender of results is gone.
        drop(done_tx);
        let written = match writer.join() {
            Ok(Ok(written)) => written,
            // The writer's own panic, or a worker's it stopped on.
            Ok(Err(panic)) | Err(panic) => std::panic::resume_unwind(panic),
        };
        (read_result, written)
    })
}

/// The writer of [`ordered_pipeline`]: results in the order of their
/// batches, a token given back for each one written. A panic in `work` comes
/// as its result and ends the writing (an `Err` here, resumed by the
/// caller); the first error of `write` ends it too.
fn write_in_order<D, E>(
    done: std::sync::mpsc::Receiver<(u64, std::thread::Result<D>)>,
    tokens: std::sync::mpsc::Receiver<()>,
    write: &mut impl FnMut(D) -> Result<(), E>,
) -> std::thread::Result<Result<(), E>> {
    let mut pending = std::collections::BTreeMap::new();
    let mut next = 0u64;
    for (seq, result) in done {
        pending.insert(seq, result?);
        while let Some(result) = pending.remove(&next) {
            if let Err(e) = write(result) {
                return Ok(Err(e));
            }
            next += 1;
            let _ = tokens.recv();
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_whatever_the_threads() {
        let items: Vec<u32> = (0..1001).collect();
        for threads in [0, 1, 2, 3, 8, 2000, 40_000, usize::MAX] {
            assert_eq!(par_map(&items, threads, |x| x * 2), items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
        assert!(par_map(&[] as &[u32], 4, |x| *x).is_empty());
    }

    #[test]
    fn the_pipeline_writes_in_input_order_and_recycles() {
        for threads in [1, 2, 5] {
            let mut written = Vec::new();
            let (read, result) = ordered_pipeline(
                threads,
                || 0u32,
                |batches_seen: &mut u32, batch: Vec<u32>, give_back: &dyn Fn(Vec<u32>)| {
                    *batches_seen += 1;
                    let doubled: Vec<u32> = batch.iter().map(|x| x * 2).collect();
                    give_back(batch);
                    doubled
                },
                |done: Vec<u32>| -> std::io::Result<()> {
                    written.extend(done);
                    Ok(())
                },
                |feeder: &mut Feeder<'_, Vec<u32>, Vec<u32>>| {
                    let mut reused = 0;
                    for start in (0..1000).step_by(7) {
                        let mut batch = feeder.spare().inspect(|_| reused += 1).unwrap_or_default();
                        batch.clear();
                        batch.extend(start..(start + 7).min(1000));
                        assert!(feeder.send(batch));
                    }
                    reused
                },
            );
            result.unwrap();
            assert_eq!(written, (0..1000).map(|x| x * 2).collect::<Vec<_>>(), "{threads} threads");
            assert!(read <= 143);
        }
    }

    /// With one thread, every batch is worked on by the calling thread; with
    /// more, the calling thread works on a batch once the workers have theirs
    /// waiting (here the only worker is held on its first batch until the
    /// calling thread has worked on one).
    #[test]
    fn the_reading_thread_groups_when_the_workers_have_enough() {
        let caller = std::thread::current().id();
        let (_, result) = ordered_pipeline(
            1,
            || (),
            |_: &mut (), batch: u32, _: &dyn Fn(())| (batch, std::thread::current().id()),
            |(_, by): (u32, std::thread::ThreadId)| -> std::io::Result<()> {
                assert_eq!(by, caller);
                Ok(())
            },
            |feeder: &mut Feeder<'_, u32, ()>| (0..50).all(|i| feeder.send(i)),
        );
        result.unwrap();

        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let go_rx = std::sync::Mutex::new(go_rx);
        let mut by_caller = Vec::new();
        let (all_sent, result) = ordered_pipeline(
            2,
            || (),
            |_: &mut (), batch: u32, _: &dyn Fn(())| {
                if std::thread::current().id() == caller {
                    let _ = go_tx.send(());
                } else if batch == 0 {
                    go_rx.lock().unwrap().recv_timeout(std::time::Duration::from_secs(60)).expect("the caller worked on a batch");
                }
                (batch, std::thread::current().id() == caller)
            },
            |(batch, here): (u32, bool)| -> std::io::Result<()> {
                if here {
                    by_caller.push(batch);
                }
                Ok(())
            },
            |feeder: &mut Feeder<'_, u32, ()>| (0..20).all(|i| feeder.send(i)),
        );
        result.unwrap();
        assert!(all_sent);
        assert!(!by_caller.is_empty() && !by_caller.contains(&0), "{by_caller:?}");
    }

    #[test]
    fn a_failing_writer_stops_the_reader() {
        let (sent, result) = ordered_pipeline(
            2,
            || (),
            |_: &mut (), batch: u32, _: &dyn Fn(())| batch,
            |batch: u32| if batch == 3 { Err(std::io::Error::other("disk full")) } else { Ok(()) },
            |feeder: &mut Feeder<'_, u32, ()>| (0..1_000_000).take_while(|&i| feeder.send(i)).count(),
        );
        assert_eq!(result.unwrap_err().to_string(), "disk full");
        assert!(sent < 1_000_000, "the reader stopped");
    }

    #[test]
    fn a_panicking_worker_stops_the_pipeline_and_reaches_the_caller() {
        // Run apart, so that a pipeline that waited forever for the lost
        // batch fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let outcome = crate::panic::catch_quietly(|| {
                ordered_pipeline(
                    2,
                    || (),
                    |_: &mut (), batch: u32, _: &dyn Fn(())| if batch == 5 { panic!("batch five") } else { batch },
                    |_: u32| -> std::io::Result<()> { Ok(()) },
                    |feeder: &mut Feeder<'_, u32, ()>| (0..1_000_000).take_while(|&i| feeder.send(i)).count(),
                )
            });
            let _ = tx.send(outcome.map(|(sent, _)| sent));
        });
        let outcome = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the pipeline ended");
        assert_eq!(outcome, Err("batch five".to_string()));
    }

    #[test]
    fn thread_counts_are_clamped_in_one_place() {
        assert_eq!(resolve_threads(0), (default_threads(), None));
        assert_eq!(resolve_threads(3), (3, None));
        assert_eq!(resolve_threads(MAX_THREADS), (MAX_THREADS, None));
        let (n, note) = resolve_threads(40_000);
        assert_eq!(n, MAX_THREADS);
        assert_eq!(note.unwrap(), "40000 threads asked for; using 256, the most drg starts");
        assert!((1..=MAX_THREADS).contains(&default_threads()));
    }
}
