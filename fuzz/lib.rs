//! Helpers of the fuzz targets.

use std::sync::Arc;

use drg_core::io::CsvCases;
use drg_core::{Grouper, Pack, Status};

/// A few cases that reach several MDCs of the demo pack.
pub const SAMPLE_CSV: &str = "id,sex,age_years,age_days,weight_g,diagnoses,procedures\n\
    1,1,30,,,K35.800|E11.900,47.0901\n2,2,0,3,1800,P07.100,\n3,1,70,,,J18.900|J96.000,\n4,2,50,,,I21.900|R57.000,36.0700\n";

/// The demo pack's files, to replace one of them.
pub fn demo_files() -> Vec<(&'static str, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../drg-core/demo-pack");
    [
        "pack.json",
        "cc.tsv",
        "cc_exclusions.tsv",
        "or_procedures.tsv",
        "codes/diagnoses.tsv",
        "codes/procedures.tsv",
        "codes/diagnosis_map.tsv",
        "codes/procedure_map.tsv",
    ]
    .into_iter()
    .map(|name| (name, std::fs::read_to_string(format!("{dir}/{name}")).expect("the demo pack")))
    .collect()
}

/// The demo pack's grouper, opened once per process.
pub fn demo_grouper() -> &'static Grouper {
    static GROUPER: std::sync::OnceLock<Grouper> = std::sync::OnceLock::new();
    GROUPER.get_or_init(|| Grouper::new(Arc::new(Pack::demo())))
}

/// Groups (and explains) every row of a CSV with a pack: one result a row,
/// the same with and without the trail, a DRG of the pack when grouped.
pub fn group_all(pack: Pack, csv: &[u8]) {
    group_rows(&Grouper::new(Arc::new(pack)), csv)
}

/// [`group_all`] with a grouper at hand.
pub fn group_rows(grouper: &Grouper, csv: &[u8]) {
    let Ok(rows) = CsvCases::new(csv) else { return };
    for row in rows {
        let Ok(row) = row else { return };
        let Ok(case) = &row.case else { continue };
        let fast = grouper.group(case);
        let explained = grouper.explain(case);
        assert_eq!((fast.status, fast.drg), (explained.status, explained.drg));
        if fast.status == Status::Grouped {
            let drg = fast.drg.expect("a grouped case has a DRG");
            assert!(grouper.pack().drg_name(drg).is_some(), "{drg} is a DRG of the pack");
        }
    }
}
