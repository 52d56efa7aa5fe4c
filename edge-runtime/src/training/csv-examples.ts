import { exampleShape, inputSize, type InputFormat } from "@propius/shared";
import type { LocalData } from "./local-data.js";

/** One CSV file's text and its name (for error messages). */
export interface CsvFile {
  name: string;
  text: string;
}

export interface CsvOptions {
  numClasses: number;
  /** Features each example must have (for example 784 for 28 x 28 images); default: as the first row. */
  features?: number;
  /**
   * The header's name (any case) of the column that holds the labels. Given: every file must start
   * with a header that names it. Not given: the column named `label`, else the first.
   */
  labelColumn?: string;
}

/** Whether a CSV file's first line is a header: its first cell is not a number. */
export function isCsvHeader(line: string): boolean {
  const first = line.split(",")[0].trim();
  return first !== "" && Number.isNaN(Number(first));
}

/**
 * Parses labelled examples from CSV files, one example per line. A first line whose first cell is
 * not a number is a header: the column named `label` (any case) holds the labels, else the first
 * column does. Without a header the label is the first column. Labels are class indices
 * 0..numClasses-1; every other cell is a feature. `labelColumn` makes the named column required. Used by the Node device (`--data`) and by the
 * browser tab (files the user picks), so both read a job's CSV input the same way.
 */
export function parseCsvExamples(files: readonly CsvFile[], options: CsvOptions): LocalData {
  const { numClasses } = options;
  if (files.length === 0) throw new Error("no CSV files given");
  const labels: number[] = [];
  const features: number[][] = [];
  for (const file of files) {
    const lines = file.text.split(/\r?\n/);
    const wanted = (options.labelColumn ?? "label").toLowerCase();
    const header = (lines[0] ?? "").split(",").map((c) => c.trim());
    const hasHeader = isCsvHeader(lines[0] ?? "");
    const named = hasHeader ? header.findIndex((c) => c.toLowerCase() === wanted) : -1;
    if (options.labelColumn !== undefined && named === -1) throw new Error(`${file.name}: the job's labels are in a column named '${options.labelColumn}', and this file's first line names no such column`);
    const labelColumn = Math.max(named, 0);
    lines.forEach((line, i) => {
      if (!line.trim() || (i === 0 && hasHeader)) return;
      const raw = line.split(",").map((c) => c.trim());
      const cells = raw.map(Number);
      if (cells.some((c, j) => !Number.isFinite(c) || raw[j] === "")) throw new Error(`${file.name}:${i + 1}: every cell must be a number`);
      const label = cells[labelColumn];
      if (!Number.isInteger(label) || label < 0 || label >= numClasses) throw new Error(`${file.name}:${i + 1}: label ${label} is not in 0..${numClasses - 1}`);
      labels.push(label);
      features.push(cells.filter((_, j) => j !== labelColumn));
    });
  }
  if (labels.length === 0) throw new Error(`the CSV files (${files.map((f) => f.name).join(", ")}) hold no examples`);
  const size = options.features ?? features[0].length;
  const x = new Float32Array(labels.length * size);
  const y = new Float32Array(labels.length * numClasses);
  features.forEach((row, i) => {
    if (row.length !== size) throw new Error(`example ${i + 1} has ${row.length} features; ${options.features === undefined ? "the first has" : "the job expects"} ${size}`);
    x.set(row, i * size);
    y[i * numClasses + labels[i]] = 1;
  });
  return { x, y, count: labels.length, featureShape: [size], numClasses };
}

/** Examples in CSV files (non-blank lines but a header), told before any job says their format. */
export function countCsvExamples(files: readonly CsvFile[]): number {
  return files.reduce((n, f) => n + f.text.split(/\r?\n/).filter((line, i) => line.trim() && !(i === 0 && isCsvHeader(line))).length, 0);
}

/**
 * CSV files as examples of one job's input format: rows of the format's values (an image's
 * height x width x channels, or a table's features), shaped as the format's examples; a tabular
 * job's labels come from its `labelColumn`, which every file's header must name.
 */
export function csvExamplesOf(files: readonly CsvFile[], format: InputFormat): LocalData {
  const labelColumn = format.kind === "tabular" ? { labelColumn: format.labelColumn } : {};
  const data = parseCsvExamples(files, { numClasses: format.classes, features: inputSize(format), ...labelColumn });
  return { ...data, featureShape: exampleShape(format) };
}
