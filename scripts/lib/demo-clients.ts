import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { ROOT } from "./local-control-plane.js";

export interface DemoClientOptions {
  url: string;
  count: number;
  seed: number;
  /** Demo shards the data is split into (default `count`): more leaves shards for browser tabs. */
  shards?: number;
  stateDir: string;
  /** The CLI to run: a bundle from `buildDeviceBundle` (fast to start), else the TypeScript bin. */
  entry?: string;
  /** Where the decoded demo digits are kept (see the CLI's --cache). */
  cacheDir?: string;
  /** Receives each client's output lines, prefixed by its index. */
  onLine?: (index: number, line: string) => void;
  maxIdleSeconds?: number;
  /**
   * Processes to spread the devices over (default: one per device). Each process hosts its devices
   * side by side (the CLI's --devices), each with its own enrolment, data and task loop; fewer
   * processes start faster and leave more of a small machine to training.
   */
  processes?: number;
  /** More arguments for the process that hosts shards `first` to `first + devices - 1`, after the usual ones. */
  args?: (first: number, devices: number) => string[];
}

/** Splits `count` devices into `processes` runs of consecutive shards: [first shard, devices]. */
export function deviceGroups(count: number, processes: number): Array<[number, number]> {
  const groups = Math.max(1, Math.min(count, processes));
  return Array.from({ length: groups }, (_, g) => {
    const first = Math.floor((g * count) / groups);
    return [first, Math.floor(((g + 1) * count) / groups) - first];
  });
}

/** Starts `count` Node devices (the node-client CLI), each on its own demo shard, in `processes` processes. */
export function startDemoClients(options: DemoClientOptions): ChildProcess[] {
  return deviceGroups(options.count, options.processes ?? options.count).map(([first, devices]) => {
    const child = spawn(
      process.execPath,
      [
        options.entry ?? join(ROOT, "node-client/bin/propius-node.js"),
        "--url", options.url,
        "--demo-shard", String(first), "--devices", String(devices), "--demo-shards", String(options.shards ?? options.count), "--seed", String(options.seed),
        "--state", devices === 1 ? join(options.stateDir, `device-${first}`) : options.stateDir,
        ...(options.cacheDir ? ["--cache", options.cacheDir] : []),
        ...(options.maxIdleSeconds ? ["--max-idle", String(options.maxIdleSeconds)] : []),
        ...(options.args?.(first, devices) ?? []),
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        // A process hosting several devices prefixes their lines with "[shard k] ".
        const shard = /^(\S+ )?\[shard (\d+)\] (.*)$/.exec(line);
        options.onLine?.(shard ? Number(shard[2]) : first, shard ? `${shard[1] ?? ""}${shard[3]}` : line);
      });
    }
    return child;
  });
}

export async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
}
