import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { RoundRow } from "./job-rounds.js";

/** A chart of per-round figures: its title, unit and one line per series, read from a round row. */
interface ChartSpec {
  id: string;
  title: string;
  series: Array<{ label: string; color: string; value: (row: RoundRow) => number | null }>;
}

const MB = 2 ** 20;

/** The job page's charts, one x value per round (the round number). */
export const CHARTS: ChartSpec[] = [
  {
    id: "accuracy", title: "Accuracy",
    series: [
      { label: "owner test", color: "#1f6feb", value: (r) => r.testAccuracy },
      { label: "federated", color: "#d1242f", value: (r) => r.evalAccuracy },
    ],
  },
  {
    id: "loss", title: "Loss",
    series: [
      { label: "train", color: "#8250df", value: (r) => r.trainLoss },
      { label: "owner test", color: "#1f6feb", value: (r) => r.testLoss },
      { label: "federated", color: "#d1242f", value: (r) => r.evalLoss },
    ],
  },
  {
    id: "devices", title: "Devices per round",
    series: [
      { label: "bound", color: "#1f6feb", value: (r) => r.bound },
      { label: "reported", color: "#1a7f37", value: (r) => r.reported },
      { label: "failed", color: "#d1242f", value: (r) => r.failed },
    ],
  },
  {
    id: "duration", title: "Round timings (s)",
    series: [
      { label: "open to close", color: "#9a6700", value: (r) => r.durationSeconds },
      { label: "selection", color: "#8250df", value: (r) => r.selectionSeconds },
      { label: "training", color: "#1f6feb", value: (r) => r.trainingSeconds },
      { label: "aggregation", color: "#1a7f37", value: (r) => r.aggregationSeconds },
    ],
  },
  {
    id: "bytes", title: "Bytes per round (MB)",
    series: [
      { label: "in (updates)", color: "#1a7f37", value: (r) => (r.status === "closed" ? r.bytesIn / MB : null) },
      { label: "out (downloads)", color: "#1f6feb", value: (r) => (r.status === "closed" ? r.bytesOut / MB : null) },
    ],
  },
];

/**
 * The charts of one job page, drawn on canvas by uPlot and given the whole series again on every
 * change (a job has tens to hundreds of rounds: setData is far below a frame). Each chart's element
 * carries `data-points`, the points uPlot holds (non-null values over its series), for tests and
 * for a reader of the page.
 */
export class RoundCharts {
  private readonly charts: Array<{ spec: ChartSpec; plot: uPlot; element: HTMLElement }> = [];
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(container: HTMLElement) {
    for (const spec of CHARTS) {
      const element = document.createElement("figure");
      element.className = "chart";
      element.id = `chart-${spec.id}`;
      element.dataset.points = "0";
      container.append(element);
      const plot = new uPlot(
        {
          title: spec.title, width: widthOf(element), height: 200,
          scales: { x: { time: false } },
          axes: [{ label: "round", incrs: [1, 2, 5, 10, 20, 50, 100] }, { size: 50 }],
          series: [{ label: "round" }, ...spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: true, size: 6 } }))],
        },
        [[], ...spec.series.map(() => [])],
        element,
      );
      this.charts.push({ spec, plot, element });
    }
    this.resize.observe(container);
  }

  /** Redraws every chart from the rounds. */
  update(rows: RoundRow[]): void {
    const x = rows.map((r) => r.round);
    for (const { spec, plot, element } of this.charts) {
      const ys = spec.series.map((s) => rows.map((r) => s.value(r)));
      plot.setData([x, ...ys] as uPlot.AlignedData);
      element.dataset.points = String(pointsOf(plot.data));
    }
  }

  dispose(): void {
    this.resize.disconnect();
    for (const { plot } of this.charts) plot.destroy();
  }

  private fit(): void {
    for (const { plot, element } of this.charts) plot.setSize({ width: widthOf(element), height: 200 });
  }
}

/** Non-null values over a chart's series (the first array is the x values). */
function pointsOf(data: uPlot.AlignedData): number {
  let points = 0;
  for (const ys of data.slice(1) as ArrayLike<number | null | undefined>[]) {
    for (let i = 0; i < ys.length; i++) if (ys[i] !== null && ys[i] !== undefined) points += 1;
  }
  return points;
}

const widthOf = (element: HTMLElement) => Math.max(240, Math.floor((element.clientWidth || element.parentElement?.clientWidth || 328) - 8));
