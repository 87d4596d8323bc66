//! `drg serve`: opens the packs, the weights and the DIP catalogue and policy, then hands them to the
//! drg-serve crate, which does the serving.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use drg_core::dip::{read_catalogue_csv, Dip, DipPolicy, KeyMaker};

use super::{load_pack, Outcome};
use crate::args::{PackChoice, ServeArgs};

/// `drg serve`.
pub fn command(args: ServeArgs) -> Outcome {
    let choices: Vec<PackChoice> = if args.packs.is_empty() {
        vec![PackChoice { pack: None }]
    } else {
        args.packs.iter().map(|p| PackChoice { pack: Some(p.clone()) }).collect()
    };
    let mut packs = Vec::with_capacity(choices.len());
    for choice in &choices {
        let pack = load_pack(choice)?;
        packs.push((pack.info().id.clone(), Arc::new(pack)));
    }
    let weights = match &args.weights {
        Some(path) => Some(super::points::read_weights(path)?),
        None => None,
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(format!("--timeout must be a positive number of seconds, not {}", args.timeout).into());
    }
    let dip = match (&args.catalogue, &args.policy) {
        (Some(catalogue), Some(policy)) => Some(Arc::new(open_dip(catalogue, policy, &packs[0].1)?)),
        (None, None) => None,
        _ => return Err("give --catalogue and --policy together (DIP needs both)".into()),
    };
    let options = drg_serve::ServeOptions {
        body_limit: parse_size(&args.max_body).map_err(|e| format!("--max-body: {e}"))?,
        timeout: Duration::from_secs_f64(args.timeout),
        max_in_flight: args.max_in_flight,
        translate_codes: args.translate_codes,
        weights,
        dip,
    };
    let ids: Vec<String> = packs.iter().map(|(id, _)| id.clone()).collect();
    drg_serve::run(&args.addr, packs, options, |bound| {
        eprintln!("drg serve: listening on http://{bound} with packs {} (stop with Ctrl-C or SIGTERM)", ids.join(", "));
        let _ = std::io::stderr().flush();
    })?;
    eprintln!("drg serve: stopped");
    Ok(ExitCode::SUCCESS)
}

/// DIP grouping with `catalogue` and `policy`, the keys made with `pack`
/// (the service's default pack). Policy warnings are printed as `drg dip`
/// prints them.
fn open_dip(catalogue: &Path, policy: &Path, pack: &Arc<drg_core::Pack>) -> Result<Dip, String> {
    let policy = DipPolicy::load(policy).map_err(|e| e.to_string())?;
    let file = std::fs::File::open(catalogue).map_err(|e| format!("{}: {e}", catalogue.display()))?;
    let catalogue = read_catalogue_csv(std::io::BufReader::new(file)).map_err(|e| format!("{}: {e}", catalogue.display()))?;
    let keys = KeyMaker::new(Arc::clone(pack), &policy);
    let dip = Dip::new(policy, keys, catalogue);
    for w in dip.warnings() {
        eprintln!("drg serve: warning: {w}");
    }
    Ok(dip)
}

/// A size in bytes: a number, optionally followed by KB, MB or GB (powers of
/// 1024; K, M, G and KiB, MiB, GiB too).
fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: usize = number.parse().map_err(|_| format!("{text:?} is not a size (e.g. 16MB)"))?;
    let scale: usize = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        other => return Err(format!("unknown unit {other:?} in {text:?} (use KB, MB or GB)")),
    };
    number.checked_mul(scale).filter(|&n| n > 0).ok_or_else(|| format!("{text:?} is not a usable size"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MB"), Ok(16 << 20));
        assert_eq!(parse_size("512 kb"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("MB").is_err());
    }
}
