//! The evidence packet in a real browser: headless Chromium loads the HTML
//! that `outcry demo` writes, and a probe script appended to a copy reports
//! what the browser laid out. Chromium must be installed (`.ci/run`
//! installs it); the test fails, never skips, without it.

use serde_json::Value;
use std::process::Command;

/// Measures the page as rendered and writes the result into `#probe`.
const PROBE: &str = r#"<script>
window.addEventListener('load', () => {
  const svg = document.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const out = {
    svg_width: box.width,
    svg_height: box.height,
    bars: svg ? svg.querySelectorAll('rect').length : 0,
    markers: svg ? svg.querySelectorAll('line').length : 0,
    overflow: document.documentElement.scrollWidth > window.innerWidth,
    resources: performance.getEntriesByType('resource').map(r => r.name),
    headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
    listed_cells: document.querySelectorAll('td').length,
    text: document.body.innerText,
  };
  const p = document.createElement('pre');
  p.id = 'probe';
  p.textContent = JSON.stringify(out);
  document.body.appendChild(p);
});
</script>"#;

#[test]
fn the_demo_packet_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_outcry"))
        .args(["demo", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("incident.html")).unwrap();
    let probed = html.replace("</body>", &format!("{PROBE}</body>"));
    let page = dir.path().join("probed.html");
    std::fs::write(&page, probed).unwrap();

    let dom = Command::new(outcry_testsupport::chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1100,2000",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe did not run; Chromium printed: {dom}"));
    let json = json
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: Value = serde_json::from_str(&json).unwrap();

    assert!(v["svg_width"].as_f64().unwrap() > 500.0, "{v:#}");
    assert!(v["svg_height"].as_f64().unwrap() > 100.0, "{v:#}");
    assert!(
        v["bars"].as_u64().unwrap() >= 10,
        "one bar per hour with failures: {v:#}"
    );
    assert!(
        v["markers"].as_u64().unwrap() >= 1,
        "claim and ticket markers: {v:#}"
    );
    assert_eq!(v["overflow"], false, "nothing wider than the window: {v:#}");
    assert_eq!(
        v["resources"],
        serde_json::json!([]),
        "self-contained: no external request"
    );
    let headings: Vec<&str> = v["headings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    for want in ["Affected recipient domains", "Sending IPs", "Ticket log"] {
        assert!(
            headings.iter().any(|h| h.starts_with(want)),
            "{want} missing: {headings:?}"
        );
    }
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("40.107.22.93"), "{text}");
    // What the browser shows holds no local part of any address: every
    // address is masked as <address@domain>.
    for (at, _) in text.match_indices('@') {
        assert!(
            text[..at].ends_with("<address"),
            "an unmasked address near {:?}",
            &text[at.saturating_sub(30)..(at + 30).min(text.len())]
        );
    }
}
