import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { DatasetSizeRecord, DeviceSpecRecord } from "../../control/src/simulator/index.js";
import { ROOT } from "./node-bundle.mjs";

/** The trace files the simulator's devices are drawn from. */
export const TRACE_FILES = ["device-specs.json", "client-dataset-sizes.json"] as const;

/** Where the device traces are: the project's data/ folder, else the shared one beside the project. */
export function defaultDataDir(): string {
  const dirs = [join(ROOT, "data"), join(ROOT, "../shared/data")];
  return dirs.find((dir) => existsSync(join(dir, TRACE_FILES[0]))) ?? dirs[1];
}

/** The phone models and dataset sizes of `dir`; null, with the file it lacks, when one is missing. */
export async function readTraces(dir: string): Promise<{ deviceSpecs: DeviceSpecRecord[]; datasetSizes: DatasetSizeRecord[] } | { missing: string }> {
  for (const file of TRACE_FILES) if (!existsSync(join(dir, file))) return { missing: join(dir, file) };
  const read = async (file: string) => JSON.parse(await readFile(join(dir, file), "utf8")) as unknown;
  return { deviceSpecs: (await read(TRACE_FILES[0])) as DeviceSpecRecord[], datasetSizes: (await read(TRACE_FILES[1])) as DatasetSizeRecord[] };
}
