//! cargo-fuzz target: the `.npy`, safetensors and table parsers must never panic on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = infometer_cli::npy::parse_npy(data);
    let _ = infometer_cli::npy::parse_safetensors(data, "logits");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = infometer_cli::table_input::parse_text(text);
        let _ = infometer_cli::table_cmd::parse_table(text);
    }
});
