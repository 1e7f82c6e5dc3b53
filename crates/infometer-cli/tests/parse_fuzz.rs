//! Property-based fuzzing of the file parsers: arbitrary and mutated bytes never panic.

use infometer_cli::npy::{npy_bytes_f64, parse_npy, parse_safetensors};
use infometer_cli::table_cmd::parse_table;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn npy_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_npy(&bytes);
        let mut with_magic = b"\x93NUMPY\x01\x00".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = parse_npy(&with_magic);
    }

    #[test]
    fn mutated_npy_never_panics(pos in 0usize..200, val in any::<u8>(), cut in 0usize..200) {
        let mut b = npy_bytes_f64(&[3, 4], &[1.5; 12]);
        let p = pos % b.len();
        b[p] = val;
        b.truncate(b.len() - cut.min(b.len()));
        let _ = parse_npy(&b);
    }

    #[test]
    fn safetensors_never_panics(header in "[ -~]{0,120}", tail in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(&tail);
        let _ = parse_safetensors(&b, "x");
        let j = format!("{{\"x\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[0,{}]}}}}", tail.len() / 4, tail.len() / 4 * 4);
        let mut c = (j.len() as u64).to_le_bytes().to_vec();
        c.extend_from_slice(j.as_bytes());
        // the safetensors crate refuses bytes that no tensor covers, so the data end at the tensor
        c.extend_from_slice(&tail[..tail.len() / 4 * 4]);
        let t = parse_safetensors(&c, "x").unwrap();
        prop_assert_eq!(t.data.len(), tail.len() / 4);
    }

    #[test]
    fn table_text_never_panics(text in "[0-9a-z,;. \n#-]{0,200}") {
        let _ = parse_table(&text);
    }
}

#[test]
fn safetensors_with_overlapping_or_uncovered_offsets_is_refused() {
    let file = |j: &str, data: usize| {
        let mut c = (j.len() as u64).to_le_bytes().to_vec();
        c.extend_from_slice(j.as_bytes());
        c.extend(std::iter::repeat_n(0u8, data));
        c
    };
    // two tensors over the same 8 bytes
    let overlap = file(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        8,
    );
    assert!(parse_safetensors(&overlap, "a").is_err());
    // a shape that disagrees with the byte range
    let short = file(
        r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
        8,
    );
    assert!(parse_safetensors(&short, "a").is_err());
    let ok = file(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        8,
    );
    assert_eq!(parse_safetensors(&ok, "a").unwrap().data.len(), 2);
}
