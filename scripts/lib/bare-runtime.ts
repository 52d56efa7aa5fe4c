import { Miniflare } from "miniflare";
import { closedLoop } from "./load-driver.js";
import { memoryKb, workerdPids } from "./workerd-process.js";

/**
 * The same local runtime (workerd, through the Miniflare that wrangler dev runs it with) serving a
 * one-line Worker that answers "ok", for `seconds` at 64 requests in flight: the memory the runtime
 * takes per request with no application code, storage or object at all.
 */
export async function bareRuntimeGrowth(seconds: number): Promise<{ requests: number; startMiB: number; endMiB: number }> {
  // Only its own workerd: a control plane this process started runs workerd below it too.
  const before = new Set(workerdPids(process.pid));
  const mf = new Miniflare({ modules: true, script: "export default { fetch() { return new Response('ok') } }", port: 0 });
  try {
    const url = await mf.ready;
    const pids = workerdPids(process.pid).filter((pid) => !before.has(pid));
    const rss = () => Number((pids.reduce((sum, pid) => sum + (memoryKb(pid, "VmRSS") ?? 0), 0) / 1024).toFixed(1));
    const startMiB = rss();
    const loop = await closedLoop(seconds, 64, async () => void (await (await fetch(url)).arrayBuffer()));
    return { requests: Math.round(loop.rate * seconds), startMiB, endMiB: rss() };
  } finally {
    await mf.dispose();
  }
}
