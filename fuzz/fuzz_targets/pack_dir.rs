#![no_main]
//! Pack directories with links and odd files (issue 15): the demo pack with
//! some of its files replaced by a link inside the pack, a link leaving the
//! pack, a dangling link, a link loop, a directory, an empty file, or fuzzed
//! bytes, a link to /dev/zero, a FIFO in the pack, or a link to a FIFO.
//! Opening never panics or hangs (the size and file-type checks of issue 15
//! items 7–8 refuse the last three); a pack that opens groups the sample
//! cases.
use drg_core::Pack;
use drg_fuzz::{demo_files, group_all, SAMPLE_CSV};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choices, rest)) = data.split_first() else { return };
    let files = demo_files();
    let dir = std::env::temp_dir().join(format!("drg-fuzz-pack-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("codes")).unwrap();
    let outside = std::env::temp_dir().join(format!("drg-fuzz-outside-{}.tsv", std::process::id()));
    std::fs::write(&outside, rest).unwrap();
    // Which file is odd, and how: one byte chooses both.
    let odd = choices as usize % files.len();
    let how = (choices as usize / files.len()) % 11;
    for (i, (name, text)) in files.iter().enumerate() {
        let path = dir.join(name);
        if i != odd {
            std::fs::write(&path, text).unwrap();
            continue;
        }
        match how {
            0 => std::fs::write(&path, rest).unwrap(),
            1 => std::fs::write(&path, "").unwrap(),
            2 => std::fs::create_dir_all(&path).unwrap(),
            3 => std::os::unix::fs::symlink(&outside, &path).unwrap(),
            4 => std::os::unix::fs::symlink(dir.join("no-such-file"), &path).unwrap(),
            5 => std::os::unix::fs::symlink(&path, &path).unwrap(),
            6 => {
                std::fs::write(dir.join("real.tsv"), text).unwrap();
                // A relative link to a file inside the pack: allowed.
                let target = if name.starts_with("codes/") { "../real.tsv" } else { "real.tsv" };
                std::os::unix::fs::symlink(target, &path).unwrap();
            }
            7 => std::os::unix::fs::symlink(&dir, &path).unwrap(),
            8 => std::os::unix::fs::symlink("/dev/zero", &path).unwrap(),
            9 => make_fifo(&path),
            _ => {
                let fifo = dir.join("fifo");
                make_fifo(&fifo);
                std::os::unix::fs::symlink("fifo", &path).unwrap();
            }
        }
    }
    if let Ok(pack) = Pack::open(&dir) {
        group_all(pack, SAMPLE_CSV.as_bytes());
    }
    let _ = std::fs::remove_dir_all(&dir);
});

/// A named pipe with no writer: reading it would block for ever.
fn make_fifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}
