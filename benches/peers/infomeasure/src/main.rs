//! Times infomeasure's KSG-1 (k = 3, max-norm, its own 1e-10 noise) on an .npy file of n × (dx + dy) float64 columns: `infomeasure-peer FILE DX DY`; prints the estimate.

use infomeasure::estimators::GlobalValue;
use infomeasure::estimators::mutual_information::MutualInformation;
use ndarray::Array2;

/// A C-order little-endian float64 .npy of shape (n, d).
fn read_npy(path: &str) -> (usize, usize, Vec<f64>) {
    let b = std::fs::read(path).expect("read the file");
    let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
    let header = std::str::from_utf8(&b[10..10 + hl]).expect("header");
    assert!(header.contains("'<f8'") && header.contains("'fortran_order': False"));
    let shape = &header[header.find("'shape': (").expect("shape") + 10..];
    let dims: Vec<usize> = shape[..shape.find(')').expect(")")]
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let data: Vec<f64> = b[10 + hl..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    (dims[0], dims[1], data)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (n, d, data) = read_npy(&a[1]);
    let (dx, dy): (usize, usize) = (a[2].parse().expect("DX"), a[3].parse().expect("DY"));
    assert_eq!(dx + dy, d);
    let all = Array2::from_shape_vec((n, d), data).expect("shape");
    let x = all.slice(ndarray::s![.., ..dx]).to_owned();
    let y = all.slice(ndarray::s![.., dx..]).to_owned();
    let series = [x, y];
    let v = match (dx, dy) {
        (1, 1) => MutualInformation::nd_ksg::<2, 1, 1>(&series, 3, 1e-10).global_value(),
        (4, 4) => MutualInformation::nd_ksg::<8, 4, 4>(&series, 3, 1e-10).global_value(),
        (5, 5) => MutualInformation::nd_ksg::<10, 5, 5>(&series, 3, 1e-10).global_value(),
        other => panic!("no build for {other:?}"),
    };
    println!("{v}");
}
