import { WebSocket } from "ws";
import { memoryKb } from "./workerd-process.js";

/**
 * The memory of the workerd that runs the Worker and its objects: its resident memory (VmRSS,
 * /proc) and the JavaScript heap its isolates keep (through the inspector). Start: after the
 * run's first tenth (at most 1,000 requests) has warmed it up, a full garbage collection and 2 s
 * (the sends pause for it). From then on a full collection every 2 s (workerd frees the native
 * memory of requests and responses only when V8 collects their JavaScript objects, and V8 does so
 * when its own heap needs it, not when the process grows), and the peak: the highest resident
 * sample, every second. End: after the run, a full garbage collection, then a sample every 2 s
 * for up to 60 s until the resident memory is back within 10 % of the start.
 */
export interface MemoryFigures {
  startMb: number;
  peakMb: number;
  endMb: number;
  heapStartMb: number;
  heapEndMb: number;
  /** How long after the run the end sample was taken. */
  settleMs: number;
  /** Forced collections during the run and after it, and those the inspector did not answer. */
  collections: number;
  gcMissed: number;
  backWithin10Percent: boolean;
  measured: string;
}

const MEASURED =
  "VmRSS (/proc) of the runtime workerd (the process running the Worker and its objects, not wrangler's proxy), and the JS heap its isolates keep (the objects reachable in a heap snapshot, inspector HeapProfiler.takeHeapSnapshot, which collects first): start after the first tenth of the requests (at most 1,000), a full GC (inspector, HeapProfiler.collectGarbage), the heap snapshot, and 2 s (the resident memory then); a full GC every 2 s and a peak of 1 s samples from then on; end after the run, a full GC, and up to 60 s of 2 s samples until within 10 % of start (the resident memory), then a full GC and the heap snapshot";

/**
 * Runs `method` on every isolate the inspector lists; returns their results. `onEvent` sees the
 * events an isolate sends before its answer (a heap snapshot comes as chunks).
 */
async function onEveryIsolate<R>(inspectorPort: number, method: string, onEvent?: (isolate: number, event: { method: string; params: unknown }) => void, timeoutMs = 5_000): Promise<R[]> {
  // Bounded too: wrangler's inspector proxy, busy, can leave the list unanswered.
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(timeoutMs) })).json()) as { webSocketDebuggerUrl: string }[];
  return Promise.all(
    targets.map(
      (target, isolate) =>
        new Promise<R>((resolve, reject) => {
          const ws = new WebSocket(target.webSocketDebuggerUrl, { maxPayload: 2 ** 31 - 1 });
          const timer = setTimeout(() => (ws.terminate(), reject(new Error(`the inspector did not answer ${method} in ${timeoutMs / 1000} s`))), timeoutMs);
          ws.once("error", (error) => (clearTimeout(timer), reject(error)));
          ws.once("close", () => (clearTimeout(timer), reject(new Error(`the inspector closed before answering ${method}`))));
          ws.once("open", () => ws.send(JSON.stringify({ id: 1, method })));
          ws.on("message", (data) => {
            const message = JSON.parse(String(data)) as { id?: number; result?: R; method?: string; params?: unknown };
            if (message.id === 1) (clearTimeout(timer), resolve(message.result as R), ws.close());
            else if (message.method) onEvent?.(isolate, { method: message.method, params: message.params });
          });
        }),
    ),
  );
}

/** The self sizes of a heap snapshot's nodes, summed: every object still reachable after the full collection a snapshot starts with. */
export function reachableBytes(snapshot: { snapshot: { meta: { node_fields: string[] } }; nodes: number[] }): number {
  const fields = snapshot.snapshot.meta.node_fields;
  const self = fields.indexOf("self_size");
  let total = 0;
  for (let i = self; i < snapshot.nodes.length; i += fields.length) total += snapshot.nodes[i];
  return total;
}

/** What the isolates keep: their heap snapshots' reachable bytes, summed (MiB, one decimal). */
async function reachableMb(inspectorPort: number): Promise<number> {
  const chunks = new Map<number, string[]>();
  await onEveryIsolate(inspectorPort, "HeapProfiler.takeHeapSnapshot", (isolate, event) => {
    if (event.method === "HeapProfiler.addHeapSnapshotChunk") (chunks.get(isolate) ?? chunks.set(isolate, []).get(isolate)!).push((event.params as { chunk: string }).chunk);
  }, 120_000);
  const bytes = [...chunks.values()].reduce((sum, parts) => sum + reachableBytes(JSON.parse(parts.join(""))), 0);
  return Number((bytes / 2 ** 20).toFixed(1));
}

export function memorySampler(pids: number[], inspectorPort: number, settleMs = 60_000) {
  const mb = () => Math.round(pids.reduce((sum, pid) => sum + (memoryKb(pid, "VmRSS") ?? 0), 0) / 1024);
  // Best effort: an isolate the inspector cannot snapshot gives no figure (NaN), and the run says so.
  const heapMb = () => reachableMb(inspectorPort).catch(() => Number.NaN);
  // Best effort: an isolate busy or gone does not stop the run (its figures then include garbage).
  const collect = () => ((figures.collections += 1), onEveryIsolate(inspectorPort, "HeapProfiler.collectGarbage").catch(() => (figures.gcMissed += 1)));
  const figures: MemoryFigures = { startMb: 0, peakMb: 0, endMb: 0, heapStartMb: 0, heapEndMb: 0, settleMs: 0, collections: 0, gcMissed: 0, backWithin10Percent: false, measured: MEASURED };
  let timer: NodeJS.Timeout | undefined;
  let collector: NodeJS.Timeout | undefined;
  let collecting: Promise<unknown> | null = null;
  const within = () => figures.endMb <= figures.startMb * 1.1;
  return {
    async start() {
      await collect();
      figures.heapStartMb = await heapMb();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      figures.startMb = figures.peakMb = mb();
      timer = setInterval(() => (figures.peakMb = Math.max(figures.peakMb, mb())), 1_000);
      // One at a time: while the inspector is slow to answer one, no other is asked for.
      collector = setInterval(() => void (collecting ??= collect().finally(() => (collecting = null))), 2_000);
    },
    async settle() {
      clearInterval(timer);
      clearInterval(collector);
      await collecting;
      const started = Date.now();
      await collect();
      for (;;) {
        figures.endMb = mb();
        figures.peakMb = Math.max(figures.peakMb, figures.endMb);
        if (within() || Date.now() - started >= settleMs) break;
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      // The heap right after a collection of its own, as at the start.
      await collect();
      figures.heapEndMb = await heapMb();
      figures.settleMs = Date.now() - started;
      figures.backWithin10Percent = within();
    },
    figures: () => ({ ...figures }),
  };
}

/**
 * Why the memory figures fail the run (empty: they pass). Alone, the resident memory must be back
 * within 10 % of its start. Beside a reference (the one-line Worker sent the same requests), what
 * the control plane grew beyond the reference's growth must be within 10 % of its start, and the
 * JavaScript heap it keeps (reachable objects) within 10 % of the heap's start: the runtime's own
 * growth, which a Worker with no code shows too, is not the control plane's.
 */
export function memoryVerdict(own: MemoryFigures, reference: MemoryFigures | null): string[] {
  if (!reference) {
    return own.backWithin10Percent ? [] : [`workerd memory ${own.endMb} MiB is not back within 10 % of its start (${own.startMb} MiB)`];
  }
  const out: string[] = [];
  const beyond = own.endMb - own.startMb - (reference.endMb - reference.startMb);
  if (beyond > own.startMb * 0.1) {
    out.push(`workerd memory grew ${own.endMb - own.startMb} MiB (${own.startMb} -> ${own.endMb}), ${beyond} MiB beyond the one-line Worker's ${reference.endMb - reference.startMb} MiB under the same requests: more than 10 % of its start`);
  }
  if (!Number.isFinite(own.heapStartMb) || !Number.isFinite(own.heapEndMb)) out.push("the JS heap the isolates keep could not be measured (the inspector gave no heap snapshot)");
  else if (own.heapEndMb > own.heapStartMb * 1.1) out.push(`the JS heap the isolates keep is ${own.heapEndMb} MiB after the run, not within 10 % of its start (${own.heapStartMb} MiB)`);
  return out;
}
