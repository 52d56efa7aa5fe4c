import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** One Durable Object class's local storage: its SQLite databases and their bytes on disk (WAL and shared-memory files included). */
export interface ClassStorage {
  databases: number;
  bytes: number;
}

/**
 * The local Durable Object storage under a `wrangler dev --persist-to` folder, by class (the
 * folder names under `v3/do`, e.g. "propius-edge-JobObject"): what the objects keep on disk,
 * sampled beside the runtime's memory so that memory that follows stored data shows as such.
 * Empty when the folder is not there yet.
 */
export function objectStorage(persistTo: string): Record<string, ClassStorage> {
  const root = join(persistTo, "v3", "do");
  const out: Record<string, ClassStorage> = {};
  for (const name of list(root)) {
    const dir = join(root, name);
    const files = list(dir);
    out[name] = {
      databases: files.filter((file) => file.endsWith(".sqlite")).length,
      bytes: files.reduce((sum, file) => sum + size(join(dir, file)), 0),
    };
  }
  return out;
}

/** The classes' bytes summed, in MiB to one decimal place. */
export function storageMiB(storage: Record<string, ClassStorage>): number {
  return Number((Object.values(storage).reduce((sum, c) => sum + c.bytes, 0) / 2 ** 20).toFixed(1));
}

/** "JobObject 21 databases, 26.0 -> 64.1 MiB; ...": each class's databases and bytes from one sample to another, largest growth first. */
export function storageGrowth(before: Record<string, ClassStorage>, after: Record<string, ClassStorage>): string {
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const grown = (name: string) => after[name].bytes - (before[name]?.bytes ?? 0);
  const classes = Object.keys(after).sort((a, b) => grown(b) - grown(a) || (a < b ? -1 : 1));
  if (classes.length === 0) return "no objects stored";
  return classes.map((name) => `${name.replace(/^.*-(?=[A-Za-z]+Object$)/, "")} ${after[name].databases} databases, ${mib(before[name]?.bytes ?? 0)} -> ${mib(after[name].bytes)} MiB`).join("; ");
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function size(path: string): number {
  try {
    const stat = statSync(path);
    return stat.isFile() ? stat.size : 0;
  } catch {
    return 0;
  }
}
