#include "report/html_report_assets.hpp"

namespace gmsim {

std::string_view html_report_css() {
  return R"css(:root { --bg: #f6f7f9; --fg: #1b1d21; --muted: #5f6570; --card: #fff; --line: #d5d9e0;
  --grid: #eceef2; --green: #1e7e34; --red: #c5221f; --amber: #a15c00; --orange: #e8710a;
  --grey: #8a9099; --blue: #1a66c9; --purple: #8e24aa; --ok-bg: #e7f5ea; --bad-bg: #fdeceb;
  --warn-bg: #fff4e0; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #15171a; --fg: #e8eaed; --muted: #9aa0a8; --card: #1e2125; --line: #3a3f46;
    --grid: #2a2e33; --green: #5bb974; --red: #f28b82; --amber: #fbc15e; --ok-bg: #16301d;
    --bad-bg: #3a1a19; --warn-bg: #362a12; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
header { padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
header .title { font-weight: 700; font-size: 17px; }
header .sub { color: var(--muted); font-size: 14px; overflow-wrap: anywhere; }
main { max-width: 1240px; margin: 0 auto; padding: 18px 24px 40px; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 0 0 24px; }
h2 { font-size: 16px; margin: 26px 0 10px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
.red { color: var(--red); } .green { color: var(--green); }
.note { color: var(--muted); }
.verdict { border: 2px solid; border-radius: 10px; padding: 16px 22px; }
.verdict h1 { margin: 0 0 8px; font-size: 27px; line-height: 1.25; }
.verdict ul { margin: 0; padding-left: 20px; }
.verdict.ok { border-color: var(--green); background: var(--ok-bg); }
.verdict.ok h1 { color: var(--green); }
.verdict.bad { border-color: var(--red); background: var(--bad-bg); }
.verdict.bad h1 { color: var(--red); }
.verdict.warn { border-color: var(--amber); background: var(--warn-bg); }
.verdict.warn h1 { color: var(--amber); }
.tiles .row { display: flex; flex-wrap: wrap; gap: 10px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 8px 14px; min-width: 140px; }
.tile .value { font-size: 24px; font-weight: 700; font-variant-numeric: tabular-nums; }
.tile .label { color: var(--muted); font-size: 13px; }
.tile.minor .value { font-size: 18px; font-weight: 600; }
.tile.delivered .value { color: var(--green); }
.tile.rejected .value { color: var(--orange); }
.tile.failed .value, .tile.lost .value { color: var(--red); }
.tile.unsent .value { color: var(--grey); }
.tile.lost { border: 2px solid var(--red); background: var(--bad-bg); }
figure.chart { position: relative; margin: 0 0 14px; background: var(--card);
  border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 8px; min-width: 0; }
figcaption { font-weight: 600; }
figcaption .explain { display: block; font-weight: 400; color: var(--muted); font-size: 13px; }
.plot { min-height: 60px; color: var(--muted); }
.plot svg { display: block; width: 100%; height: auto; }
.plot svg text { fill: var(--muted); font-size: 11px; font-family: inherit; }
.plot svg .grid { stroke: var(--grid); stroke-width: 1; }
.plot svg .axis { stroke: var(--line); stroke-width: 1; }
.plot svg .cursor { stroke: var(--muted); stroke-dasharray: 3 3; }
.legend { font-size: 13px; display: flex; flex-wrap: wrap; gap: 4px 18px; margin-top: 4px; }
.legend .key { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  margin-right: 5px; vertical-align: -1px; }
.tip { position: absolute; z-index: 2; pointer-events: none; display: none; white-space: nowrap;
  background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 6px 9px;
  font-size: 12px; box-shadow: 0 2px 8px rgba(0,0,0,.15); }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 4px 10px; text-align: left; border-bottom: 1px solid var(--line);
  vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.list { width: 100%; background: var(--card); }
table.kv th { color: var(--muted); font-weight: 500; }
tr.fail td { color: var(--red); font-weight: 600; } tr.pass td:nth-child(2) { color: var(--green); }
table.bars { width: 100%; background: var(--card); }
table.bars th { width: 14em; }
table.bars td.bar { width: 60%; }
table.bars td.bar div { height: 14px; border-radius: 3px; min-width: 2px; }
.bar .delivered { background: var(--green); } .bar .rejected { background: var(--orange); }
.bar .failed { background: var(--red); }
#lost-rows .scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); }
#lost-rows td:nth-child(3) { overflow-wrap: anywhere; }
)css";
}

std::string_view html_report_js() {
  return R"js((function () {
'use strict';
const S = JSON.parse(document.getElementById('summary').textContent);
const TS = S.timeseries || { bucket_ms: 1000, buckets: [] };
const B = TS.buckets || [];
const WS = (TS.bucket_ms || 1000) / 1000;  // bucket width, seconds
const C = { delivered: '#2e8b3e', rejected: '#e8710a', failed: '#d93025', unsent: '#8a9099',
            p50: '#1a66c9', p99: '#8e24aa', uncorrected: '#9aa7b5' };

function fmtMs(ms) {
  if (ms === 0) return '0';
  const a = Math.abs(ms);
  if (a < 1) return +(ms * 1000).toPrecision(3) + 'µs';
  if (a < 1000) return +ms.toPrecision(3) + 'ms';
  if (a < 60000) return +(ms / 1000).toPrecision(3) + 's';
  const s = Math.round(ms / 1000);
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60 ? String(s % 60).padStart(2, '0') + 's' : '');
  return Math.floor(s / 3600) + 'h' + (s % 3600 ? String(Math.floor(s % 3600 / 60)).padStart(2, '0') + 'm' : '');
}
function fmtNum(n) {
  const a = Math.abs(n);
  if (a >= 1e9) return +(n / 1e9).toPrecision(3) + 'G';
  if (a >= 1e6) return +(n / 1e6).toPrecision(3) + 'M';
  if (a >= 1e4) return +(n / 1e3).toPrecision(3) + 'k';
  return +n.toPrecision(4) + '';
}
function fmtTime(sec) { return sec === 0 ? '0' : fmtMs(sec * 1000); }
function esc(s) {
  return String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

// 0 .. top in 1-2-5 steps, about n of them.
function niceTicks(max, n) {
  if (!(max > 0)) max = 1;
  const raw = max / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw);
  const top = Math.ceil(max / step - 1e-9) * step;
  const values = [];
  for (let v = 0; v <= top + step / 2; v += step) values.push(+v.toPrecision(12));
  return { top, values };
}
function timeTicks(span) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  const step = steps.find(s => span / s <= 10) || 86400 * Math.ceil(span / 864000);
  const out = [];
  for (let v = 0; v <= span + 1e-9; v += step) out.push({ v, label: fmtTime(v) });
  return out;
}

// A plot area: axes, grid and labels; series are added as SVG strings.
class Frame {
  constructor(fig, xmax, xticks, ymax, yfmt) {
    this.fig = fig;
    this.plot = fig.querySelector('.plot');
    this.w = Math.max(this.plot.clientWidth || 0, 360);
    this.h = 230;
    this.m = { l: 62, r: 16, t: 10, b: 26 };
    this.xmax = xmax > 0 ? xmax : 1;
    const yt = niceTicks(ymax, 5);
    this.ytop = yt.top;
    this.parts = [];
    this.points = 0;
    const x0 = this.m.l, x1 = this.w - this.m.r, y1 = this.h - this.m.b;
    for (const v of yt.values) {
      const y = this.sy(v).toFixed(1);
      this.parts.push(`<line class="grid" x1="${x0}" x2="${x1}" y1="${y}" y2="${y}"/>` +
                      `<text x="${x0 - 6}" y="${y}" dy="4" text-anchor="end">${esc(yfmt(v))}</text>`);
    }
    for (const t of xticks) {
      const x = this.sx(t.v).toFixed(1);
      // The last label would overflow the right edge when centred.
      const anchor = t.v >= this.xmax * 0.97 ? 'end' : 'middle';
      this.parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${this.m.t}" y2="${y1}"/>` +
                      `<text x="${x}" y="${y1 + 16}" text-anchor="${anchor}">${esc(t.label)}</text>`);
    }
    this.parts.push(`<line class="axis" x1="${x0}" x2="${x1}" y1="${y1}" y2="${y1}"/>`);
  }
  sx(v) { return this.m.l + v / this.xmax * (this.w - this.m.l - this.m.r); }
  sy(v) { return this.m.t + (this.h - this.m.t - this.m.b) * (1 - v / this.ytop); }
  xy(x, y) { return this.sx(x).toFixed(1) + ',' + this.sy(y).toFixed(1); }
  add(svg, points) { this.parts.push(svg); this.points += points; }
  // A polyline through [x, y] points; null y breaks it. Dots when the points are few.
  line(pts, color, dashed, dots) {
    let d = '', pen = false, n = 0, circles = '';
    for (let i = 0; i < pts.length; i++) {
      const [x, y] = pts[i];
      if (y === null || y === undefined) { pen = false; continue; }
      const lone = !pen && (i + 1 >= pts.length || pts[i + 1][1] === null || pts[i + 1][1] === undefined);
      d += (pen ? 'L' : 'M') + this.xy(x, y);
      pen = true;
      n++;
      if (dots || lone) circles += `<circle cx="${this.sx(x).toFixed(1)}" cy="${this.sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`;
    }
    if (n === 0) return;
    this.add(`<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="2"` +
             (dashed ? ' stroke-dasharray="6 4"' : '') + ' stroke-linejoin="round"/>' + circles, n);
  }
  // One horizontal dash per bucket with a value, across the bucket's width: no risers
  // between buckets, which with a few requests a bucket only draw noise. Dots mark the
  // buckets when they are few, so that a lone one still shows.
  steps(values, width, color, dots) {
    let d = '', n = 0, circles = '';
    values.forEach((y, i) => {
      if (y === null || y === undefined) return;
      d += 'M' + this.xy(i * width, y) + 'L' + this.xy((i + 1) * width, y);
      n++;
      if (dots) circles += `<circle cx="${this.sx((i + 0.5) * width).toFixed(1)}" cy="${this.sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`;
    });
    if (n === 0) return;
    this.add(`<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>` + circles, n);
  }
  finish(legend, hover) {
    this.plot.innerHTML = `<svg viewBox="0 0 ${this.w} ${this.h}" role="img">${this.parts.join('')}` +
                          '<line class="cursor" y1="0" y2="0" x1="-9" x2="-9"/></svg>';
    this.fig.querySelector('.legend').innerHTML = legend.map(l =>
      `<span><span class="key" style="background:${l.color}"></span>${esc(l.text)}</span>`).join('');
    if (hover) this.hover(hover);
    const drawn = this.plot.querySelectorAll('svg .series').length;
    if (drawn > 0 && this.points > 0) {
      this.fig.setAttribute('data-rendered', 'true');
      this.fig.setAttribute('data-series', String(drawn));
      this.fig.setAttribute('data-points', String(this.points));
    } else {
      this.fig.setAttribute('data-rendered', 'empty');
    }
  }
  // Shows the bucket under the pointer.
  hover(describe) {
    const svg = this.plot.querySelector('svg'), cursor = svg.querySelector('.cursor');
    const tip = document.createElement('div');
    tip.className = 'tip';
    this.fig.appendChild(tip);
    svg.addEventListener('mousemove', e => {
      const box = svg.getBoundingClientRect(), k = this.w / box.width;
      const x = (e.clientX - box.left) * k;
      const t = (x - this.m.l) / (this.w - this.m.l - this.m.r) * this.xmax;
      const i = Math.floor(t / WS);
      if (i < 0 || i >= B.length) { tip.style.display = 'none'; return; }
      const cx = this.sx((i + 0.5) * WS).toFixed(1);
      cursor.setAttribute('x1', cx); cursor.setAttribute('x2', cx);
      cursor.setAttribute('y1', this.m.t); cursor.setAttribute('y2', this.h - this.m.b);
      tip.innerHTML = `<b>${esc(fmtTime(i * WS))} – ${esc(fmtTime((i + 1) * WS))}</b><br>` + describe(B[i]);
      tip.style.display = 'block';
      const fx = e.clientX - this.fig.getBoundingClientRect().left;
      tip.style.left = Math.min(fx + 14, this.fig.clientWidth - tip.offsetWidth - 4) + 'px';
      tip.style.top = '40px';
    });
    svg.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  }
}

// Stacked areas of per-second rates, one step per bucket.
// Layers marked apart are not drawn: unsent pages all land in the bucket where the run
// stopped, and a rate of them would flatten the real rates to nothing. Their totals are
// in the legend.
function stacked(id, layers, unit) {
  const fig = document.getElementById(id);
  if (!fig) return;
  const apart = layers.filter(L => L.apart);
  layers = layers.filter(L => !L.apart);
  const n = B.length;
  let base = new Array(n).fill(0);
  const bands = layers.map(L => {
    const top = B.map((b, i) => base[i] + (L.get(b) || 0) / WS);
    const band = { L, lo: base, hi: top, total: B.reduce((a, b) => a + (L.get(b) || 0), 0) };
    base = top;
    return band;
  });
  const f = new Frame(fig, n * WS, timeTicks(n * WS), Math.max(0, ...base), fmtNum);
  for (const band of bands) {
    if (band.total === 0) continue;
    let d = 'M' + f.xy(0, band.lo[0] || 0);
    for (let i = 0; i < n; i++) d += 'L' + f.xy(i * WS, band.hi[i]) + 'L' + f.xy((i + 1) * WS, band.hi[i]);
    for (let i = n - 1; i >= 0; i--) d += 'L' + f.xy((i + 1) * WS, band.lo[i]) + 'L' + f.xy(i * WS, band.lo[i]);
    f.add(`<path class="series" d="${d}Z" fill="${band.L.color}" fill-opacity="0.85" stroke="${band.L.color}" stroke-width="0.5"/>`, n);
  }
  const notes = apart.map(L => ({ L, total: B.reduce((a, b) => a + (L.get(b) || 0), 0) }))
    .filter(a => a.total > 0)
    .map(a => ({ color: a.L.color, text: `${a.L.name}: ${a.total.toLocaleString('en-US')} ${unit} (not drawn: counted when the run stopped)` }));
  f.finish(bands.map(b => ({ color: b.L.color, text: `${b.L.name}: ${b.total.toLocaleString('en-US')} ${unit}` })).concat(notes),
           b => layers.map(L => `${esc(L.name)}: ${(L.get(b) || 0).toLocaleString('en-US')}`).join('<br>') +
                (WS !== 1 ? `<br><i>bucket of ${fmtTime(WS)}</i>` : ''));
}

function latencyOverTime() {
  const fig = document.getElementById('chart-latency');
  const ymax = Math.max(0, ...B.map(b => b.p99_ms || 0));
  const f = new Frame(fig, B.length * WS, timeTicks(B.length * WS), ymax, fmtMs);
  const dots = B.length <= 300;
  f.steps(B.map(b => b.p99_ms), WS, C.p99, dots);
  f.steps(B.map(b => b.p50_ms), WS, C.p50, dots);
  const lat = S.latency_ms || {};
  f.finish([{ color: C.p50, text: `p50 (run: ${fmtMs(lat.p50 || 0)})` },
            { color: C.p99, text: `p99 (run: ${fmtMs(lat.p99 || 0)}, max ${fmtMs(lat.max || 0)})` }],
           b => b.p50_ms === null ? 'no answer in this bucket' :
                `p50 ${esc(fmtMs(b.p50_ms))}<br>p99 ${esc(fmtMs(b.p99_ms))}<br>${b.requests} requests`);
}

// The value at each percentile of an exact histogram from the summary, as
// HdrHistogram reports it: the highest value of the rank's counter, capped at max.
// x = log10(1 / (1 - p)), from p0 to p99.99, 20 points a decade.
function percentileCurve(h, scale) {
  if (!h || !(h.count > 0)) return null;
  const bits = Math.ceil(Math.log2(2 * Math.pow(10, h.digits))), half = bits - 1;
  const highestOf = index => {
    const bucket = Math.max(Math.floor(index / Math.pow(2, half)) - 1, 0);
    const sub = index - bucket * Math.pow(2, half);
    return sub * Math.pow(2, bucket) + Math.pow(2, bucket) - 1;
  };
  const out = [];
  let j = 0, cumulative = 0;
  for (let k = 0; k <= 80; k++) {
    const x = k / 20, p = 1 - Math.pow(10, -x);
    const rank = Math.max(Math.ceil(p * h.count - 1e-9 * h.count), 1);
    while (j < h.counts.length && cumulative + h.counts[j][1] < rank) cumulative += h.counts[j++][1];
    const v = j < h.counts.length ? Math.min(highestOf(h.counts[j][0]), h.max) : h.max;
    out.push([x, v * scale]);
  }
  return out;
}
const pTicks = [[0, '0%'], [Math.log10(2), '50%'], [1, '90%'], [2, '99%'], [3, '99.9%'], [4, '99.99%']]
  .map(([v, label]) => ({ v, label }));

function distribution(id, curves, note) {
  const fig = document.getElementById(id);
  const drawn = curves.filter(c => c.pts);
  const ymax = Math.max(0, ...drawn.map(c => Math.max(...c.pts.map(p => p[1]))));
  const f = new Frame(fig, 4, pTicks, ymax, fmtMs);
  for (const c of drawn) f.line(c.pts, c.color, c.dashed, false);
  f.finish(curves.map(c => ({ color: c.color, text: c.label })));
  if (note && drawn.length) fig.querySelector('.legend').insertAdjacentHTML('beforeend', `<span class="note">${esc(note)}</span>`);
}

function draw() {
  const H = S.histograms || {};
  stacked('chart-requests', [
    { name: 'delivered', color: C.delivered, get: b => b.delivered },
    { name: 'rejected', color: C.rejected, get: b => b.rejected },
    { name: 'failed', color: C.failed, get: b => b.failed },
    { name: 'unsent', color: C.unsent, get: b => b.unsent, apart: true }], 'requests');
  stacked('chart-rows', [
    { name: 'delivered', color: C.delivered, get: b => b.rows_delivered },
    { name: 'lost', color: C.failed, get: b => b.rows_lost },
    { name: 'unsent', color: C.unsent, get: b => b.rows_unsent, apart: true }], 'rows');
  latencyOverTime();
  const lat = S.latency_ms || {}, unc = S.latency_uncorrected_ms || {}, lag = S.delivery_lag_ms || {};
  distribution('chart-latency-dist', [
    { label: `corrected (p99 ${fmtMs(lat.p99 || 0)}, max ${fmtMs(lat.max || 0)})`, color: C.p99,
      pts: percentileCurve(H.latency_us, 0.001) },
    { label: `uncorrected (p99 ${fmtMs(unc.p99 || 0)})`, color: C.uncorrected, dashed: true,
      pts: percentileCurve(H.latency_uncorrected_us, 0.001) }],
    S.dry_run ? 'dry run: every answer is instant' : '');
  distribution('chart-lag-dist', [
    { label: `lag (p50 ${fmtMs(lag.p50 || 0)}, p99 ${fmtMs(lag.p99 || 0)}, max ${fmtMs(lag.max || 0)})`,
      color: C.p50, pts: percentileCurve(H.delivery_lag_ms, 1) }],
    `max delay ${fmtMs((S.delivery || {}).max_delay_ms || 0)}`);
  document.body.setAttribute('data-charts', 'done');
}

function safeDraw() {
  try { draw(); } catch (e) {
    document.body.setAttribute('data-charts', 'error');
    document.body.setAttribute('data-chart-error', String(e && e.message || e));
  }
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', safeDraw);
else safeDraw();
let redraw = 0;
window.addEventListener('resize', () => {
  clearTimeout(redraw);
  redraw = setTimeout(() => { document.querySelectorAll('.tip').forEach(t => t.remove()); safeDraw(); }, 200);
});
})();
)js";
}

}  // namespace gmsim
