//! Comparing DIP reports with the reference (specs/dip.md, points.md "Numbers").

use crate::points_tolerance;

/// The tolerance of a DIP column: points.md's, and 1e-4 for scores and
/// coefficients; `reason` only empty or not (its text is free).
pub fn compare_dip_csv(actual: &str, expected: &str) -> Vec<String> {
    let read = |text: &str| -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().unwrap().iter().map(String::from).collect();
        let rows = r.records().map(|rec| rec.unwrap().iter().map(String::from).collect()).collect();
        (header, rows)
    };
    let (ah, arows) = read(actual);
    let (eh, erows) = read(expected);
    if ah != eh {
        return vec![format!("header {ah:?}, expected {eh:?}")];
    }
    let mut diffs = Vec::new();
    if arows.len() != erows.len() {
        diffs.push(format!("{} rows, expected {}", arows.len(), erows.len()));
    }
    for (a, e) in arows.iter().zip(&erows) {
        for ((col, av), ev) in eh.iter().zip(a).zip(e) {
            let tolerance = match col.as_str() {
                "score" | "coef_0" | "coef_1" | "coef_2" => Some(1e-4 + 1e-9),
                other => points_tolerance(other),
            };
            let same = match (col.as_str(), tolerance) {
                ("reason", _) => av.is_empty() == ev.is_empty(),
                (_, Some(tol)) => match (av.parse::<f64>(), ev.parse::<f64>()) {
                    (Ok(x), Ok(y)) => (x - y).abs() <= tol,
                    _ => av == ev,
                },
                _ => av == ev,
            };
            if !same {
                diffs.push(format!("{}: {col} {av:?}, expected {ev:?}", a.first().map_or("", |s| s.as_str())));
            }
        }
    }
    diffs
}

