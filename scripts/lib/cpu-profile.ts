import { WebSocket } from "ws";

/** A V8 CPU profile as the DevTools protocol returns it (`Profiler.stop`). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** A DevTools-protocol session with the Worker's isolate (`wrangler dev --inspector-port`). */
export interface InspectorSession {
  /** Rejects when the answer has not come within `timeoutMs` (default 30 s): a busy inspector can leave a call unanswered. */
  send<R>(method: string, params?: object, timeoutMs?: number): Promise<R>;
  close(): void;
}

/** Connects to the first Worker the inspector on `inspectorPort` lists. */
export async function openInspector(inspectorPort: number): Promise<InspectorSession> {
  // Bounded: wrangler's inspector proxy, busy, can leave the list unanswered.
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(10_000) })).json()) as { webSocketDebuggerUrl: string }[];
  if (targets.length === 0) throw new Error(`the inspector on port ${inspectorPort} lists no Worker`);
  // A profile of a busy minute is hundreds of megabytes of JSON, over `ws`'s default message limit.
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { maxPayload: 2 ** 31 - 1 });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => (ws.terminate(), reject(new Error(`the inspector on port ${inspectorPort} did not open its connection within 10 s`))), 10_000);
    ws.once("open", () => (clearTimeout(timer), resolve(undefined)));
    ws.once("error", (error) => (clearTimeout(timer), reject(error)));
  });
  let id = 0;
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.resolve(message.result);
  });
  ws.on("close", (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`the inspector connection closed (${code})`));
  });
  return {
    send: <R>(method: string, params: object = {}, timeoutMs = 30_000) =>
      new Promise<R>((resolve, reject) => {
        const call = ++id;
        const timer = setTimeout(() => (pending.delete(call), reject(new Error(`the inspector left ${method} unanswered for ${timeoutMs / 1000} s`))), timeoutMs);
        const settled = () => (clearTimeout(timer), pending.delete(call));
        pending.set(call, { resolve: (result) => (settled(), resolve(result as R)), reject: (error) => (settled(), reject(error)) });
        ws.send(JSON.stringify({ id: call, method, params }));
      }),
    close: () => ws.close(),
  };
}

/**
 * Records a CPU profile of the Worker's isolate through its inspector (`wrangler dev --inspector-port`)
 * while `during` runs: every request the Worker and its Durable Objects serve is in it.
 */
export async function profileWorker<T>(inspectorPort: number, during: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const { send, close } = await openInspector(inspectorPort);
  try {
    // workerd records samples only once the runtime and debugger domains are on.
    await send("Runtime.enable");
    await send("Debugger.enable");
    await send("Profiler.enable");
    // One sample a millisecond: finer profiles of a busy Worker grow past what the inspector proxy passes on.
    await send("Profiler.setSamplingInterval", { interval: 1_000 });
    await send("Profiler.start");
    const result = await during();
    // A busy minute's profile is hundreds of megabytes of JSON: minutes to serialize and pass on.
    const { profile } = await send<{ profile: CpuProfile }>("Profiler.stop", {}, 600_000);
    return { result, profile };
  } finally {
    close();
  }
}

/** Milliseconds of self time per function (`name file:line`), most first. */
export function selfTimes(profile: CpuProfile): { name: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((nodeId, i) => {
    const frame = byId.get(nodeId)!.callFrame;
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop() || "(native)"}:${frame.lineNumber + 1}`;
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

/** Self time of the functions named `name` (a native call such as SQL's `exec`), by their JS callers `depth` deep. */
export function callersOf(profile: CpuProfile, name: string, depth = 2): { chain: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, number>();
  profile.samples.forEach((nodeId, i) => {
    if (byId.get(nodeId)!.callFrame.functionName !== name) return;
    const chain: string[] = [];
    for (let at = parent.get(nodeId); at !== undefined && chain.length < depth; at = parent.get(at)) chain.push(byId.get(at)!.callFrame.functionName || "(anonymous)");
    const key = chain.join(" < ");
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].map(([chain, ms]) => ({ chain, ms })).sort((a, b) => b.ms - a.ms);
}
