import { WebSocket } from "ws";
import { memoryKb } from "./workerd-process.js";

/**
 * The memory of the workerd that runs the Worker and its objects: its resident memory (VmRSS,
 * /proc) and the JavaScript heap in use of its isolates (through the inspector). Start: after the
 * run's first tenth (at most 1,000 requests) has warmed it up, a full garbage collection and 2 s
 * (the sends pause for it). Peak: the highest resident sample, every second from then on. End:
 * after the run, a full garbage collection, then a sample every 2 s for up to 60 s until the
 * resident memory is back within 10 % of the start.
 */
export interface MemoryFigures {
  startMb: number;
  peakMb: number;
  endMb: number;
  heapStartMb: number;
  heapEndMb: number;
  /** How long after the run the end sample was taken. */
  settleMs: number;
  /** Forced collections the inspector did not answer. */
  gcMissed: number;
  backWithin10Percent: boolean;
  measured: string;
}

const MEASURED =
  "VmRSS (/proc) of the runtime workerd (the process running the Worker and its objects, not wrangler's proxy), and the JS heap in use of its isolates (inspector, Runtime.getHeapUsage): start after the first tenth of the requests (at most 1,000), a full GC (inspector, HeapProfiler.collectGarbage) and 2 s; peak of 1 s samples from then on; end after the run, a full GC, and up to 60 s of 2 s samples until within 10 % of start";

/** Runs `method` on every isolate the inspector lists; returns their results. */
async function onEveryIsolate<R>(inspectorPort: number, method: string): Promise<R[]> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  return Promise.all(
    targets.map(
      (target) =>
        new Promise<R>((resolve, reject) => {
          const ws = new WebSocket(target.webSocketDebuggerUrl);
          const timer = setTimeout(() => (ws.terminate(), reject(new Error(`the inspector did not answer ${method} in 5 s`))), 5_000);
          ws.once("error", (error) => (clearTimeout(timer), reject(error)));
          ws.once("close", () => (clearTimeout(timer), reject(new Error(`the inspector closed before answering ${method}`))));
          ws.once("open", () => ws.send(JSON.stringify({ id: 1, method })));
          ws.on("message", (data) => {
            const message = JSON.parse(String(data)) as { id?: number; result?: R };
            if (message.id === 1) (clearTimeout(timer), resolve(message.result as R), ws.close());
          });
        }),
    ),
  );
}

export function memorySampler(pids: number[], inspectorPort: number, settleMs = 60_000) {
  const mb = () => Math.round(pids.reduce((sum, pid) => sum + (memoryKb(pid, "VmRSS") ?? 0), 0) / 1024);
  const heapMb = async () => Math.round((await onEveryIsolate<{ usedSize: number }>(inspectorPort, "Runtime.getHeapUsage").catch(() => [])).reduce((sum, h) => sum + (h?.usedSize ?? 0), 0) / 2 ** 20);
  // Best effort: an isolate busy or gone does not stop the run (its figures then include garbage).
  const collect = () => onEveryIsolate(inspectorPort, "HeapProfiler.collectGarbage").catch(() => (figures.gcMissed += 1));
  const figures: MemoryFigures = { startMb: 0, peakMb: 0, endMb: 0, heapStartMb: 0, heapEndMb: 0, settleMs: 0, gcMissed: 0, backWithin10Percent: false, measured: MEASURED };
  let timer: NodeJS.Timeout | undefined;
  const within = () => figures.endMb <= figures.startMb * 1.1;
  return {
    async start() {
      await collect();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      figures.startMb = figures.peakMb = mb();
      figures.heapStartMb = await heapMb();
      timer = setInterval(() => (figures.peakMb = Math.max(figures.peakMb, mb())), 1_000);
    },
    async settle() {
      clearInterval(timer);
      const started = Date.now();
      await collect();
      for (;;) {
        figures.endMb = mb();
        figures.peakMb = Math.max(figures.peakMb, figures.endMb);
        if (within() || Date.now() - started >= settleMs) break;
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      figures.heapEndMb = await heapMb();
      figures.settleMs = Date.now() - started;
      figures.backWithin10Percent = within();
    },
    figures: () => ({ ...figures }),
  };
}
