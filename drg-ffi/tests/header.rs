//! include/drg.h must be exactly what cbindgen generates from the sources.
//! With DRG_UPDATE_HEADER=1 the test writes it instead.

use std::path::PathBuf;

#[test]
fn the_committed_header_is_up_to_date() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let header_path = crate_dir.join("../include/drg.h");
    let bindings = cbindgen::generate(&crate_dir).expect("cbindgen reads drg-ffi");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    if std::env::var_os("DRG_UPDATE_HEADER").is_some() {
        std::fs::write(&header_path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&header_path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/drg.h is not what cbindgen generates from drg-ffi/src/lib.rs; \
         regenerate it with: DRG_UPDATE_HEADER=1 cargo test -p drg-ffi --test header"
    );
}
