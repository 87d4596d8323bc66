//! report.html: the tables as a page a person reads, in one self-contained
//! file. The charts are SVG drawn here (no script, no network, no fonts to
//! fetch), so the page opens the same offline, in a mail attachment or on an
//! intranet.

use std::fmt::Write;

use super::{Report, Risk, SchemeIndicators, UnitIndicators};
use crate::points::fixed;

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map(|v| fixed(v, decimals)).unwrap_or_else(|| "—".into())
}

fn pct(x: Option<f64>, decimals: usize) -> String {
    x.map(|v| format!("{}%", fixed(v * 100.0, decimals))).unwrap_or_else(|| "—".into())
}

/// A whole number with thousands separators.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn unit_label(u: &UnitIndicators) -> String {
    match &u.dept {
        Some(d) if d.is_empty() => format!("{} · (无科室)", u.hospital),
        Some(d) => format!("{} · {}", u.hospital, d),
        None => u.hospital.clone(),
    }
}

const STYLE: &str = r#"
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --bg:#f5f7fa; --card:#fff; --blue:#2563eb; --teal:#0f766e; --amber:#d97706; --red:#c2410c; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font-family: "Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",system-ui,sans-serif;
  font-size:14px; line-height:1.5; }
header { background:#102a43; color:#fff; padding:28px 40px 22px; }
header h1 { margin:0 0 4px; font-size:26px; font-weight:700; letter-spacing:.5px; }
header p { margin:0; color:#bcccdc; }
main { max-width:1240px; margin:0 auto; padding:24px 32px 48px; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 22px; margin:0 0 20px; }
h2 { font-size:18px; margin:0 0 2px; }
h2 small, th small { font-weight:400; color:var(--muted); font-size:12px; }
.note { color:var(--muted); margin:0 0 12px; font-size:13px; }
.kpis { display:grid; grid-template-columns:repeat(6,1fr); gap:12px; background:none; border:none; padding:0; }
.kpi { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; }
.kpi b { display:block; font-size:24px; font-weight:700; color:#102a43; }
.kpi span { color:var(--muted); font-size:12px; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:20px; background:none; border:none; padding:0; }
.grid2 > div { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 22px; }
svg { display:block; max-width:100%; height:auto; }
#chart-cmi-cost { width:100%; }
svg text { font-family:inherit; fill:var(--ink); }
svg .axis { stroke:#9fb3c8; stroke-width:1; }
svg .grid { stroke:#e4e7eb; stroke-width:1; }
svg .ref { stroke:#486581; stroke-width:1.5; stroke-dasharray:6 4; }
svg .tick { font-size:11px; fill:var(--muted); }
svg .quad { font-size:13px; font-weight:700; }
svg .halo { paint-order:stroke; stroke:#fff; stroke-width:3px; stroke-linejoin:round; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:6px 8px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th { background:#f0f4f8; position:sticky; top:0; font-weight:600; vertical-align:bottom; }
th:first-child, td:first-child, td.text, th.text { text-align:left; }
tbody tr:hover { background:#f8fafc; }
.scroll { max-height:560px; overflow:auto; border:1px solid var(--line); border-radius:6px; }
.tag { display:inline-block; padding:0 8px; border-radius:9px; font-size:12px; }
.risk-low { background:#d1fae5; color:#065f46; } .risk-mid-low { background:#e0f2fe; color:#075985; }
.risk-mid-high { background:#fef3c7; color:#92400e; } .risk-high { background:#fee2e2; color:#991b1b; }
.bar { display:inline-block; height:10px; border-radius:3px; background:var(--amber); vertical-align:middle; }
.warn { color:var(--red); }
details summary { cursor:pointer; font-weight:600; margin:4px 0 10px; }
footer { color:var(--muted); font-size:12px; max-width:1240px; margin:0 auto; padding:0 32px 40px; }
footer dt { font-weight:600; color:var(--ink); margin-top:6px; }
footer dd { margin:0 0 0 1em; }
@media print { body { background:#fff; } section, .kpi, .grid2 > div { break-inside: avoid; } .scroll { max-height:none; overflow:visible; } }
"#;

/// The page: key figures, the CMI × cost-index chart, group rate and
/// low-risk mortality by hospital, the distribution of cost CV over DRGs,
/// the DRGs with the widest costs, and the three tables. `title` names the
/// data (a file name, a period).
pub fn report_html(report: &Report, title: &str) -> String {
    let mut h = String::with_capacity(64 * 1024 + report.drgs.len() * 400);
    let units = if report.by_dept { "科室" } else { "医院" };
    let region_low = page_head(&mut h, report, title);
    charts(&mut h, report, units, region_low);
    hospitals_table(&mut h, report, units);
    scheme_table(&mut h, &report.scheme);
    drgs_table(&mut h, report);
    footer(&mut h);
    h
}

/// The page's head, its key figures and the warning about DRGs without a
/// weight; gives the region's low-risk mortality.
fn page_head(h: &mut String, report: &Report, title: &str) -> Option<f64> {
    let s = &report.scheme;
    let hospitals = {
        let mut ids: Vec<&str> = report.hospitals.iter().map(|u| u.hospital.as_str()).collect();
        ids.dedup();
        ids.len()
    };
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>DRG 评价指标 · {title}</title><style>{STYLE}</style></head>
<body><header><h1>DRG 评价指标报告 <small style="font-weight:400;font-size:16px;color:#9fb3c8">DRG indicators</small></h1>
<p>{title} · {cases} 例出院病例 · {hospitals} 家医院 · {drgs} 个 DRG 组 · drg {version}</p></header><main>
"#,
        title = esc(title),
        cases = count(s.cases),
        drgs = s.drgs_used,
        version = crate::VERSION,
    );

    let low_cases: u64 = report.drgs.iter().filter(|d| d.risk == Risk::Low).map(|d| d.cases).sum();
    let low_deaths: u64 = report.drgs.iter().filter(|d| d.risk == Risk::Low).map(|d| d.deaths).sum();
    let region_low = (low_cases > 0).then(|| low_deaths as f64 / low_cases as f64);
    let kpis = [
        (count(s.cases), "出院病例 cases".to_string()),
        (pct(s.group_rate, 2), "入组率 group rate".to_string()),
        (s.drgs_used.to_string(), "DRG 组数 DRGs used".to_string()),
        (opt(s.riv_cost, 4), "费用 RIV (reduction in variance)".to_string()),
        (pct(region_low, 2), "低风险组死亡率 low-risk mortality".to_string()),
        (s.drgs_cv_over_1.to_string(), "组内费用 CV > 1 的 DRG".to_string()),
    ];
    h.push_str(r#"<section class="kpis" id="kpis">"#);
    for (value, label) in kpis {
        let _ = write!(h, r#"<div class="kpi"><b>{}</b><span>{}</span></div>"#, esc(&value), esc(&label));
    }
    h.push_str("</section>\n");

    if !report.unweighted.is_empty() {
        let n: u64 = report.unweighted.values().sum();
        let list: Vec<String> = report.unweighted.keys().take(20).map(|k| esc(k)).collect();
        let _ = write!(
            h,
            r#"<section><p class="warn">{} 例已入组病例所在的 {} 个 DRG 在权重表中没有权重，未计入总权重与 CMI：{}{}</p></section>"#,
            count(n),
            report.unweighted.len(),
            list.join("、"),
            if report.unweighted.len() > 20 { " …" } else { "" }
        );
    }

    region_low
}

/// CMI × cost index, group rate and low-risk mortality by hospital, the
/// distribution of cost CV and the worst DRGs by it.
fn charts(h: &mut String, report: &Report, units: &str, region_low: Option<f64>) {
    let s = &report.scheme;
    // CMI × cost index.
    let _ = write!(
        h,
        r#"<section><h2>{units}能力与效率：CMI × 费用消耗指数 <small>case-mix index × cost index</small></h2>
<p class="note">横轴 CMI（病例组合指数，技术难度），纵轴费用消耗指数（同组费用相对区域均值）；两条虚线为区域水平 1。右下象限：难度高且费用低于区域。</p>
"#
    );
    scatter(h, report);
    h.push_str("</section>\n");

    h.push_str(r#"<section class="grid2"><div>"#);
    let _ = write!(h, r#"<h2>入组率 <small>group rate = grouped / valid</small></h2><p class="note">虚线为区域入组率 {}。</p>"#, pct(s.group_rate, 2));
    dot_chart(h, report, s.group_rate);
    h.push_str("</div><div>");
    let _ = write!(
        h,
        r#"<h2>低风险组死亡率 <small>low-risk mortality</small></h2><p class="note">低风险 DRG 中的死亡例数 / 病例数；虚线为区域水平 {}。</p>"#,
        pct(region_low, 2)
    );
    low_risk_chart(h, report, region_low);
    h.push_str("</div></section>\n");

    h.push_str(r#"<section class="grid2"><div>"#);
    let _ = write!(
        h,
        r#"<h2>组内费用变异系数分布 <small>cost CV over DRGs</small></h2><p class="note">每个 DRG 一个值（标准差 / 均值）；CV &gt; 1 的 {} 个 DRG 组内费用差异过大，分组区分度不足。</p>"#,
        s.drgs_cv_over_1
    );
    cv_histogram(h, report);
    h.push_str("</div><div>");
    h.push_str(r#"<h2>费用变异最大的 DRG <small>worst DRGs by cost CV</small></h2><p class="note">按 CV 从高到低的前 15 组。</p>"#);
    worst_cv(h, report);
    h.push_str("</div></section>\n");

}

/// The hospitals (or departments) table, as hospitals.csv.
fn hospitals_table(h: &mut String, report: &Report, units: &str) {
    // The tables.
    let _ = write!(h, r#"<section><h2>{units}指标 <small>hospitals.csv</small></h2><div class="scroll"><table id="hospitals"><thead><tr><th>医院<br><small>hospital</small></th>"#);
    if report.by_dept {
        h.push_str(r#"<th class="text">科室<br><small>dept</small></th>"#);
    }
    for (zh, en) in [
        ("病例数", "cases"),
        ("有效病例", "valid"),
        ("入组病例", "grouped"),
        ("入组率", "group_rate"),
        ("DRG 组数", "drg_count"),
        ("总权重", "total_weight"),
        ("CMI", "cmi"),
        ("费用消耗指数", "cost_index"),
        ("时间消耗指数", "time_index"),
        ("低风险病例", "low_risk_cases"),
        ("低风险死亡", "low_risk_deaths"),
        ("低风险组死亡率", "low_risk_mortality"),
    ] {
        let _ = write!(h, "<th>{zh}<br><small>{en}</small></th>");
    }
    h.push_str("</tr></thead><tbody>");
    for u in &report.hospitals {
        let _ = write!(h, "<tr><td>{}</td>", esc(&u.hospital));
        if let Some(d) = &u.dept {
            let _ = write!(h, r#"<td class="text">{}</td>"#, esc(d));
        }
        let flag = |x: Option<f64>| if x.is_some_and(|v| v > 1.0) { r#" class="warn""# } else { "" };
        let _ = write!(
            h,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            count(u.cases),
            count(u.valid),
            count(u.grouped),
            pct(u.group_rate, 2),
            u.drg_count,
            fixed(u.total_weight, 4),
            opt(u.cmi, 4),
            flag(u.cost_index),
            opt(u.cost_index, 4),
            flag(u.time_index),
            opt(u.time_index, 4),
            count(u.low_risk_cases),
            count(u.low_risk_deaths),
            pct(u.low_risk_mortality, 2),
        );
    }
    h.push_str("</tbody></table></div></section>\n");

}

/// The scheme's line, as scheme.csv.
fn scheme_table(h: &mut String, s: &SchemeIndicators) {
    let _ = writeln!(
        h,
        r#"<section><h2>分组方案 <small>scheme.csv</small></h2><table id="scheme"><thead><tr><th>病例数<br><small>cases</small></th><th>入组病例<br><small>grouped</small></th><th>入组率<br><small>group_rate</small></th><th>使用 DRG 组数<br><small>drgs_used</small></th><th>费用 RIV<br><small>riv_cost</small></th><th>住院日 RIV<br><small>riv_los</small></th><th>CV &gt; 1 的组数<br><small>drgs_cv_over_1</small></th></tr></thead><tbody><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></tbody></table></section>"#,
        count(s.cases),
        count(s.grouped),
        pct(s.group_rate, 2),
        s.drgs_used,
        opt(s.riv_cost, 4),
        opt(s.riv_los, 4),
        s.drgs_cv_over_1
    );

}

/// Every DRG, folded, as drgs.csv.
fn drgs_table(h: &mut String, report: &Report) {
    let _ = write!(
        h,
        r#"<section><h2>DRG 指标 <small>drgs.csv</small></h2><details><summary>全部 {} 个 DRG（按编码）</summary><div class="scroll"><table id="drgs"><thead><tr><th>DRG</th><th>病例数<br><small>cases</small></th><th>死亡<br><small>deaths</small></th><th>死亡率<br><small>mortality</small></th><th class="text">死亡风险<br><small>risk</small></th><th>例均费用<br><small>avg_cost</small></th><th>平均住院日<br><small>avg_los</small></th><th>费用 CV<br><small>cost_cv</small></th></tr></thead><tbody>"#,
        report.drgs.len()
    );
    for d in &report.drgs {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="text"><span class="tag risk-{}">{}</span></td><td>{}</td><td>{}</td><td{}>{}</td></tr>"#,
            esc(&d.drg),
            count(d.cases),
            d.deaths,
            pct(Some(d.mortality), 2),
            d.risk.as_str(),
            d.risk.chinese(),
            opt(d.avg_cost, 2),
            opt(d.avg_los, 2),
            if d.cost_cv.is_some_and(|v| v > 1.0) { r#" class="warn""# } else { "" },
            opt(d.cost_cv, 4),
        );
    }
    h.push_str("</tbody></table></div></details></section>\n</main>\n");
}

/// The definitions of the indicators.
fn footer(h: &mut String) {
    h.push_str(
        r#"<footer><dl>
<dt>入组率 group rate</dt><dd>入组病例 / 有效病例（未通过校验的病例计入病例数，不计入有效病例）。</dd>
<dt>CMI</dt><dd>总权重 / 有权重的入组病例数；权重（RW）取自权重表。</dd>
<dt>费用消耗指数、时间消耗指数 cost and time index</dt><dd>Σ 各 DRG 病例数 × (本院该组例均费用 / 区域该组例均费用) / Σ 病例数；住院日同理。区域为输入的全部病例。</dd>
<dt>低风险组死亡率 low-risk mortality</dt><dd>死亡风险为“低”的 DRG（死亡率为 0，或 ln 死亡率的 z 值 &lt; −1）中的死亡例数 / 病例数。</dd>
<dt>RIV、CV</dt><dd>RIV = 1 − 组内离差平方和 / 总离差平方和；CV = 组内标准差 / 组内均值。</dd>
</dl><p>specs/report.md · 由 drg 生成，无外部资源。</p></footer>
</body></html>
"#,
    );
}

/// A symmetric scale around 1 (the region's level) that holds every value.
fn around_one(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let half = values.fold(0.0f64, |m, v| m.max((v - 1.0).abs())) * 1.25;
    let half = half.max(0.05);
    (1.0 - half, 1.0 + half)
}

/// About five round ticks between lo and hi.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if span <= 0.0 || !span.is_finite() {
        return vec![lo];
    }
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| span / s <= 6.0).unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push((t / step).round() * step);
        t += step;
    }
    out
}

fn tick_text(v: f64, step_hint: f64) -> String {
    let decimals = if step_hint >= 1.0 { 0 } else { (-(step_hint.log10().floor()) as usize).min(4) };
    fixed(v, decimals)
}

fn scatter(h: &mut String, report: &Report) {
    let points: Vec<(&UnitIndicators, f64, f64)> =
        report.hospitals.iter().filter_map(|u| Some((u, u.cmi?, u.cost_index?))).collect();
    let (w, ht, ml, mr, mt, mb) = (960.0, 520.0, 64.0, 24.0, 20.0, 52.0);
    let (x0, x1) = around_one(points.iter().map(|p| p.1));
    let (y0, y1) = around_one(points.iter().map(|p| p.2));
    let px = |x: f64| ml + (x - x0) / (x1 - x0) * (w - ml - mr);
    let py = |y: f64| mt + (y1 - y) / (y1 - y0) * (ht - mt - mb);
    let _ = write!(
        h,
        r#"<svg id="chart-cmi-cost" viewBox="0 0 {w} {ht}" width="{w}" height="{ht}" role="img" aria-label="CMI × 费用消耗指数">"#
    );
    let (cx, cy) = (px(1.0), py(1.0));
    let (left, right, top, bottom) = (ml, w - mr, mt, ht - mb);
    // Quadrant backgrounds: right-bottom (harder cases, lower cost) is where
    // a hospital wants to be; left-top is where a bureau looks first.
    let quads = [
        (left, top, cx - left, cy - top, "#fdecea", "技术难度低 · 费用偏高", "quad-low-cmi-high-cost", left + 12.0, top + 22.0, "start", "#b42318"),
        (cx, top, right - cx, cy - top, "#fff7e6", "技术难度高 · 费用偏高", "quad-high-cmi-high-cost", right - 12.0, top + 22.0, "end", "#b54708"),
        (left, cy, cx - left, bottom - cy, "#f1f5f9", "技术难度低 · 费用偏低", "quad-low-cmi-low-cost", left + 12.0, bottom - 12.0, "start", "#475569"),
        (cx, cy, right - cx, bottom - cy, "#e7f6ec", "技术难度高 · 费用偏低", "quad-high-cmi-low-cost", right - 12.0, bottom - 12.0, "end", "#067647"),
    ];
    for (x, y, qw, qh, fill, label, class, lx, ly, anchor, color) in quads {
        let _ = write!(
            h,
            r#"<rect class="quadrant {class}" x="{x:.1}" y="{y:.1}" width="{qw:.1}" height="{qh:.1}" fill="{fill}"/><text class="quad quadrant-label" x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}" style="fill:{color}">{label}</text>"#
        );
    }
    let xt = ticks(x0, x1);
    let xs = if xt.len() > 1 { xt[1] - xt[0] } else { 0.1 };
    for t in &xt {
        let x = px(*t);
        let _ = write!(
            h,
            r#"<line class="grid" x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 16.0,
            tick_text(*t, xs)
        );
    }
    let yt = ticks(y0, y1);
    let ys = if yt.len() > 1 { yt[1] - yt[0] } else { 0.1 };
    for t in &yt {
        let y = py(*t);
        let _ = write!(
            h,
            r#"<line class="grid" x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 4.0,
            tick_text(*t, ys)
        );
    }
    let _ = write!(
        h,
        r#"<line class="ref" x1="{cx:.1}" y1="{top}" x2="{cx:.1}" y2="{bottom}"/><line class="ref" x1="{left}" y1="{cy:.1}" x2="{right}" y2="{cy:.1}"/><rect x="{left}" y="{top}" width="{:.1}" height="{:.1}" fill="none" class="axis"/>"#,
        right - left,
        bottom - top
    );
    let _ = write!(
        h,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" style="font-size:13px">CMI 病例组合指数 →</text><text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle" style="font-size:13px">费用消耗指数 →</text>"#,
        (left + right) / 2.0,
        ht - 10.0,
        (top + bottom) / 2.0
    );
    scatter_points(h, &points, &px, &py);
    h.push_str("</svg>");
    let left_out = report.hospitals.len() - points.len();
    if left_out > 0 {
        let _ = write!(h, r#"<p class="note">{left_out} 个单位没有 CMI 或费用消耗指数（无入组病例或无有效费用），未画出。</p>"#);
    }
}

/// The hospitals' dots of the CMI × cost-index chart, named when there are
/// at most 40.
fn scatter_points(h: &mut String, points: &[(&UnitIndicators, f64, f64)], px: &dyn Fn(f64) -> f64, py: &dyn Fn(f64) -> f64) {
    let label_all = points.len() <= 40;
    for (u, x, y) in points {
        let (sx, sy) = (px(*x), py(*y));
        let name = esc(&unit_label(u));
        let _ = write!(
            h,
            r##"<g class="hospital-point"><title>{name}：CMI {}，费用消耗指数 {}，时间消耗指数 {}，入组病例 {}</title><circle cx="{sx:.1}" cy="{sy:.1}" r="7" fill="#2563eb" fill-opacity="0.85" stroke="#fff" stroke-width="1.5"/>"##,
            fixed(*x, 4),
            fixed(*y, 4),
            opt(u.time_index, 4),
            count(u.grouped)
        );
        if label_all {
            let _ = write!(h, r#"<text class="halo" x="{:.1}" y="{:.1}" style="font-size:12px;font-weight:600">{name}</text>"#, sx + 10.0, sy + 4.0);
        }
        h.push_str("</g>");
    }
}

/// One row per unit: a dot at its group rate on a scale that starts near the
/// lowest rate (rates sit close to 1, bars from 0 would all look alike).
fn dot_chart(h: &mut String, report: &Report, region: Option<f64>) {
    let rows: Vec<(&UnitIndicators, Option<f64>)> = report.hospitals.iter().map(|u| (u, u.group_rate)).collect();
    let lowest = rows.iter().filter_map(|r| r.1).fold(1.0f64, f64::min);
    let x0 = ((lowest - 0.01) * 20.0).floor() / 20.0;
    let x0 = x0.clamp(0.0, 0.95);
    let (w, ml, mr, row) = (460.0, 120.0, 60.0, 24.0);
    let ht = 30.0 + rows.len() as f64 * row + 24.0;
    let px = |x: f64| ml + (x - x0) / (1.0 - x0) * (w - ml - mr);
    let _ = write!(h, r#"<svg id="chart-group-rate" viewBox="0 0 {w} {ht:.0}" width="{w}" height="{ht:.0}" role="img" aria-label="入组率">"#);
    let bottom = ht - 24.0;
    for t in ticks(x0, 1.0) {
        let x = px(t);
        let _ = write!(
            h,
            r#"<line class="grid" x1="{x:.1}" y1="20" x2="{x:.1}" y2="{bottom:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}%</text>"#,
            bottom + 16.0,
            fixed(t * 100.0, 0)
        );
    }
    if let Some(r) = region {
        let x = px(r);
        let _ = write!(h, r#"<line class="ref" x1="{x:.1}" y1="20" x2="{x:.1}" y2="{bottom:.1}"/><text class="tick" x="{x:.1}" y="14" text-anchor="middle">区域</text>"#);
    }
    for (i, (u, rate)) in rows.iter().enumerate() {
        let y = 30.0 + i as f64 * row + row / 2.0;
        let _ = write!(h, r#"<text x="{:.1}" y="{:.1}" text-anchor="end" style="font-size:12px">{}</text>"#, ml - 8.0, y + 4.0, esc(&unit_label(u)));
        if let Some(r) = rate {
            let x = px(*r);
            let _ = write!(
                h,
                r##"<g class="rate-point"><title>{}：入组率 {}</title><line x1="{ml}" y1="{y:.1}" x2="{x:.1}" y2="{y:.1}" stroke="#bcccdc" stroke-width="2"/><circle cx="{x:.1}" cy="{y:.1}" r="6" fill="#0f766e"/><text class="halo" x="{:.1}" y="{:.1}" style="font-size:11px">{}</text></g>"##,
                esc(&unit_label(u)),
                pct(Some(*r), 2),
                x + 9.0,
                y + 4.0,
                pct(Some(*r), 2)
            );
        }
    }
    h.push_str("</svg>");
}

fn low_risk_chart(h: &mut String, report: &Report, region: Option<f64>) {
    let rows: Vec<(&UnitIndicators, Option<f64>)> = report.hospitals.iter().map(|u| (u, u.low_risk_mortality)).collect();
    let top = rows.iter().filter_map(|r| r.1).chain(region).fold(0.0f64, f64::max);
    let x1 = if top > 0.0 { top * 1.2 } else { 0.01 };
    let (w, ml, mr, row) = (460.0, 120.0, 60.0, 24.0);
    let ht = 30.0 + rows.len() as f64 * row + 24.0;
    let px = |x: f64| ml + x / x1 * (w - ml - mr);
    let bottom = ht - 24.0;
    let _ = write!(h, r#"<svg id="chart-low-risk" viewBox="0 0 {w} {ht:.0}" width="{w}" height="{ht:.0}" role="img" aria-label="低风险组死亡率">"#);
    let t = ticks(0.0, x1);
    let step = if t.len() > 1 { (t[1] - t[0]) * 100.0 } else { 1.0 };
    for v in t {
        let x = px(v);
        let _ = write!(
            h,
            r#"<line class="grid" x1="{x:.1}" y1="20" x2="{x:.1}" y2="{bottom:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}%</text>"#,
            bottom + 16.0,
            tick_text(v * 100.0, step)
        );
    }
    if let Some(r) = region {
        let x = px(r);
        let _ = write!(h, r#"<line class="ref" x1="{x:.1}" y1="20" x2="{x:.1}" y2="{bottom:.1}"/><text class="tick" x="{x:.1}" y="14" text-anchor="middle">区域</text>"#);
    }
    for (i, (u, m)) in rows.iter().enumerate() {
        let y = 30.0 + i as f64 * row;
        let _ = write!(h, r#"<text x="{:.1}" y="{:.1}" text-anchor="end" style="font-size:12px">{}</text>"#, ml - 8.0, y + row / 2.0 + 4.0, esc(&unit_label(u)));
        let label = match m {
            Some(v) => format!("{}（{}/{}）", pct(Some(*v), 2), u.low_risk_deaths, u.low_risk_cases),
            None => "无低风险病例".into(),
        };
        let v = m.unwrap_or(0.0);
        let color = if region.is_some_and(|r| v > r) { "#c2410c" } else { "#2563eb" };
        let _ = write!(
            h,
            r#"<g class="bar"><title>{}：{}</title><rect x="{ml}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3" fill="{color}"/><text class="halo" x="{:.1}" y="{:.1}" style="font-size:11px">{}</text></g>"#,
            esc(&unit_label(u)),
            esc(&label),
            y + 4.0,
            (px(v) - ml).max(0.0),
            row - 8.0,
            px(v) + 6.0,
            y + row / 2.0 + 4.0,
            esc(&label)
        );
    }
    h.push_str("</svg>");
}

fn cv_histogram(h: &mut String, report: &Report) {
    // Bins of 0.1 up to 2, then one for 2 and above.
    let mut bins = [0u64; 21];
    for cv in report.drgs.iter().filter_map(|d| d.cost_cv) {
        let i = ((cv * 10.0).floor().max(0.0) as usize).min(20);
        bins[i] += 1;
    }
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (w, ht, ml, mr, mt, mb) = (460.0, 400.0, 44.0, 12.0, 24.0, 44.0);
    let bw = (w - ml - mr) / bins.len() as f64;
    let py = |n: f64| mt + (1.0 - n / max) * (ht - mt - mb);
    let bottom = ht - mb;
    let _ = write!(h, r#"<svg id="chart-cv" viewBox="0 0 {w} {ht}" width="{w}" height="{ht}" role="img" aria-label="费用 CV 分布">"#);
    for t in ticks(0.0, max) {
        let y = py(t);
        let _ = write!(
            h,
            r#"<line class="grid" x1="{ml}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            w - mr,
            ml - 6.0,
            y + 4.0,
            fixed(t, 0)
        );
    }
    for (i, n) in bins.iter().enumerate() {
        let x = ml + i as f64 * bw;
        let y = py(*n as f64);
        let range = if i == 20 { "≥ 2.0".to_string() } else { format!("{}–{}", fixed(i as f64 / 10.0, 1), fixed((i + 1) as f64 / 10.0, 1)) };
        let fill = if i >= 10 { "#d97706" } else { "#2563eb" };
        let _ = write!(
            h,
            r#"<g class="bar cv-bin"><title>CV {range}：{n} 个 DRG</title><rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/></g>"#,
            x + 1.0,
            bw - 2.0,
            bottom - y
        );
    }
    for i in (0..=20).step_by(5) {
        let x = ml + i as f64 * bw;
        let label = if i == 20 { "2.0+".to_string() } else { fixed(i as f64 / 10.0, 1) };
        let _ = write!(h, r#"<text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#, bottom + 16.0);
    }
    let x = ml + 10.0 * bw;
    let _ = write!(
        h,
        r#"<line class="ref" x1="{x:.1}" y1="{mt}" x2="{x:.1}" y2="{bottom}"/><text class="tick" x="{:.1}" y="{:.1}">CV = 1</text><line class="axis" x1="{ml}" y1="{bottom}" x2="{:.1}" y2="{bottom}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" style="font-size:12px">组内费用 CV</text><text transform="translate(12 {:.1}) rotate(-90)" text-anchor="middle" style="font-size:12px">DRG 数</text>"#,
        x + 4.0,
        mt + 10.0,
        w - mr,
        (ml + w - mr) / 2.0,
        ht - 8.0,
        (mt + bottom) / 2.0
    );
    h.push_str("</svg>");
}

fn worst_cv(h: &mut String, report: &Report) {
    let mut by_cv: Vec<(&super::DrgIndicators, f64)> = report.drgs.iter().filter_map(|d| Some((d, d.cost_cv?))).collect();
    by_cv.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.drg.cmp(&b.0.drg)));
    let top = by_cv.first().map_or(1.0, |x| x.1).max(1e-9);
    h.push_str(r#"<table id="worst-cv"><thead><tr><th>DRG</th><th>病例数</th><th>例均费用</th><th class="text">费用 CV</th></tr></thead><tbody>"#);
    for (d, cv) in by_cv.iter().take(15) {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="text"><span class="bar" style="width:{:.0}px;background:{}"></span> {}</td></tr>"#,
            esc(&d.drg),
            count(d.cases),
            opt(d.avg_cost, 2),
            cv / top * 120.0,
            if *cv > 1.0 { "#d97706" } else { "#2563eb" },
            fixed(*cv, 4)
        );
    }
    h.push_str("</tbody></table>");
}
