//! The quick experiments' tables as insta snapshots (rounded values), so they cannot rot.

#[test]
fn quick_tables() {
    for e in infometer_experiments::all(true) {
        let md: String = e.tables.iter().map(|t| t.to_markdown()).collect();
        insta::assert_snapshot!(e.name.clone(), md);
        for (name, svg) in &e.plots {
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{name}"
            );
        }
    }
}
