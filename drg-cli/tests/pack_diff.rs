//! `drg pack diff` on the shared CHS-DRG 1.1 cases, 1.1 → 2.0: its tables
//! are checked against groupings made here, independently, with the library.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use drg_core::io::CsvCases;
use drg_core::{Grouper, Status};

fn shared() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(dir.join("README.md").is_file(), "../shared is missing beside the workspace");
    dir
}

fn read_csv(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| headers.iter().zip(r.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect())
        .collect()
}

/// A case's group as the diff names it: DRG when grouped, else the status.
fn group_of(status: Status, drg: Option<&str>) -> String {
    match (status, drg) {
        (Status::Grouped, Some(d)) => d.to_string(),
        (s, _) => s.to_string(),
    }
}

#[test]
fn pack_diff_1_1_to_2_0_matches_groupings_made_independently() {
    let cases_csv = shared().join("testdata/chs-drg-1.1/cases.csv");
    let weights_csv = shared().join("testdata/points/expected/weights.csv");
    let out = std::env::temp_dir().join(format!("drg-pack-diff-{}", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_drg"))
        .env_remove("DRG_PACK")
        .args(["pack", "diff", "chs-drg-1.1", "chs-drg-2.0"])
        .arg(&cases_csv)
        .arg("--weights-old")
        .arg(&weights_csv)
        .arg("--weights-new")
        .arg(&weights_csv)
        .arg("--out-dir")
        .arg(&out)
        .args(["--threads", "2", "--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));

    // The same cases, grouped here under both bundled packs.
    let old = Grouper::new(Arc::new(drg_packs::open("chs-drg-1.1").unwrap()));
    let new = Grouper::new(Arc::new(drg_packs::open("chs-drg-2.0").unwrap()));
    let weights = drg_core::points::read_weights_csv(File::open(&weights_csv).unwrap()).unwrap();
    let weight = |status: Status, drg: Option<&str>| match (status, drg) {
        (Status::Grouped, Some(d)) => weights.drgs.get(d).map(|w| w.weight),
        _ => None,
    };
    let mut expected_rows = vec![];
    let mut transitions: BTreeMap<(String, String), u64> = BTreeMap::new();
    // hospital → (cases, Σ old weight, n old, Σ new weight, n new)
    let mut hospitals: BTreeMap<String, (u64, f64, u64, f64, u64)> = BTreeMap::new();
    let (mut changed, mut mdc_changed, mut ungroupable, mut qy) = (0u64, 0u64, 0u64, 0u64);
    for row in CsvCases::new(BufReader::new(File::open(&cases_csv).unwrap())).unwrap() {
        let row = row.unwrap();
        let (id, hospital, o, n) = match &row.case {
            Ok(c) => {
                let (o, n) = (old.group(c), new.group(c));
                (c.id.clone(), c.hospital.clone().unwrap_or_default(), (o.status, o.mdc.map(str::to_string), o.drg.map(str::to_string)), (n.status, n.mdc.map(str::to_string), n.drg.map(str::to_string)))
            }
            Err(e) => (e.id.clone(), String::new(), (Status::Invalid, None, None), (Status::Invalid, None, None)),
        };
        let (go, gn) = (group_of(o.0, o.2.as_deref()), group_of(n.0, n.2.as_deref()));
        changed += (go != gn) as u64;
        mdc_changed += (o.0 == Status::Grouped && n.0 == Status::Grouped && o.1 != n.1) as u64;
        ungroupable += (o.0 != Status::Ungroupable && n.0 == Status::Ungroupable) as u64;
        qy += (o.0 != Status::Ambiguous && n.0 == Status::Ambiguous) as u64;
        *transitions.entry((go.clone(), gn.clone())).or_default() += 1;
        let h = hospitals.entry(hospital.clone()).or_default();
        h.0 += 1;
        if let Some(w) = weight(o.0, o.2.as_deref()) {
            h.1 += w;
            h.2 += 1;
        }
        if let Some(w) = weight(n.0, n.2.as_deref()) {
            h.3 += w;
            h.4 += 1;
        }
        expected_rows.push((id, hospital, o.0.to_string(), o.2.unwrap_or_default(), n.0.to_string(), n.2.unwrap_or_default(), go != gn));
    }
    assert!(changed > 1000 && mdc_changed > 0, "the two schemes differ on many cases");

    // cases.csv: one row per input row, in order, with both groupings.
    let rows = read_csv(&out.join("cases.csv"));
    assert_eq!(rows.len(), expected_rows.len());
    for (got, want) in rows.iter().zip(&expected_rows) {
        let got_tuple = (
            got["id"].clone(),
            got["hospital"].clone(),
            got["old_status"].clone(),
            got["old_drg"].clone(),
            got["new_status"].clone(),
            got["new_drg"].clone(),
            got["changed"] == "true",
        );
        assert_eq!(&got_tuple, want);
    }

    // transitions.csv: every transition with its count, largest first.
    let t = read_csv(&out.join("transitions.csv"));
    assert_eq!(t.len(), transitions.len());
    let counts: Vec<u64> = t.iter().map(|r| r["cases"].parse().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "largest first");
    let mut from_old: HashMap<&str, u64> = HashMap::new();
    for ((o, _), n) in &transitions {
        *from_old.entry(o).or_default() += n;
    }
    for r in &t {
        let n = transitions[&(r["old"].clone(), r["new"].clone())];
        assert_eq!(r["cases"].parse::<u64>().unwrap(), n, "{} -> {}", r["old"], r["new"]);
        let share: f64 = r["share_of_old"].parse().unwrap();
        assert!((share - n as f64 / from_old[r["old"].as_str()] as f64).abs() < 1e-6);
    }

    // hospitals.csv: CMI under both.
    let h = read_csv(&out.join("hospitals.csv"));
    assert_eq!(h.len(), hospitals.len());
    for r in &h {
        let (cases, so, no, sn, nn) = hospitals[&r["hospital"]];
        assert_eq!(r["cases"].parse::<u64>().unwrap(), cases);
        let cmi = |s: f64, n: u64| if n == 0 { String::new() } else { format!("{:.4}", s / n as f64) };
        assert_eq!(r["cmi_old"], cmi(so, no), "{}", r["hospital"]);
        assert_eq!(r["cmi_new"], cmi(sn, nn), "{}", r["hospital"]);
    }

    // The summary on the terminal.
    let total = expected_rows.len();
    assert!(stdout.starts_with(&format!("{total} cases: chs-drg-1.1")), "{stdout}");
    for (label, n) in [("DRG (or status) changed:", changed), ("MDC changed:", mdc_changed), ("became ungroupable:", ungroupable), ("became QY (ambiguous):", qy)] {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("no {label}: {stdout}"));
        assert_eq!(line[line.find(':').unwrap() + 1..].split_whitespace().next().unwrap(), n.to_string(), "{line}");
    }
    std::fs::remove_dir_all(&out).unwrap();
}
