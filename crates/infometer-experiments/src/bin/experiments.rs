//! `infometer-experiments [--quick] [--only eN]`: runs E1–E4 (or one of them) and writes markdown, JSON and SVG to target/experiments/.

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .map(|i| args.get(i + 1).cloned().unwrap_or_default());
    if let Some(o) = only
        .as_ref()
        .filter(|o| !matches!(o.as_str(), "e1" | "e2" | "e3" | "e4"))
    {
        eprintln!("error: --only {o}: expected e1, e2, e3 or e4");
        std::process::exit(1);
    }
    let dir = std::env::var("INFOMETER_EXPERIMENTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/experiments")
        });
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: {}: {e}", dir.display());
        std::process::exit(1);
    }
    let mut summary = String::from("# infometer experiments\n\n");
    for (i, run) in [
        infometer_experiments::e1_ksg_bias as fn(bool) -> infometer_experiments::Experiment,
        infometer_experiments::e2_benchmark,
        infometer_experiments::e3_pitfalls,
        infometer_experiments::e4_physiology,
    ]
    .iter()
    .enumerate()
    {
        if only.as_ref().is_some_and(|o| *o != format!("e{}", i + 1)) {
            continue;
        }
        let t = std::time::Instant::now();
        let e = run(quick);
        eprintln!(
            "E{} {} done in {:.1} s",
            i + 1,
            e.name,
            t.elapsed().as_secs_f64()
        );
        let md: String = e.tables.iter().map(|t| t.to_markdown() + "\n").collect();
        summary += &md;
        let write = |name: &str, text: &str| {
            if let Err(err) = std::fs::write(dir.join(name), text) {
                eprintln!("error: {name}: {err}");
                std::process::exit(1);
            }
        };
        write(&format!("{}.md", e.name), &md);
        write(
            &format!("{}.json", e.name),
            &serde_json::to_string_pretty(&e.json).unwrap_or_default(),
        );
        for (name, svg) in &e.plots {
            write(name, svg);
        }
    }
    print!("{summary}");
    eprintln!("written to {}", dir.display());
}
