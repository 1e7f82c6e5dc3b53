//! Helpers shared by the command-line test families: a scratch folder, running the binary, and the one check of a refusal.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// A fresh folder under the system's temporary folder, unique to this process and `tag`.
pub fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("infometer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary: (success, parsed stdout, stderr).
pub fn run(args: &[&str]) -> (bool, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_infometer"))
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        v,
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs the binary and returns its JSON, failing the test on a non-zero exit.
pub fn ok(args: &[&str]) -> Value {
    let (good, v, err) = run(args);
    assert!(good, "{args:?}: {err}");
    v
}

/// One check per bad input: refused, nothing on stdout, one line on stderr containing `want`.
pub fn refused(args: &[&str], want: &str) {
    let (good, v, err) = run(args);
    assert!(!good, "{args:?} was accepted");
    assert_eq!(v, Value::Null);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(want), "{args:?}: {err} lacks {want:?}");
}

/// A seeded uniform draw in [0, 1).
pub fn lcg(s: &mut u64) -> f64 {
    *s = s
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*s >> 11) as f64 / (1u64 << 53) as f64
}
