//! Reading the estimator commands' sample tables: a `.npy` of little-endian f64 read straight into the table, against the same values big-endian (read whole, then decoded: the path every other dtype takes), at 10 000 and 1 000 000 rows of 2 columns.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use infometer_cli::table_input::read_table;

/// A `.npy` version 1 file of `rows` × 2 values as `descr` (`<f8` or `>f8`).
fn npy(descr: &str, rows: usize) -> Vec<u8> {
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, 2), }}");
    dict.push_str(&" ".repeat(127 - 10 - dict.len()));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    for i in 0..2 * rows {
        let v = (i as f64 * 0.618_033_988_7).sin();
        out.extend_from_slice(&if descr == ">f8" {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    out
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("infometer-bench-tables-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = c.benchmark_group("read_table_npy");
    g.sample_size(20);
    for rows in [10_000usize, 1_000_000] {
        for (name, descr) in [("<f8 direct", "<f8"), (">f8 decoded", ">f8")] {
            let path = dir.join(format!("{rows}-{}.npy", &descr[..1] == "<"));
            std::fs::write(&path, npy(descr, rows)).unwrap();
            let path = path.to_str().unwrap().to_string();
            g.bench_with_input(BenchmarkId::new(name, rows), &path, |b, p| {
                b.iter(|| read_table(p, None).unwrap())
            });
        }
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
