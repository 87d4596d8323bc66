//! Bundled packs from the command line: the default, ids everywhere a pack is
//! taken, `drg pack list` and `drg pack info`.

use std::path::PathBuf;
use std::process::Command;

fn drg() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drg"));
    cmd.env_remove("DRG_PACK");
    cmd
}

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/cases.csv")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn without_a_pack_drg_groups_with_chs_drg_2_0() {
    let out = drg().arg("group").arg(example()).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("with CHS-DRG 2.0 (chs-drg-2.0)"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 16);
}

#[test]
fn an_id_works_as_option_and_as_environment() {
    let by_option = drg().args(["group", "-q", "--pack", "wuhan-2022"]).arg(example()).output().unwrap();
    let by_env = drg().env("DRG_PACK", "wuhan-2022").args(["group", "-q"]).arg(example()).output().unwrap();
    assert!(by_option.status.success(), "{}", text(&by_option.stderr));
    assert_eq!(by_option.stdout, by_env.stdout);
    let national = drg().args(["group", "-q", "--pack", "chs-drg-2.0"]).arg(example()).output().unwrap();
    assert_ne!(by_option.stdout, national.stdout, "wuhan-2022 is not the default pack");
    let explain = drg()
        .args(["explain", "--pack", "chs-drg-1.1", "--case"])
        .arg(r#"{"id":"x","sex":1,"age_years":30,"diagnoses":["K35.300"],"procedures":["47.0100"]}"#)
        .output()
        .unwrap();
    assert!(text(&explain.stdout).contains("with CHS-DRG 1.1 (chs-drg-1.1)"), "{}", text(&explain.stdout));
    let lookup = drg().args(["code", "lookup", "--pack", "demo", "K35.800"]).output().unwrap();
    assert!(lookup.status.success());
}

#[test]
fn an_unknown_id_is_refused_with_the_list() {
    let out = drg().args(["group", "--pack", "wuhan-2099"]).arg(example()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("wuhan-2099") && err.contains("chs-drg-2.0") && err.contains("zhejiang-2022"), "{err}");
    let out = drg().env("DRG_PACK", "wuhan-2099").arg("group").arg(example()).output().unwrap();
    assert!(text(&out.stderr).contains("$DRG_PACK"), "{}", text(&out.stderr));
}

#[test]
fn pack_list_shows_every_bundled_pack_with_its_provenance() {
    let out = drg().args(["pack", "list"]).output().unwrap();
    assert!(out.status.success());
    let listing = text(&out.stdout);
    let ids: Vec<&str> = listing.lines().skip(1).take_while(|l| !l.is_empty()).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(ids.len(), 28, "27 packs and demo: {listing}");
    assert_eq!(&ids[..3], ["chs-drg-2.0", "chs-drg-1.1", "chs-drg-1.0"]);
    let wuhan = listing.lines().find(|l| l.starts_with("wuhan-2022")).unwrap();
    let counts: Vec<&str> = wuhan.split_whitespace().skip(1).take(3).collect();
    let pack = drg_packs::open("wuhan-2022").unwrap();
    let c = pack.info().counts;
    assert_eq!(counts, [c.mdc.to_string(), c.adrg.to_string(), c.drg.to_string()]);
    assert!(listing.contains("not official releases"), "{listing}");
    let info = drg().args(["pack", "info", "wuhan-2022"]).output().unwrap();
    let info = text(&info.stdout);
    assert!(info.contains("武汉") && info.contains("OpenDRG") && info.contains("not an official release"), "{info}");
    let notice = drg().args(["pack", "notice"]).output().unwrap();
    assert!(text(&notice.stdout).contains("Apache License"));
    let check = drg().args(["pack", "check", "chs-drg-1.0"]).output().unwrap();
    assert!(text(&check.stdout).contains("26 MDC, 376 ADRG, 618 DRG"), "{}", text(&check.stdout));
}
