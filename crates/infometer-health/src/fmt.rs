//! A small aligned-table formatter for the human-readable reports.

/// Renders rows as an aligned text table under a header.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (j, c) in r.iter().enumerate().take(cols) {
            w[j] = w[j].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut s = String::from("  ");
        for (j, c) in cells.iter().enumerate() {
            let pad = w[j] - c.chars().count();
            if j == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad + 2));
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    out.push_str(&line(w.iter().map(|&n| "-".repeat(n)).collect()));
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}
