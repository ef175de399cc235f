/**
 * The sweep chart: two panels sharing the x axis (the swept value, evenly
 * spaced), IOPS on top and p99 completion latency below, one line per peer.
 * Hand-written SVG with no script and no external resources, so it opens in
 * any browser or image viewer; the .html variant wraps the same SVG and adds
 * the numbers as a table.
 */

export interface PlotSeries {
  label: string;
  /** One value per x label; NaN leaves a gap. */
  iops: number[];
  p99us: number[];
}

export interface PlotInput {
  title: string;
  subtitle: string;
  xLabel: string;
  x: string[];
  series: PlotSeries[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const W = 760;
const LEFT = 90;
const RIGHT = 30;
const PANEL_H = 210;
const TOP1 = 92;
const TOP2 = TOP1 + PANEL_H + 70;
const H = TOP2 + PANEL_H + 80;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An axis maximum of 1, 2, 2.5 or 5 × 10^k at or above `v`, and its tick step (5 ticks). */
export function niceScale(v: number): { max: number; step: number } {
  if (!(v > 0)) return { max: 1, step: 0.2 };
  const raw = v / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s * 5 >= v)!;
  return { max: step * 5, step };
}

function fmtTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(2)}k`;
  return `${+v.toFixed(2)}`;
}

function panel(top: number, title: string, values: (s: PlotSeries) => number[], input: PlotInput): string {
  const plotW = W - LEFT - RIGHT;
  const all = input.series.flatMap(values).filter((v) => Number.isFinite(v));
  const { max, step } = niceScale(Math.max(0, ...all));
  const n = input.x.length;
  const xAt = (i: number) => LEFT + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const yAt = (v: number) => top + PANEL_H - (v / max) * PANEL_H;
  const out: string[] = [];
  out.push(`<text x="${LEFT}" y="${top - 12}" class="ptitle">${esc(title)}</text>`);
  for (let t = 0; t <= max + step / 2; t += step) {
    const y = yAt(t).toFixed(1);
    out.push(`<line x1="${LEFT}" y1="${y}" x2="${W - RIGHT}" y2="${y}" class="grid"/>`);
    out.push(`<text x="${LEFT - 8}" y="${y}" class="ytick">${fmtTick(t)}</text>`);
  }
  out.push(`<line x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${top + PANEL_H}" class="axis"/>`);
  out.push(`<line x1="${LEFT}" y1="${top + PANEL_H}" x2="${W - RIGHT}" y2="${top + PANEL_H}" class="axis"/>`);
  input.x.forEach((label, i) => {
    out.push(`<text x="${xAt(i).toFixed(1)}" y="${top + PANEL_H + 18}" class="xtick">${esc(label)}</text>`);
  });
  input.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    const vs = values(s);
    const pts = vs.map((v, i) => (Number.isFinite(v) ? `${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}` : '')).filter(Boolean);
    if (pts.length > 1) out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2.5"/>`);
    vs.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      out.push(`<circle cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="4" fill="${color}"><title>${esc(`${s.label}, ${input.xLabel} ${input.x[i]}: ${fmtTick(v)}`)}</title></circle>`);
    });
  });
  return out.join('\n');
}

export function renderSvg(input: PlotInput): string {
  const legend = input.series
    .map((s, k) => {
      const x = LEFT + k * 170;
      const color = COLORS[k % COLORS.length]!;
      return `<line x1="${x}" y1="${H - 22}" x2="${x + 24}" y2="${H - 22}" stroke="${color}" stroke-width="3"/><text x="${x + 30}" y="${H - 18}" class="legend">${esc(s.label)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">
<style>
  .title { font-size: 18px; font-weight: bold; fill: #222; }
  .subtitle { font-size: 12px; fill: #555; }
  .ptitle { font-size: 14px; font-weight: bold; fill: #333; }
  .grid { stroke: #e4e4e4; stroke-width: 1; }
  .axis { stroke: #444; stroke-width: 1.2; }
  .ytick { font-size: 12px; fill: #444; text-anchor: end; dominant-baseline: middle; }
  .xtick { font-size: 12px; fill: #444; text-anchor: middle; }
  .xlabel { font-size: 13px; fill: #333; text-anchor: middle; }
  .legend { font-size: 13px; fill: #222; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${LEFT}" y="28" class="title">${esc(input.title)}</text>
<text x="${LEFT}" y="48" class="subtitle">${esc(input.subtitle)}</text>
${panel(TOP1, 'IOPS (higher is better)', (s) => s.iops, input)}
<text x="${(LEFT + W - RIGHT) / 2}" y="${TOP1 + PANEL_H + 40}" class="xlabel">${esc(input.xLabel)}</text>
${panel(TOP2, 'p99 completion latency, µs (lower is better)', (s) => s.p99us, input)}
<text x="${(LEFT + W - RIGHT) / 2}" y="${TOP2 + PANEL_H + 40}" class="xlabel">${esc(input.xLabel)}</text>
${legend}
</svg>
`;
}

export function renderHtml(input: PlotInput): string {
  const head = ['<th>' + esc(input.xLabel) + '</th>', ...input.series.flatMap((s) => [`<th>${esc(s.label)} IOPS</th>`, `<th>${esc(s.label)} p99 µs</th>`])].join('');
  const rows = input.x
    .map((x, i) => `<tr><td>${esc(x)}</td>${input.series.map((s) => `<td>${fmtTick(s.iops[i] ?? NaN)}</td><td>${fmtTick(s.p99us[i] ?? NaN)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-top:16px}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}</style>
</head><body>
${renderSvg(input)}
<table><tr>${head}</tr>
${rows}
</table>
</body></html>
`;
}
