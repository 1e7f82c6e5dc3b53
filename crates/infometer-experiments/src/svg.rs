//! Minimal SVG charts (line chart, heat map, histogram) written directly, so plots need no font or graphics dependency.

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The opening `<svg>` tag, a white background and the centred title.
fn open(w: f64, h: f64, title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12"><rect width="{w}" height="{h}" fill="white"/><text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        w / 2.0,
        esc(title)
    )
}

const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// A line chart: each series is (label, points); x on a log10 axis when `log_x`.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_x: bool,
) -> String {
    let (w, h, l, r, t, b) = (640.0, 400.0, 70.0, 160.0, 40.0, 50.0);
    let fx = |x: f64| if log_x { x.log10() } else { x };
    let pts: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.1.iter().map(|&(x, y)| (fx(x), y)))
        .collect();
    let (mut x0, mut x1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
        (a.0.min(p.0), a.1.max(p.0))
    });
    let (mut y0, mut y1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
        (a.0.min(p.1), a.1.max(p.1))
    });
    if x1 <= x0 {
        x1 = x0 + 1.0;
        x0 -= 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
        y0 -= 1.0;
    }
    let pad = 0.05 * (y1 - y0);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let sx = |x: f64| l + (fx(x) - x0) / (x1 - x0) * (w - l - r);
    let sy = |y: f64| h - b - (y - y0) / (y1 - y0) * (h - t - b);
    let mut s = open(w, h, title);
    s += &format!(
        r#"<line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{l}" y1="{t}" x2="{l}" y2="{}" stroke="black"/>"#,
        h - b,
        w - r,
        h - b,
        h - b
    );
    for i in 0..=4 {
        let yv = y0 + (y1 - y0) * i as f64 / 4.0;
        s += &format!(
            r#"<text x="{}" y="{}" text-anchor="end">{:.3}</text>"#,
            l - 5.0,
            sy(yv) + 4.0,
            yv
        );
    }
    let xs: Vec<f64> = {
        let mut v: Vec<f64> = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    for x in xs {
        s += &format!(
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            sx(x),
            h - b + 16.0,
            x
        );
    }
    if y0 < 0.0 && y1 > 0.0 {
        s += &format!(
            r##"<line x1="{l}" y1="{0}" x2="{1}" y2="{0}" stroke="#999" stroke-dasharray="4"/>"##,
            sy(0.0),
            w - r
        );
    }
    for (i, (label, p)) in series.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let path: Vec<String> = p
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        s += &format!(
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        s += &format!(
            r#"<text x="{}" y="{}" fill="{c}">{}</text>"#,
            w - r + 10.0,
            t + 18.0 * (i + 1) as f64,
            esc(label)
        );
    }
    s += &format!(
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (l + w - r) / 2.0,
        h - 10.0,
        esc(x_label)
    );
    s += &format!(
        r#"<text x="15" y="{}" transform="rotate(-90 15 {})" text-anchor="middle">{}</text>"#,
        h / 2.0,
        h / 2.0,
        esc(y_label)
    );
    s + "</svg>\n"
}

/// A heat map of values with row and column labels; cells coloured by `value` on [lo, hi].
pub fn heatmap(
    title: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<f64>],
    lo: f64,
    hi: f64,
) -> String {
    let (cw, ch, l, t) = (90.0, 26.0, 230.0, 90.0);
    let w = l + cw * cols.len() as f64 + 20.0;
    let h = t + ch * rows.len() as f64 + 20.0;
    let mut s = open(w, h, title);
    for (j, c) in cols.iter().enumerate() {
        s += &format!(
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            l + cw * (j as f64 + 0.5),
            t - 10.0,
            esc(c)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = t + ch * i as f64;
        s += &format!(
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            l - 6.0,
            y + ch * 0.65,
            esc(r)
        );
        for (j, &v) in values[i].iter().enumerate() {
            let x = l + cw * j as f64;
            let f = if v.is_finite() {
                ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            // white (good) to red (bad)
            let g = (255.0 * (1.0 - f)) as u8;
            s += &format!(
                r#"<rect x="{x}" y="{y}" width="{cw}" height="{ch}" fill="rgb(255,{g},{g})" stroke="white"/>"#
            );
            let txt = if v.is_finite() {
                format!("{v:.2}")
            } else {
                "fail".into()
            };
            s += &format!(
                r#"<text x="{}" y="{}" text-anchor="middle">{txt}</text>"#,
                x + cw / 2.0,
                y + ch * 0.65
            );
        }
    }
    s + "</svg>\n"
}

/// A histogram of `values` with a vertical marker at `marker`.
pub fn histogram(title: &str, values: &[f64], marker: f64, bins: usize) -> String {
    let (w, h, l, r, t, b) = (560.0, 320.0, 50.0, 20.0, 40.0, 40.0);
    let lo = values.iter().copied().fold(marker, f64::min);
    let hi = values.iter().copied().fold(marker, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mut counts = vec![0usize; bins];
    for &v in values {
        let k = (((v - lo) / span) * bins as f64).floor() as usize;
        counts[k.min(bins - 1)] += 1;
    }
    let cmax = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let sx = |v: f64| l + (v - lo) / span * (w - l - r);
    let mut s = open(w, h, title);
    let bw = (w - l - r) / bins as f64;
    for (k, &c) in counts.iter().enumerate() {
        let bh = c as f64 / cmax * (h - t - b);
        s += &format!(
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#9ecae1" stroke="white"/>"##,
            l + k as f64 * bw,
            h - b - bh,
            bw,
            bh
        );
    }
    s += &format!(
        r##"<line x1="{0:.1}" y1="{t}" x2="{0:.1}" y2="{1}" stroke="#d62728" stroke-width="2"/>"##,
        sx(marker),
        h - b
    );
    s += &format!(
        r#"<text x="{l}" y="{}">{lo:.4}</text><text x="{}" y="{}" text-anchor="end">{hi:.4}</text>"#,
        h - 15.0,
        w - r,
        h - 15.0
    );
    s + "</svg>\n"
}
