import { WEIGHTS_MEDIA_TYPE } from "@propius/shared";
import { openInspector } from "./cpu-profile.js";
import { memoryKb } from "./workerd-process.js";
import { startOneLineWorker } from "./one-line-worker.js";
import { seconds } from "./fault-scenario.js";
import { trivialRate } from "./load-driver.js";

/** What the soak's devices sent, to be sent again to a Worker with no application code. */
export interface SoakTraffic {
  minutes: number;
  /** Requests a second the devices averaged. */
  rate: number;
  /** The share of them that were delta uploads (the rest: check-ins). */
  uploadShare: number;
  /** One device's delta and one check-in body, as the devices sent them. */
  delta: Uint8Array;
  checkIn: string;
  concurrency: number;
  sampleMs: number;
  /**
   * What the control plane served before its first sample, sent first here too, so that both start
   * from the same history: the devices' enrolments (POSTs of about a check-in's size) and the
   * seconds of the trivial route.
   */
  before: { enrolments: number; trivialSeconds: number };
}

export interface ReferenceSample {
  atS: number;
  runtimeMiB: number;
}

/** The one-line Worker's run: its samples, the requests sent, those unanswered or not ok, and the collections the inspector did. */
export interface ReferenceRun {
  samples: ReferenceSample[];
  requests: number;
  failed: number;
  collections: number;
}

/**
 * The runtime's own memory under the soak's traffic: a one-line Worker under `wrangler dev` (the
 * same configuration) sent as many requests a second as the devices sent, as many of them delta
 * bodies and check-in bodies, as many in flight, for as long, its RSS sampled the same way (each
 * sample after a full collection through the inspector). What the control plane grows beyond it
 * is the control plane's own.
 */
export async function soakReference(traffic: SoakTraffic, log: (line: string) => void): Promise<ReferenceRun> {
  const worker = await startOneLineWorker();
  const inspector = await openInspector(worker.inspectorPort).catch(() => null);
  try {
    const mib = () => Number((worker.pids.reduce((sum, pid) => sum + (memoryKb(pid, "VmRSS") ?? 0), 0) / 1024).toFixed(1));
    let enrolled = 0;
    await Promise.all(
      Array.from({ length: traffic.concurrency }, async () => {
        while (enrolled++ < traffic.before.enrolments) {
          const init = { method: "POST", headers: { "content-type": "application/json" }, body: traffic.checkIn, signal: AbortSignal.timeout(30_000) };
          await fetch(`${worker.url}/v1/clients`, init).then((r) => r.arrayBuffer(), () => undefined);
        }
      }),
    );
    if (traffic.before.trivialSeconds > 0) await trivialRate(worker.url, traffic.before.trivialSeconds, traffic.concurrency);
    log(`  reference: ${traffic.before.enrolments} enrolments and ${traffic.before.trivialSeconds} s of the trivial route first, as the control plane had; start ${mib()} MiB`);
    const started = performance.now();
    const samples: ReferenceSample[] = [];
    let collections = 0;
    const sample = async () => {
      if (inspector && (await inspector.send("HeapProfiler.collectGarbage").then(() => true, () => false))) collections += 1;
      samples.push({ atS: seconds(performance.now() - started), runtimeMiB: mib() });
    };
    await sample();
    let lastPrinted = 0;
    const timer = setInterval(() => {
      void sample().then(() => {
        const s = samples.at(-1)!;
        if (s.atS - lastPrinted >= 60) ((lastPrinted = s.atS), log(`  reference ${Math.round(s.atS / 60)} min: runtime ${s.runtimeMiB} MiB`));
      });
    }, traffic.sampleMs);
    // Paced: request i goes at i / rate seconds (or as soon as one of the lanes is free).
    const end = started + traffic.minutes * 60_000;
    let next = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: traffic.concurrency }, async () => {
        for (;;) {
          const index = next++;
          const due = started + (index * 1000) / traffic.rate;
          if (due >= end) return;
          if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
          // Spread evenly: every request whose running share falls behind the devices' is an upload.
          const upload = Math.floor((index + 1) * traffic.uploadShare) > Math.floor(index * traffic.uploadShare);
          const init: RequestInit = upload
            ? { method: "POST", headers: { "content-type": WEIGHTS_MEDIA_TYPE }, body: traffic.delta as Uint8Array<ArrayBuffer> }
            : { method: "POST", headers: { "content-type": "application/json" }, body: traffic.checkIn };
          // Bounded, as every step here: an unanswered request must not hold the run past its end.
          const answered = await fetch(`${worker.url}${upload ? "/v1/updates" : "/v1/checkin"}`, { ...init, signal: AbortSignal.timeout(30_000) }).then(
            (r) => r.arrayBuffer().then(() => r.ok),
            () => false,
          );
          if (!answered) failed += 1;
        }
      }),
    );
    clearInterval(timer);
    await sample();
    return { samples, requests: next - traffic.concurrency, failed, collections };
  } finally {
    inspector?.close();
    await worker.stop();
  }
}
