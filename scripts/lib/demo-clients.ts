import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { ROOT } from "./local-control-plane.js";

export interface DemoClientOptions {
  url: string;
  count: number;
  seed: number;
  stateDir: string;
  /** The CLI to run: a bundle from `buildDeviceBundle` (fast to start), else the TypeScript bin. */
  entry?: string;
  /** Where the decoded demo digits are kept (see the CLI's --cache). */
  cacheDir?: string;
  /** Receives each client's output lines, prefixed by its index. */
  onLine?: (index: number, line: string) => void;
  maxIdleSeconds?: number;
}

/** Starts `count` Node devices (the node-client CLI), each on its own demo shard, as separate processes. */
export function startDemoClients(options: DemoClientOptions): ChildProcess[] {
  return Array.from({ length: options.count }, (_, index) => {
    const child = spawn(
      process.execPath,
      [
        options.entry ?? join(ROOT, "node-client/bin/propius-node.js"),
        "--url", options.url,
        "--demo-shard", String(index), "--demo-shards", String(options.count), "--seed", String(options.seed),
        "--state", join(options.stateDir, `device-${index}`),
        ...(options.cacheDir ? ["--cache", options.cacheDir] : []),
        ...(options.maxIdleSeconds ? ["--max-idle", String(options.maxIdleSeconds)] : []),
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => options.onLine?.(index, line));
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
