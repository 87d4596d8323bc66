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
