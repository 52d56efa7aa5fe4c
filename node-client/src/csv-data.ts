import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { LocalData } from "@propius/edge-runtime/training";

/**
 * Reads a device's own examples from a data folder: every `*.csv` file in it, one example per
 * line, `label,feature1,feature2,...` (an optional header line whose first cell is not a number is
 * skipped). Labels are class indices 0..numClasses-1; features are numbers.
 */
export async function loadCsvFolder(dir: string, numClasses: number): Promise<LocalData> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".csv")).sort();
  if (files.length === 0) throw new Error(`no .csv files in ${dir}`);
  const rows: number[][] = [];
  for (const file of files) {
    const lines = (await readFile(join(dir, file), "utf8")).split(/\r?\n/);
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      const cells = line.split(",").map((c) => Number(c.trim()));
      if (i === 0 && Number.isNaN(cells[0])) return;
      if (cells.some((c) => !Number.isFinite(c))) throw new Error(`${file}:${i + 1}: every cell must be a number`);
      rows.push(cells);
    });
  }
  if (rows.length === 0) throw new Error(`the .csv files in ${dir} hold no examples`);
  const features = rows[0].length - 1;
  const x = new Float32Array(rows.length * features);
  const y = new Float32Array(rows.length * numClasses);
  rows.forEach((row, i) => {
    if (row.length - 1 !== features) throw new Error(`example ${i + 1} has ${row.length - 1} features; the first has ${features}`);
    const label = row[0];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) throw new Error(`example ${i + 1}: label ${label} is not in 0..${numClasses - 1}`);
    x.set(row.slice(1), i * features);
    y[i * numClasses + label] = 1;
  });
  return { x, y, count: rows.length, featureShape: [features], numClasses };
}
