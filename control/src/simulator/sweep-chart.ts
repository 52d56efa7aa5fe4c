import type { LevelSummary } from "./sweep-summary.js";

interface Series {
  name: string;
  color: string;
  /** Drawn dashed (on top of a solid series it may coincide with). */
  dashed?: boolean;
  /** One value per level; null leaves a gap. */
  values: (number | null)[];
}

interface Panel {
  title: string;
  /** A log scale (ratios), or linear from 0. */
  logY: boolean;
  series: Series[];
}

const W = 420;
const H = 240;
const LEFT = 50;
const TOP = 40;
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const label = (v: number) => String(Number(v.toPrecision(3)));

/** The 1-2-5 steps (..., 0.5, 1, 2, 5, 10, ...) from below `low` to above `high`. */
function steps125(low: number, high: number): number[] {
  const out: number[] = [];
  for (let decade = Math.floor(Math.log10(low)) - 1; decade <= Math.ceil(Math.log10(high)); decade++) for (const m of [1, 2, 5]) out.push(m * 10 ** decade);
  const first = out.filter((v) => v <= low * 1.0001).pop() ?? out[0];
  const last = out.find((v) => v >= high / 1.0001) ?? out[out.length - 1];
  return out.filter((v) => v >= first && v <= last);
}

/** Axis ticks: the 1-2-5 steps on a log axis; on a linear one, 0 up to a multiple of a 1-2-5 step just above `high`. */
function ticks(low: number, high: number, log: boolean): number[] {
  if (log) return steps125(low, high);
  const step = steps125(high / 5, high / 5).pop()!;
  return Array.from({ length: Math.ceil(high / step - 1e-9) + 1 }, (_, i) => i * step);
}

function drawPanel(panel: Panel, levels: number[], x0: number): string[] {
  const values = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== null && (!panel.logY || v > 0)));
  const axis = ticks(panel.logY ? Math.min(...values, 0.5) : 0, Math.max(...values, panel.logY ? 2 : 1), panel.logY);
  const [low, high] = [axis[0], axis[axis.length - 1]];
  const f = panel.logY ? Math.log10 : (v: number) => v;
  const y = (v: number) => TOP + H - ((f(v) - f(low)) / (f(high) - f(low) || 1)) * H;
  const xs = levels.map(Math.log10);
  const x = (i: number) => x0 + LEFT + (levels.length === 1 ? W / 2 : ((xs[i] - xs[0]) / (xs[xs.length - 1] - xs[0])) * W);
  const out = [`<text x="${x0 + LEFT + W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(panel.title)}</text>`];
  for (const t of axis) {
    out.push(`<line x1="${x0 + LEFT}" y1="${y(t).toFixed(1)}" x2="${x0 + LEFT + W}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${x0 + LEFT - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${label(t)}</text>`);
  }
  levels.forEach((level, i) => out.push(`<text x="${x(i).toFixed(1)}" y="${TOP + H + 16}" text-anchor="middle">${level}</text>`));
  out.push(`<text x="${x0 + LEFT + W / 2}" y="${TOP + H + 34}" text-anchor="middle">scarcity: eligible devices online / demand (median job)</text>`);
  panel.series.forEach((s, k) => {
    const points = s.values.flatMap((v, i) => (v === null || (panel.logY && v <= 0) ? [] : [[x(i), y(v)]]));
    const path = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
    const stroke = `stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}`;
    if (points.length > 1) out.push(`<polyline fill="none" ${stroke} points="${path}"/>`);
    for (const [px, py] of points) out.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = TOP + H + 52 + k * 16;
    out.push(`<line x1="${x0 + LEFT}" y1="${ly - 4}" x2="${x0 + LEFT + 20}" y2="${ly - 4}" ${stroke}/>`);
    out.push(`<text x="${x0 + LEFT + 26}" y="${ly}">${esc(s.name)}</text>`);
  });
  return out;
}

/** Two line charts against scarcity: the three ratios (log scale), and the wasted device-hours with admission on and off. */
export function sweepChart(levels: readonly LevelSummary[]): string {
  const xs = levels.map((l) => l.level);
  const panels: Panel[] = [
    {
      title: "Best central policy against the baselines (x)",
      logY: true,
      series: [
        { name: "utilization: best / static-partition", color: "#4c78a8", values: levels.map((l) => l.utilization.geoMean) },
        { name: "average JCT: FIFO / best", color: "#f58518", values: levels.map((l) => l.avgJct.geoMean) },
        { name: "p95 JCT: FIFO / best", color: "#54a24b", values: levels.map((l) => l.p95Jct.geoMean) },
      ],
    },
    {
      title: "Wasted device-hours of the best central policy",
      logY: false,
      series: [
        { name: "admission off", color: "#e45756", values: levels.map((l) => l.wastedWithoutAdmissionS / 3600) },
        { name: "admission on", color: "#4c78a8", dashed: true, values: levels.map((l) => l.wastedWithAdmissionS / 3600) },
      ],
    },
  ];
  const width = panels.length * (W + LEFT + 30) + 20;
  const height = TOP + H + 50 + 3 * 16 + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...panels.flatMap((p, i) => drawPanel(p, xs, i * (W + LEFT + 30))),
    "</svg>",
    "",
  ].join("\n");
}
