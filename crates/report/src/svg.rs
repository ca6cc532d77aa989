//! The timeline chart as inline SVG: failures per hour, stacked by
//! recipient domain, with vertical markers (vendor claims, ticket events).
//! Hand-written: about a hundred lines, no fonts or assets, prints and
//! works offline, which a charting crate would not make simpler.

use outcry_incident::Failure;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const COLOURS: [&str; 6] = [
    "#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#6e7781",
];
const W: f64 = 900.0;
const H: f64 = 260.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 24.0;

/// An SVG of `failures` per hour stacked by domain (the five largest, the
/// rest as "other"), with `markers` (time, label) as dashed lines.
pub fn timeline(failures: &[&Failure], markers: &[(i64, String)]) -> String {
    if failures.is_empty() {
        return "<p>No failures to chart.</p>".to_string();
    }
    let start = failures
        .iter()
        .map(|f| f.at)
        .min()
        .unwrap_or(0)
        .div_euclid(3600)
        * 3600;
    let end = failures
        .iter()
        .map(|f| f.at)
        .chain(markers.iter().map(|m| m.0))
        .max()
        .unwrap_or(start);
    let hours = ((end - start) / 3600 + 1).max(1) as usize;
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for f in failures {
        *totals.entry(f.recipient_domain.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    // Six colours: six domains by name, or five and "other".
    let named = if ranked.len() <= 6 { 6 } else { 5 };
    let shown: Vec<&str> = ranked.iter().take(named).map(|(d, _)| *d).collect();
    let series = |d: &str| shown.iter().position(|x| *x == d).unwrap_or(5).min(5);
    let mut bins = vec![[0usize; 6]; hours];
    for f in failures {
        let h = ((f.at - start) / 3600) as usize;
        bins[h.min(hours - 1)][series(&f.recipient_domain)] += 1;
    }
    let peak = bins
        .iter()
        .map(|b| b.iter().sum::<usize>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot_w = W - LEFT - 10.0;
    let plot_h = H - TOP - BOTTOM;
    let bar_w = plot_w / hours as f64;
    let x = |t: i64| LEFT + (t - start) as f64 / 3600.0 * bar_w;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {}\" role=\"img\" aria-label=\"Failures per hour by recipient domain\" font-family=\"sans-serif\" font-size=\"11\">",
        H + 24.0 * (shown.len().min(6) as f64 / 3.0).ceil()
    );
    let _ = write!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#8c959f\"/>",
        H - BOTTOM,
        W - 10.0,
        H - BOTTOM
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        LEFT - 4.0,
        TOP + 4.0,
        peak as usize
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        LEFT - 4.0,
        H - BOTTOM
    );
    for (h, bin) in bins.iter().enumerate() {
        let mut y = H - BOTTOM;
        for (k, n) in bin.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let bh = *n as f64 / peak * plot_h;
            y -= bh;
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} failure(s)</title></rect>",
                LEFT + h as f64 * bar_w,
                y,
                (bar_w - 1.0).max(1.0),
                bh,
                COLOURS[k],
                n
            );
        }
    }
    // Day ticks.
    let mut day = (start.div_euclid(86_400) + 1) * 86_400;
    while day <= end {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\" stroke=\"#d0d7de\"/><text x=\"{0:.1}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>",
            x(day),
            TOP,
            H - BOTTOM + 4.0,
            H - BOTTOM + 16.0,
            &crate::utc(day)[..10]
        );
        day += 86_400;
    }
    // Labels go in rows so that markers close in time stay legible: each
    // takes the first row where it does not overlap the previous label
    // (about 6 px per character at this font size), and flips to the left
    // of its line near the right edge.
    let mut sorted: Vec<&(i64, String)> = markers.iter().collect();
    sorted.sort_by_key(|m| m.0);
    let mut row_ends: Vec<f64> = Vec::new();
    for (t, label) in sorted {
        let width = label.chars().count() as f64 * 6.0;
        let right = x(*t) + 3.0 + width <= W;
        let (from, to) = if right {
            (x(*t), x(*t) + 3.0 + width)
        } else {
            (x(*t) - 3.0 - width, x(*t))
        };
        let row = match row_ends.iter().position(|end| *end < from) {
            Some(r) => r,
            None => {
                row_ends.push(f64::MIN);
                row_ends.len() - 1
            }
        };
        row_ends[row] = to + 6.0;
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"><title>{5}</title></line><text x=\"{3:.1}\" y=\"{4}\" fill=\"#cf222e\" text-anchor=\"{6}\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">{5}</text>",
            x(*t),
            TOP,
            H - BOTTOM,
            if right { x(*t) + 3.0 } else { x(*t) - 3.0 },
            TOP - 6.0 + 13.0 * row as f64,
            crate::esc(label),
            if right { "start" } else { "end" }
        );
    }
    // Legend.
    let mut names: Vec<String> = shown.iter().map(|d| d.to_string()).collect();
    if ranked.len() > 6 {
        names.push("other".into());
    }
    for (k, name) in names.iter().enumerate() {
        let lx = LEFT + (k % 3) as f64 * 280.0;
        let ly = H + (k / 3) as f64 * 18.0;
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            ly - 9.0,
            COLOURS[k.min(5)],
            lx + 14.0,
            ly,
            crate::esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::timeline;
    use outcry_incident::Failure;

    #[test]
    fn markers_at_the_same_time_get_their_own_rows() {
        let f = Failure {
            at: 1_793_800_000,
            recipient_domain: "a.example".into(),
            reason: outcry_bounce::Reason::Blocked,
            status: String::new(),
            sending_ip: None,
            blocklist: None,
            rejecting_org: "a.example".into(),
            template: String::new(),
        };
        let at = f.at + 3600;
        let svg = timeline(&[&f], &[(at, "first".into()), (at, "second".into())]);
        let y = |label: &str| {
            let end = svg.find(&format!(">{label}</text>")).unwrap();
            let start = svg[..end].rfind(" y=\"").unwrap() + 4;
            svg[start..start + svg[start..].find('"').unwrap()].to_string()
        };
        assert_ne!(y("first"), y("second"), "{svg}");
    }
}
