import { spawn, spawnSync } from "node:child_process";

/**
 * `promtool check metrics` (Debian's prometheus package), which lints the Prometheus text format
 * read on its standard input: its exit code and what it printed, or null when promtool is not on
 * the PATH. Under CI (`CI=true`, which `.ci/run` sets after installing promtool) a missing promtool
 * is an error rather than null, so that the check is never skipped there.
 */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string } | null> {
  if (spawnSync("promtool", ["--version"], { stdio: "ignore" }).error) {
    if (process.env.CI === "true") throw new Error("promtool is not on the PATH, and CI=true: install it (Debian: apt-get install prometheus)");
    return null;
  }
  const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve(status ?? 1));
  });
  child.stdin.end(text);
  return { code: await code, output };
}
