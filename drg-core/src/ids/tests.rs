use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

/// The obvious check, to compare with.
#[derive(Default)]
struct Model(HashMap<Vec<u8>, u64>);

impl Model {
    fn check(&mut self, id: &[u8], line: u64) -> Option<u64> {
        if id.is_empty() {
            return None;
        }
        match self.0.get(id) {
            Some(&first) => Some(first),
            None => {
                self.0.insert(id.to_vec(), line);
                None
            }
        }
    }
}

fn runs(ids: &DuplicateIds) -> usize {
    ids.spill.as_ref().map_or(0, |s| s.runs.len())
}

/// Every id collides with every other of its length.
fn by_length(id: &[u8]) -> u64 {
    id.len() as u64
}

fn always_seven(_: &[u8]) -> u64 {
    7
}

#[test]
fn the_first_line_of_an_id_and_nothing_for_a_new_or_empty_one() {
    let mut ids = DuplicateIds::new();
    assert_eq!(ids.check(b"A", 2).unwrap(), None);
    assert_eq!(ids.check(b"B", 3).unwrap(), None);
    assert_eq!(ids.check(b"A", 4).unwrap(), Some(2));
    assert_eq!(ids.check(b"A", 5).unwrap(), Some(2), "always the first line, not the previous one");
    assert_eq!(ids.check(b"", 6).unwrap(), None);
    assert_eq!(ids.check(b"", 7).unwrap(), None);
    assert_eq!(ids.check(b"a", 8).unwrap(), None, "ids are compared as they are");
    assert_eq!(ids.len(), 3);
    assert_eq!(runs(&ids), 0);
    assert!(ids.spill_note().is_none());
}

#[test]
fn a_duplicate_after_more_distinct_ids_than_the_budget_holds_is_found() {
    // 2 KiB of budget holds a few dozen ids: 20,000 make hundreds of runs,
    // merged as they come.
    let mut ids = DuplicateIds::with_memory_budget(2048);
    let n = 20_000u64;
    for i in 0..n {
        assert_eq!(ids.check(format!("C{i:06}").as_bytes(), i + 2).unwrap(), None, "C{i:06}");
    }
    let spill = ids.spill.as_ref().expect("ids were written out");
    assert!(spill.runs.len() > 1 && spill.runs.len() < 40, "{} runs", spill.runs.len());
    assert!(spill.runs.iter().any(|r| r.level >= 2), "runs were merged");
    assert_eq!(spill.runs.iter().map(|r| r.count).sum::<u64>() + ids.hashes.len() as u64, n);
    // Each id again, in another order: its first line every time.
    for i in (0..n).rev() {
        assert_eq!(ids.check(format!("C{i:06}").as_bytes(), n + 2 + i).unwrap(), Some(i + 2), "C{i:06}");
    }
    assert_eq!(ids.len(), n);
    // The first id of all, after everything was written out and merged.
    assert_eq!(ids.check(b"C000000", 1 << 40).unwrap(), Some(2));
}

#[test]
fn ids_with_the_same_hash_are_told_apart_by_their_bytes() {
    // All ids of one length share a hash: in memory, and on disk where their
    // records span many pages and runs.
    for budget in [64, 1024, 1 << 20] {
        let mut ids = DuplicateIds::with_hasher(budget, by_length);
        let mut model = Model::default();
        for i in 0..3_000u64 {
            let id = format!("X{}", i % 1_500);
            assert_eq!(ids.check(id.as_bytes(), i).unwrap(), model.check(id.as_bytes(), i), "{id} with budget {budget}");
        }
        assert_eq!(ids.len(), 1_500);
    }
}

#[test]
fn one_hash_for_every_id_is_slow_but_exact() {
    let mut ids = DuplicateIds::with_hasher(256, always_seven);
    let mut model = Model::default();
    for i in 0..1_200u64 {
        let id = format!("{}", (i * 7) % 700);
        assert_eq!(ids.check(id.as_bytes(), i).unwrap(), model.check(id.as_bytes(), i), "{id}");
    }
    assert!(runs(&ids) > 1);
}

#[test]
fn an_unwritable_directory_keeps_the_ids_in_memory_and_says_so() {
    let mut ids = DuplicateIds::with_memory_budget(256).spill_to("/nonexistent/drg-ids-test");
    let mut model = Model::default();
    for i in 0..2_000u64 {
        let id = format!("P{}", i % 1_200);
        assert_eq!(ids.check(id.as_bytes(), i).unwrap(), model.check(id.as_bytes(), i), "{id}");
    }
    assert_eq!(runs(&ids), 0);
    let note = ids.spill_note().expect("a note");
    assert!(note.contains("/nonexistent/drg-ids-test") && note.contains("kept in memory"), "{note}");
    assert_eq!(ids.take_spill_note(), Some(note), "a shell is told once");
    assert_eq!(ids.take_spill_note(), None);
    assert!(ids.spill_note().is_some(), "the note itself stays");
}

#[test]
fn no_spill_note_to_take_while_the_ids_can_be_written() {
    let mut ids = DuplicateIds::with_memory_budget(256);
    for i in 0..1_000u64 {
        ids.warning(format!("P{i}").as_bytes(), i).unwrap();
    }
    assert!(runs(&ids) > 0);
    assert_eq!(ids.take_spill_note(), None);
}

#[test]
fn the_warning_names_the_first_line_or_row() {
    let mut lines = DuplicateIds::new();
    assert_eq!(lines.warning(b"A", 2).unwrap(), None);
    assert_eq!(lines.warning(b"", 3).unwrap(), None);
    assert_eq!(lines.warning(b"", 4).unwrap(), None);
    assert_eq!(lines.warning(b"A", 9).unwrap(), Some(duplicate_warning(2)));
    let mut rows = DuplicateIds::in_memory().counting_rows();
    assert_eq!(rows.warning(b"A", 0).unwrap(), None);
    assert_eq!(rows.warning(b"A", 4).unwrap().as_deref(), Some("duplicate id: also in row 0"));
}

#[test]
fn the_spill_directory_can_be_chosen_and_its_files_leave_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = DuplicateIds::with_memory_budget(512).spill_to(dir.path());
    for i in 0..1_000u64 {
        ids.check(format!("S{i}").as_bytes(), i).unwrap();
    }
    assert!(runs(&ids) > 0);
    assert_eq!(ids.check(b"S10", 5_000).unwrap(), Some(10));
    // Unnamed files: nothing to see or to clean up.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn the_filter_rarely_sends_a_new_id_to_the_disk() {
    let mut run_hashes: Vec<u64> = (0..100_000u64).map(|i| fx_hash(format!("R{i}").as_bytes())).collect();
    run_hashes.sort_unstable();
    let file = tempfile::tempfile().unwrap();
    let run = Run::write(file, run_hashes.len() as u64, 0, run_hashes.iter().map(|&h| Ok((h, 0)))).unwrap();
    assert!(run_hashes.iter().all(|&h| run.filter.may_hold(FilterKey::of(h))), "no false negatives");
    let false_hits = (0..100_000u64).filter(|i| run.filter.may_hold(FilterKey::of(fx_hash(format!("N{i}").as_bytes())))).count();
    // About 2% with 10 bits an id and 5 bits in one word.
    assert!(false_hits < 4_000, "{false_hits} false hits in 100,000");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the ids, budget and hash: the same answers as a map of
    /// every id to its first line.
    #[test]
    fn the_same_as_a_map_of_every_id(
        ids in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..6), 0..800),
        budget in prop_oneof![Just(40usize), Just(300), Just(4096), Just(DEFAULT_MEMORY_BUDGET)],
        hash in prop_oneof![Just(fx_hash as fn(&[u8]) -> u64), Just(by_length as fn(&[u8]) -> u64), Just(always_seven as fn(&[u8]) -> u64)],
    ) {
        let mut check = DuplicateIds::with_hasher(budget, hash);
        let mut model = Model::default();
        for (line, id) in ids.iter().enumerate() {
            prop_assert_eq!(check.check(id, line as u64).unwrap(), model.check(id, line as u64), "{:?} on line {}", id, line);
        }
        prop_assert_eq!(check.len(), model.0.len() as u64);
    }
}

#[test]
fn a_failed_merge_builds_the_freed_filters_again_and_stays_exact() {
    let mut ids = DuplicateIds::with_memory_budget(2048);
    let mut i = 0u64;
    while runs(&ids) < 3 {
        assert_eq!(ids.check(format!("C{i:06}").as_bytes(), i + 2).unwrap(), None);
        i += 1;
    }
    let spill = ids.spill.as_mut().expect("ids were written out");
    assert!(spill.runs.iter().all(|r| r.level == 0));
    // A fourth run of level 0 (a copy of the first), then a merge into a
    // directory that does not exist: it fails after the filters were freed.
    let copy = &spill.runs[0];
    let fourth = Run { file: copy.file.try_clone().unwrap(), count: copy.count, level: 0, filter: copy.filter.clone(), page_first: copy.page_first.clone() };
    spill.runs.push(fourth);
    let filters: Vec<Filter> = spill.runs.iter().map(|r| r.filter.clone()).collect();
    assert!(spill.merge(std::path::Path::new("/nonexistent/drg-ids-test")).is_err());
    assert_eq!(spill.runs.len(), 4, "the runs stay as they were");
    assert_eq!(spill.runs.iter().map(|r| r.filter.clone()).collect::<Vec<_>>(), filters, "the same filters, built again");
    // A run whose filter could not be built again is read for every id.
    spill.runs[1].filter = Filter::default();
    for j in (0..i).rev() {
        assert_eq!(ids.check(format!("C{j:06}").as_bytes(), 1 << 40).unwrap(), Some(j + 2), "C{j:06}");
    }
}

proptest! {
    /// The bucketed order is the order of a comparison sort, for hashes
    /// spread evenly and for hashes that share their top bits.
    #[test]
    fn ids_are_ordered_by_hash_as_a_sort_would(
        hashes in proptest::collection::vec(any::<u64>(), 0..3000),
        shared_top in 0u32..64,
    ) {
        let hashes: Vec<u64> = hashes.iter().map(|&h| h >> shared_top).collect();
        let order = order_by_hash(&hashes);
        let mut sorted: Vec<u32> = (0..hashes.len() as u32).collect();
        sorted.sort_unstable_by_key(|&i| hashes[i as usize]);
        prop_assert_eq!(order.iter().map(|&i| hashes[i as usize]).collect::<Vec<_>>(), sorted.iter().map(|&i| hashes[i as usize]).collect::<Vec<_>>());
        let mut each = order.clone();
        each.sort_unstable();
        prop_assert_eq!(each, (0..hashes.len() as u32).collect::<Vec<_>>(), "every index once");
    }
}
