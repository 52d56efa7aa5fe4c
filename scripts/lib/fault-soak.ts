import { driveDevices, trivialRate } from "./load-driver.js";
import { createWorkloadJobs, enrolDevices, loadInputs } from "./load-setup.js";
import { bareRuntimeGrowth } from "./bare-runtime.js";
import { openInspector, type InspectorSession } from "./cpu-profile.js";
import { memoryKb, workerdRoles } from "./workerd-process.js";
import { seconds, type FaultContext, type FaultResult } from "./fault-scenario.js";
import { soakReference, type ReferenceRun, type SoakTraffic } from "./soak-reference.js";
import { objectStorage, storageGrowth, storageMiB } from "./object-storage.js";

export interface SoakOptions {
  minutes: number;
  devices: number;
  /**
   * Seconds of requests to the trivial route (`GET /v1/health`) first, with the same sampling: memory
   * the platform itself takes per request, apart from the Worker's work (0: none).
   */
  controlSeconds?: number;
  /** Seconds between memory samples (default 5). */
  sampleSeconds?: number;
  /**
   * Afterwards, the same traffic for as long to a one-line Worker (soak-reference.ts), and the
   * control plane's slope judged beyond that one's (default true). Off: the slope itself.
   */
  reference?: boolean;
}

/**
 * The criterion for flat, in MiB a minute over the run's second half (least-squares slopes): the
 * JavaScript heap after a full collection at most this, and the runtime's RSS at most this beyond
 * the one-line Worker's under the same traffic (or, with no reference, at most this itself).
 */
export const FLAT_MIB_PER_MINUTE = 1;

interface Sample {
  atS: number;
  /** RSS of the workerd runtime that runs the Worker and its objects, and of wrangler's proxy in front of it (MiB). */
  runtimeMiB: number;
  proxyMiB: number;
  /** The Worker isolate's JavaScript heap in use (MiB), from the inspector; null when it did not answer. */
  heapMiB: number | null;
  /** The runtime's anonymous resident memory (MiB): RSS less the file pages it maps. */
  anonMiB: number;
  /** The Durable Objects' local storage on disk (MiB), every class summed. */
  storageMiB: number;
}

/**
 * Simulated devices (the load benchmark's: check in, bind, report a synthetic delta, again) against
 * the paper workload's 20 jobs for `minutes`, with the workerd runtime's RSS sampled from /proc and
 * the isolate's JavaScript heap from its inspector: flat when the second half's slope is at most
 * FLAT_MIB_PER_MINUTE. The heap beside the RSS tells JavaScript objects kept alive from memory the
 * runtime holds outside the heap.
 */
export async function soakScenario(ctx: FaultContext, options: SoakOptions): Promise<FaultResult> {
  const { result, traffic } = await soakRun(ctx, options);
  if (options.reference === false || !traffic) return result;
  ctx.log(`  the same traffic to a one-line Worker: ${traffic.rate.toFixed(0)} requests/s, ${(traffic.uploadShare * 100).toFixed(0)} % of them deltas, ${traffic.minutes} min ...`);
  const reference = await soakReference(traffic, ctx.log);
  return judgedBeside(result, reference);
}

async function soakRun(ctx: FaultContext, options: SoakOptions): Promise<{ result: FaultResult; traffic: SoakTraffic | null }> {
  const plane = await ctx.startPlane({ CLIENT_SHARDS: "4" });
  const every = (options.sampleSeconds ?? 5) * 1000;
  let inspector: InspectorSession | null = null;
  try {
    const inputs = await loadInputs();
    await createWorkloadJobs(plane.url, plane.adminKey, inputs);
    const devices = await enrolDevices(plane.url, options.devices, inputs, 64);
    ctx.log(`  ${options.devices} devices enrolled (${devices.rate.toFixed(0)}/s); running ${options.minutes} min ...`);
    const roles = workerdRoles(plane.pid!, plane.port);
    inspector = await openInspector(plane.inspectorPort).catch(() => null);
    const mib = (pids: number[], field: "VmRSS" | "RssAnon" = "VmRSS") => Number((pids.reduce((sum, pid) => sum + (memoryKb(pid, field) ?? 0), 0) / 1024).toFixed(1));
    const heap = async () => {
      const usage = await inspector?.send<{ usedSize: number }>("Runtime.getHeapUsage").catch(() => null);
      return usage ? Number((usage.usedSize / 2 ** 20).toFixed(1)) : null;
    };
    const control = options.controlSeconds ? await trivialControl(plane.url, options.controlSeconds, () => ({ runtime: mib(roles.worker), proxy: mib(roles.proxy) })) : null;
    if (control) ctx.log(`  trivial route: ${control.requests} requests, runtime ${control.before.runtime} -> ${control.after.runtime} MiB, proxy ${control.before.proxy} -> ${control.after.proxy} MiB`);
    const bare = options.controlSeconds ? await bareRuntimeGrowth(Math.min(30, options.controlSeconds)) : null;
    const started = performance.now();
    const samples: Sample[] = [];
    // Each sample after a full collection: workerd frees the native memory of requests and
    // responses only when V8 collects their JavaScript objects, which V8 does when its own heap
    // needs it, not when the process grows (docs/fuzz.md); the forced collection tells what is kept
    // from what merely is not collected yet.
    let collections = 0;
    // The objects' storage by class at the first and the latest sample.
    let storageAtStart: ReturnType<typeof objectStorage> | null = null;
    let storageAtEnd: ReturnType<typeof objectStorage> = {};
    const sample = async () => {
      if (inspector && (await inspector.send("HeapProfiler.collectGarbage").then(() => true, () => false))) collections += 1;
      storageAtEnd = objectStorage(plane.persistTo);
      storageAtStart ??= storageAtEnd;
      samples.push({
        atS: seconds(performance.now() - started), runtimeMiB: mib(roles.worker), proxyMiB: mib(roles.proxy), heapMiB: await heap(),
        anonMiB: mib(roles.worker, "RssAnon"), storageMiB: storageMiB(storageAtEnd),
      });
    };
    await sample();
    let lastPrinted = 0;
    const timer = setInterval(() => {
      void sample().then(() => {
        const s = samples.at(-1)!;
        if (s.atS - lastPrinted >= 60) ((lastPrinted = s.atS), ctx.log(`  ${Math.round(s.atS / 60)} min: runtime ${s.runtimeMiB} MiB, proxy ${s.proxyMiB} MiB, JS heap ${s.heapMiB ?? "-"} MiB`));
      });
    }, every);
    const figures = await driveDevices({ url: plane.url, devices: devices.list, tensors: inputs.model.weightSpecs, seconds: options.minutes * 60, concurrency: 64 });
    clearInterval(timer);
    await sample();
    // After a full collection: what the heap keeps alive.
    await inspector?.send("HeapProfiler.collectGarbage").catch(() => undefined);
    const heapAfterGc = await heap();
    const runtime = samples.map((s) => s.runtimeMiB);
    const half = samples.filter((s) => s.atS >= samples.at(-1)!.atS / 2);
    const slope = slopePerMinute(half.map((s) => [s.atS, s.runtimeMiB]));
    const heaps = half.filter((s) => s.heapMiB !== null);
    const heapSlope = heaps.length > 1 ? slopePerMinute(heaps.map((s) => [s.atS, s.heapMiB!])) : null;
    const anonSlope = slopePerMinute(half.map((s) => [s.atS, s.anonMiB]));
    const storageSlope = slopePerMinute(half.map((s) => [s.atS, s.storageMiB]));
    const flat = slope <= FLAT_MIB_PER_MINUTE;
    const passed = flat && figures.errors === 0;
    const delta = devices.list.find((device) => device.delta)?.delta;
    const traffic: SoakTraffic | null = delta
      ? { minutes: options.minutes, rate: figures.requests / figures.seconds, uploadShare: figures.bindings / figures.requests, delta, checkIn: JSON.stringify({ attributes: devices.list[0].attributes }), concurrency: 64, sampleMs: every, before: { enrolments: options.devices, trivialSeconds: options.controlSeconds ?? 0 } }
      : null;
    const detail = [
      `${options.devices} simulated devices (the load benchmark's driver: check in, bind, report a synthetic delta) on the paper workload's ${inputs.workload.arrivals.length} jobs for ${options.minutes} min, 64 requests in flight: ${figures.bindings} bindings, ${figures.reports} reports, ${figures.errors} errors${figures.errorSamples.length ? ` (${figures.errorSamples.join("; ")})` : ""}.`,
      `workerd runtime RSS (the process that runs the Worker and its objects, from /proc every ${every / 1000} s, each after a full collection of the Worker's isolate through the inspector: ${collections} collections): start ${runtime[0]} MiB, min ${Math.min(...runtime)}, max ${Math.max(...runtime)}, end ${runtime.at(-1)} MiB; slope over the second half ${slope.toFixed(2)} MiB/min: by itself ${flat ? "flat" : "NOT flat"} (at most ${FLAT_MIB_PER_MINUTE} MiB/min).`,
      `Proxy RSS: start ${samples[0].proxyMiB} MiB, end ${samples.at(-1)!.proxyMiB} MiB. The isolate's JavaScript heap in use: start ${samples[0].heapMiB ?? "-"} MiB, end ${samples.at(-1)!.heapMiB ?? "-"} MiB, ${heapAfterGc ?? "-"} MiB after a full collection; its second-half slope ${heapSlope === null ? "-" : `${heapSlope.toFixed(2)} MiB/min`}.`,
      `Where the RSS is: anonymous memory ${samples[0].anonMiB} -> ${samples.at(-1)!.anonMiB} MiB (second-half slope ${anonSlope.toFixed(2)} MiB/min). The Durable Objects' storage on disk ${samples[0].storageMiB} -> ${samples.at(-1)!.storageMiB} MiB (second-half slope ${storageSlope.toFixed(2)} MiB/min): ${storageGrowth(storageAtStart ?? {}, storageAtEnd)}.`,
      ...(control ? [
        `Before the devices, ${options.controlSeconds} s of the trivial route (\`GET /v1/health\`, no object, no storage; ${control.requests} requests): runtime RSS ${control.before.runtime} -> ${control.after.runtime} MiB, proxy ${control.before.proxy} -> ${control.after.proxy} MiB, i.e. ${perThousand(control.after.runtime - control.before.runtime, control.requests)} and ${perThousand(control.after.proxy - control.before.proxy, control.requests)} MiB per 1,000 requests; during the devices ${perThousand(runtime.at(-1)! - runtime[0], figures.requests)} and ${perThousand(samples.at(-1)!.proxyMiB - samples[0].proxyMiB, figures.requests)} MiB per 1,000 requests (${figures.requests} requests).`,
      ] : []),
      ...(bare ? [
        `The bare runtime (workerd through Miniflare, as wrangler dev runs it, serving a one-line Worker that answers "ok": no control plane code at all), ${bare.requests} requests: RSS ${bare.startMiB} -> ${bare.endMiB} MiB, ${perThousand(bare.endMiB - bare.startMiB, bare.requests)} MiB per 1,000 requests.`,
      ] : []),
    ];
    const result: FaultResult = {
      scenario: "soak", setup: `${options.devices} devices, ${options.minutes} min`, passed, tally: null, rounds: null, recoverySeconds: [], detail,
      figures: { control, bare, samples, storageAtStart, storageAtEnd, anonSlopeMiBPerMinute: anonSlope, storageSlopeMiBPerMinute: storageSlope, slopeMiBPerMinute: slope, heapSlopeMiBPerMinute: heapSlope, heapAfterGcMiB: heapAfterGc, bindings: figures.bindings, reports: figures.reports, errors: figures.errors },
    };
    return { result, traffic };
  } finally {
    inspector?.close();
    await plane.dispose();
  }
}

/**
 * The soak judged beside the one-line Worker's run: the runtime's RSS slope beyond the reference's,
 * and the JavaScript heap's own slope, each at most FLAT_MIB_PER_MINUTE; no device errors.
 */
function judgedBeside(result: FaultResult, run: ReferenceRun): FaultResult {
  const { samples: reference, requests } = run;
  const figures = result.figures as { samples: Sample[]; slopeMiBPerMinute: number; heapSlopeMiBPerMinute: number | null; errors: number };
  const secondHalf = <T extends { atS: number }>(points: T[]) => points.filter((p) => p.atS >= points.at(-1)!.atS / 2);
  const referenceSlope = slopePerMinute(secondHalf(reference).map((s) => [s.atS, s.runtimeMiB]));
  const beyond = figures.slopeMiBPerMinute - referenceSlope;
  const heapFlat = figures.heapSlopeMiBPerMinute !== null && figures.heapSlopeMiBPerMinute <= FLAT_MIB_PER_MINUTE;
  const passed = beyond <= FLAT_MIB_PER_MINUTE && heapFlat && figures.errors === 0;
  const rss = reference.map((s) => s.runtimeMiB);
  return {
    ...result,
    passed,
    detail: [
      ...result.detail,
      `The same traffic to a one-line Worker (reads each body, answers "ok") under \`wrangler dev\` with the same configuration, ${requests} requests (${run.failed} unanswered or not ok), sampled the same way (${run.collections} collections): runtime RSS start ${rss[0]} MiB, min ${Math.min(...rss)}, max ${Math.max(...rss)}, end ${rss.at(-1)} MiB; slope over the second half ${referenceSlope.toFixed(2)} MiB/min.`,
      `Judged beside it: the control plane's RSS slope ${beyond.toFixed(2)} MiB/min beyond the one-line Worker's, its JavaScript heap's ${figures.heapSlopeMiBPerMinute?.toFixed(2) ?? "-"} MiB/min: ${passed ? "flat" : "NOT flat"} (criterion: each at most ${FLAT_MIB_PER_MINUTE} MiB/min, and no device errors).`,
    ],
    figures: { ...result.figures, reference: { samples: reference, requests, failed: run.failed, collections: run.collections, slopeMiBPerMinute: referenceSlope }, slopeBeyondReferenceMiBPerMinute: beyond },
  };
}

/** Least-squares slope of (seconds, MiB) points, in MiB a minute. */
export function slopePerMinute(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 60;
}

/** RSS before and after `seconds` of the trivial route at 64 requests in flight. */
async function trivialControl(url: string, seconds: number, rss: () => { runtime: number; proxy: number }) {
  const before = rss();
  const ceiling = await trivialRate(url, seconds, 64);
  return { before, after: rss(), requests: Math.round(ceiling.rate * seconds) };
}

function perThousand(mib: number, requests: number): string {
  return (requests > 0 ? (mib * 1000) / requests : 0).toFixed(3);
}
