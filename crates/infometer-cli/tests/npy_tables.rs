//! `.npy` sample tables: little-endian f64 read straight into the table equals the same values decoded from a big-endian copy (the whole-file path, its twin), at every size and header length, and bad files get that path's messages.

mod common;

use std::path::Path;

use infometer_cli::table_input::{Table, read_table};

/// A `.npy` version 1 file of `values` in `shape`, as `descr` (`<f8` or `>f8`), its header
/// padded with spaces to `head` bytes in all (a multiple of 64, as numpy pads), with
/// `extra` bytes after the data.
fn npy(descr: &str, shape: &[usize], values: &[f64], head: usize, extra: usize) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let dims = if shape.len() == 1 {
        format!("{},", dims[0])
    } else {
        dims.join(", ")
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}");
    dict.push_str(&" ".repeat(head - 10 - dict.len() - 1));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    for v in values {
        out.extend_from_slice(&if descr == ">f8" {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    out.extend(std::iter::repeat_n(0xAB, extra));
    out
}

/// Writes `bytes` as `name` in `dir` and reads it back as a table.
fn read(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<Table> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    read_table(path.to_str().unwrap(), None)
}

/// The same values as `<f8` (read straight into the table) and as `>f8` (read whole and
/// decoded) give equal tables, whatever the size and the header's length.
fn check(dir: &Path, shape: &[usize], head: usize, extra: usize) {
    let count: usize = shape.iter().product();
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let values: Vec<f64> = (0..count)
        .map(|_| common::lcg(&mut s) * 1e3 - 5e2)
        .collect();
    let tag = format!("{shape:?} {head} {extra}");
    let direct = read(dir, "le.npy", &npy("<f8", shape, &values, head, extra)).expect(&tag);
    let decoded = read(dir, "be.npy", &npy(">f8", shape, &values, head, extra)).expect(&tag);
    assert_eq!(direct, decoded, "{tag}");
    assert_eq!(direct.n_rows(), shape[0], "{tag}");
    assert_eq!(
        direct.row(shape[0] - 1)[0],
        values[count - shape.get(1).unwrap_or(&1)]
    );
}

#[test]
fn direct_f64_reads_equal_the_decoded_twin() {
    // data inside the first 4 KiB read with the header, across its end, and far past it; a
    // header of 4 KiB and one past it (read whole instead); bytes after the data
    let dir = common::tmpdir("npy-direct");
    for shape in [
        &[1usize][..],
        &[3, 2],
        &[255, 2],
        &[256, 2],
        &[10_000, 3],
        &[7],
    ] {
        for (head, extra) in [(128, 0), (128, 5), (4096, 0), (8192, 3)] {
            check(&dir, shape, head, extra);
        }
    }
}

#[test]
fn bad_npy_tables_get_the_decoding_paths_messages() {
    let dir = common::tmpdir("npy-bad");
    let values = [1.0, 2.0, 3.0, 4.0];
    let mut short = npy("<f8", &[2, 2], &values, 128, 0);
    short.truncate(short.len() - 3);
    let err = read(&dir, "short.npy", &short).unwrap_err().to_string();
    assert!(err.contains("data holds 29 bytes, shape needs 32"), "{err}");
    let nan = npy("<f8", &[2, 2], &[1.0, 2.0, f64::NAN, 4.0], 128, 0);
    let err = read(&dir, "nan.npy", &nan).unwrap_err().to_string();
    assert!(err.contains("row 1, column 0 is NaN"), "{err}");
    let err = read(&dir, "empty.npy", &npy("<f8", &[0, 2], &[], 128, 0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty array"), "{err}");
    let err = read(&dir, "magic.npy", b"\x93NUMPX\x01\x00")
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing magic string"), "{err}");
    let err = read(&dir, "cube.npy", &npy("<f8", &[1, 2, 2], &values, 128, 0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected a 1-D or 2-D array"), "{err}");
    let missing = dir.join("absent.npy");
    let err = read_table(missing.to_str().unwrap(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read"), "{err}");
}
