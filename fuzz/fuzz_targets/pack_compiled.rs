#![no_main]
//! The compiled-pack reader on any bytes. The checksum is set right first, so
//! that the decoder behind it is what gets fuzzed, as a crafted file would.
use drg_fuzz::group_all;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 24 {
        let crc = crc32fast::hash(&bytes[24..]).to_le_bytes();
        bytes[12..16].copy_from_slice(&crc);
        let len = (bytes.len() as u64 - 24).to_le_bytes();
        bytes[16..24].copy_from_slice(&len);
    }
    if let Ok(pack) = drg_core::Pack::from_bytes(&bytes, "fuzz.drgpack") {
        group_all(pack, drg_fuzz::SAMPLE_CSV.as_bytes());
    }
});
