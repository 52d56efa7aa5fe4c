import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { parseCsvExamples, type LocalData } from "@propius/edge-runtime/training";

/**
 * Reads a device's own examples from a data folder: every `*.csv` file in it, one example per
 * line, `label,feature1,feature2,...` (an optional header line whose first cell is not a number is
 * skipped; a header column named `label` holds the labels). Labels are class indices
 * 0..numClasses-1; features are numbers. The browser tab reads picked files with the same parser.
 */
export async function loadCsvFolder(dir: string, numClasses: number): Promise<LocalData> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".csv")).sort();
  if (names.length === 0) throw new Error(`no .csv files in ${dir}`);
  const files = await Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dir, name), "utf8") })));
  return parseCsvExamples(files, { numClasses });
}
