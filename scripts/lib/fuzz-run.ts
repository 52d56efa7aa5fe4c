import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CountersTotal } from "../../control/src/diagnostics/counters-total.js";
import { buildWorkerBundle } from "./bundles.js";
import { startControlPlane } from "./local-control-plane.js";
import { freePort } from "./ports.js";
import { chance } from "./fuzz-random.js";
import { requestGenerator, type FuzzRequest, type OpenApi } from "./fuzz-requests.js";
import { PushProbe, hostileHandshake } from "./fuzz-push.js";
import { send, type Outcome } from "./fuzz-send.js";
import { canaryLoop, statementsOfCheckIn, type CanaryTally } from "./fuzz-canaries.js";
import { memorySampler, memoryVerdict, type MemoryFigures } from "./fuzz-memory.js";
import { referenceMemory, type ReferenceMemory } from "./fuzz-reference.js";
import { buildWorld, call, counters, differences, snapshot, storedObjects, upload, validDelta, type World } from "./fuzz-world.js";
import { workerdRoles } from "./workerd-process.js";

export interface FuzzOptions {
  requests: number;
  seed: number;
  port?: number;
  /** Hostile requests in flight at once (default 6). */
  concurrency?: number;
  /**
   * Also send requests whose client drops the connection halfway through the body. Under
   * `wrangler dev` each one breaks wrangler's proxy (its Durable Object), and requests in flight
   * beside it fail there with 500 or 503 before they reach the Worker (see docs/api.md, "Limits").
   */
  dropClients?: boolean;
  /** How long workerd's memory is given to come back after the run (default 60 s). */
  settleMs?: number;
  /**
   * Also send the same requests to a one-line Worker under `wrangler dev` afterwards, and judge
   * the control plane's memory by what it grows beyond that (fuzz-reference.ts). Off: judged by
   * its resident memory alone (back within 10 % of its start).
   */
  reference?: boolean;
  /** Where the Worker bundle is built (inside the project). */
  bundleDir?: string;
  progress?: (line: string) => void;
}

export interface Failure {
  index: number;
  route: string;
  mutation: string;
  request: string;
  outcome: string;
}

export interface FuzzResult {
  seed: number;
  requests: number;
  runMs: number;
  routes: number;
  byRoute: Record<string, Record<string, number>>;
  byStatus: Record<string, number>;
  serverErrors: number;
  resets: number;
  accepted: number;
  restarts: string[];
  canaries: CanaryTally;
  stateDiff: string[];
  ticket: string;
  objects: { before: number; after: number; created: string[] };
  writes: string[];
  memory: MemoryFigures;
  /** The one-line Worker's memory under the same requests, when it was run. */
  reference: ReferenceMemory | null;
  failures: Failure[];
  /** Every reason the run failed; empty when it passed. */
  verdict: string[];
  /** The distinct errors wrangler's log shows (filled in once the control plane has stopped). */
  logged: string[];
}

/** Distinct error lines of wrangler's log (the first 20), with how often each came. */
async function loggedErrors(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!/error|exception|unhandled|restart/i.test(line)) continue;
    const key = line.replace(/\x1b\[[0-9;]*m/g, "").replace(/job_[A-Za-z0-9_-]+|[0-9a-f]{16,}/g, "…").trim().slice(0, 300);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].slice(0, 20).map(([line, n]) => `${n} x ${line}`);
}

const ADMIN_KEY = "fuzz-admin-key";
const TOKEN_SECRET = "fuzz-token-secret";

/**
 * One fuzz run against the control plane under `wrangler dev`: builds the world, snapshots it,
 * sends `requests` hostile requests (HTTP over every route, weights messages, push handshakes
 * and frames) from a seeded generator beside canaries, then checks what must hold (see FuzzResult
 * and docs/fuzz.md). `npm run fuzz` and test/integration/fuzz.test.ts both run this.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const log = options.progress ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), "propius-fuzz-"));
  const port = options.port ?? (await freePort());
  const stateDir = join(dir, "state");
  const script = await buildWorkerBundle(options.bundleDir);
  // The shards' metric reports (every 5 s while devices are about) are writes the canaries cause: a long interval keeps them out of the write counts.
  const inspectorPort = await freePort();
  // Rate limits off: thousands of requests a minute on a few keys and devices would otherwise be 429s, canaries' too.
  const vars = { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: TOKEN_SECRET, MAX_UPLOAD_BYTES: "2000000", METRICS_FLUSH_MS: "3600000", RATE_LIMIT_KEY_PER_MINUTE: "0", RATE_LIMIT_DEVICE_PER_MINUTE: "0" };
  const plane = await startControlPlane({ port, script, persistTo: stateDir, logFile: join(dir, "wrangler.log"), inspectorPort, vars });
  let exited: string | null = null;
  const logged: string[] = [];
  plane.process.once("exit", (code, signal) => (exited = `wrangler dev exited (${code ?? signal}) during the run`));
  try {
    const world = await buildWorld(plane.url, ADMIN_KEY, TOKEN_SECRET);
    const doc = (await call(plane.url, "GET", "/v1/openapi.json")).body as OpenApi;
    const rng = chance(options.seed);
    const generator = await requestGenerator(doc, world, { dropClients: options.dropClients });
    const statementsPerCheckIn = await statementsOfCheckIn(world);
    const before = await snapshot(world);
    const roles = workerdRoles(plane.process.pid!, port);
    const objectsBefore = await storedObjects(stateDir);
    const countersBefore = await counters(world);
    const memory = memorySampler(roles.worker, inspectorPort, options.settleMs);
    log(`world ready: job ${world.jobId}, ${generator.operations.length} routes in the OpenAPI document; seed ${options.seed}`);

    const result = await hostileTraffic(world, generator, rng, options, log, memory);
    const canaries = { ...result.canaries, statementsPerCheckIn };
    // Read afterwards even when the run broke the world: what could not be read is a failure of its own.
    const broken: string[] = [];
    const afterCounters = await counters(world).catch((e: Error) => (broken.push(e.message), countersBefore));
    const after = await snapshot(world).catch((e: Error) => (broken.push(e.message), null));
    const objectsAfter = await storedObjects(stateDir);
    const rolesAfter = workerdRoles(plane.process.pid!, port);
    await memory.settle();
    // The unused device's ticket, untouched by every hostile request, still takes its delta once.
    const ticket = await upload(world, world.unused, validDelta(world.tensors)).catch((e: Error) => ({ status: 0, body: e.message }));

    const restarts: string[] = [];
    if (exited) restarts.push(exited);
    for (const [role, pids] of Object.entries(roles)) {
      const now = rolesAfter[role as keyof typeof rolesAfter];
      if (pids.length === 0 || pids.some((pid) => !now.includes(pid))) restarts.push(`${role} workerd ${pids.join(",")} -> ${now.join(",") || "gone"}`);
    }
    for (const object of afterCounters.objects) {
      const earlier = countersBefore.objects.find((o) => o.name === object.name);
      if (earlier && earlier.instance !== object.instance) restarts.push(`object ${object.name} restarted (instance ${earlier.instance.slice(0, 8)} -> ${object.instance.slice(0, 8)})`);
    }
    const created = [...objectsAfter.files.filter((f) => !objectsBefore.files.includes(f)), ...objectsAfter.blobs.filter((f) => !objectsBefore.blobs.includes(f))].map((f) => f.slice(stateDir.length + 1));
    const writes = writesBeyondCanaries(countersBefore, afterCounters, canaries);
    const memoryFigures = memory.figures();
    const stateDiff = after ? differences(before, after) : broken;
    const verdict: string[] = [];
    if (result.serverErrors) verdict.push(`${result.serverErrors} answers were 5xx`);
    if (result.resets) verdict.push(`${result.resets} requests got no answer (reset, failed, timed out)`);
    if (result.accepted) verdict.push(`${result.accepted} hostile requests were taken (2xx)`);
    if (restarts.length) verdict.push(`restarts: ${restarts.join("; ")}`);
    if (canaries.failed) verdict.push(`${canaries.failed} of ${canaries.sent} canaries failed`);
    if (stateDiff.length) verdict.push(`state changed: ${stateDiff.join("; ")}`);
    if (ticket.status !== 202) verdict.push(`the untouched ticket's delta answered ${ticket.status} ${JSON.stringify(ticket.body)}`);
    if (created.length) verdict.push(`${created.length} objects got storage: ${created.join(", ")}`);
    if (writes.length) verdict.push(`writes beyond the canaries': ${writes.join("; ")}`);
    await plane.stop();
    const reference = options.reference
      ? await referenceMemory({ world, generator, seed: options.seed, requests: options.requests, concurrency: options.concurrency ?? 6, settleMs: options.settleMs, log })
      : null;
    verdict.push(...memoryVerdict(memoryFigures, reference));
    return {
      seed: options.seed, requests: options.requests, runMs: result.runMs, routes: generator.operations.length,
      byRoute: result.byRoute, byStatus: result.byStatus, serverErrors: result.serverErrors, resets: result.resets, accepted: result.accepted,
      restarts, canaries, stateDiff, ticket: `${ticket.status}`, objects: { before: objectsBefore.files.length, after: objectsAfter.files.length, created },
      writes, memory: memoryFigures, reference, failures: result.failures, verdict, logged,
    };
  } finally {
    await plane.stop();
    logged.push(...(await loggedErrors(join(dir, "wrangler.log"))));
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Statements written during the run beyond what is allowed: the canaries' check-ins (their rows in
 * the client-manager shards); for each refused upload, the one upsert of the refusal counter
 * (`propius_updates_refused_total`, a row per code and known job: bounded whatever is sent); and
 * for each upload refused as not a valid delta under a ticket signed for its device, the two
 * statements that spend that ticket (a refused upload spends its ticket, so that a device cannot
 * try body after body on one).
 */
function writesBeyondCanaries(before: CountersTotal, after: CountersTotal, canaries: CanaryTally): string[] {
  const out: string[] = [];
  const delta = (method: string) => (after.calls[method] ?? 0) - (before.calls[method] ?? 0);
  for (const [cls, now] of Object.entries(after.writes)) {
    const statements = now.statements - (before.writes[cls]?.statements ?? 0);
    const allowed =
      cls === "ClientManagerObject" ? canaries.checkIns * canaries.statementsPerCheckIn
      : cls === "DirectoryObject" ? delta("DirectoryObject.countRefusal")
      : cls === "AggregatorObject" ? 2 * delta("AggregatorObject.spend")
      : 0;
    if (statements <= allowed) continue;
    const calls = Object.entries(after.calls).filter(([m]) => m.startsWith(`${cls}.`)).map(([m, n]) => [m.slice(cls.length + 1), n - (before.calls[m] ?? 0)] as const).filter(([, n]) => n > 0);
    out.push(`${cls}: ${statements} statements (the canaries account for ${allowed}; calls ${calls.map(([m, n]) => `${m} ${n}`).join(", ")})`);
  }
  const checkIns = delta("ClientManagerObject.checkIn");
  if (checkIns > canaries.checkIns) out.push(`${checkIns - canaries.checkIns} check-ins reached a shard beside the canaries' ${canaries.checkIns}`);
  return out;
}

/** What the hostile traffic itself gave: the result's counts, before the checks afterwards. */
type Traffic = Pick<FuzzResult, "runMs" | "byRoute" | "byStatus" | "serverErrors" | "resets" | "accepted" | "failures" | "canaries">;

const label = (o: Outcome) => (o.status !== null ? String(o.status) : o.failure ? "no answer" : o.code ? "frame answered" : "truncated, no answer");

async function hostileTraffic(world: World, generator: Awaited<ReturnType<typeof requestGenerator>>, rng: ReturnType<typeof chance>, options: FuzzOptions, log: (line: string) => void, memory: ReturnType<typeof memorySampler>): Promise<Traffic> {
  const base = new URL(world.url);
  const traffic: Traffic = { runMs: 0, byRoute: {}, byStatus: {}, serverErrors: 0, resets: 0, accepted: 0, failures: [], canaries: { sent: 0, failed: 0, checkIns: 0, statementsPerCheckIn: 0, failures: [] } };
  const probe = new PushProbe(world, world.waiting[3].token);
  const stopCanaries = new AbortController();
  const canaries = canaryLoop(world, stopCanaries.signal);
  const started = performance.now();
  let next = 0;
  let done = 0;
  // Each request's choices come from a generator seeded in order: the same seed, the same requests.
  const seeds = Array.from({ length: options.requests }, () => rng.fork());
  const record = (index: number, route: string, mutation: string, request: string, outcome: Outcome, mustRefuse: boolean) => {
    const status = label(outcome);
    (traffic.byRoute[route] ??= {})[status] = (traffic.byRoute[route][status] ?? 0) + 1;
    traffic.byStatus[status] = (traffic.byStatus[status] ?? 0) + 1;
    let why: string | null = null;
    if (outcome.status !== null && outcome.status >= 500) (traffic.serverErrors++, (why = `${outcome.status} ${outcome.code ?? ""}`.trim()));
    else if (outcome.failure) (traffic.resets++, (why = outcome.failure));
    else if (mustRefuse && outcome.status !== null && outcome.status < 300 && outcome.status !== 101) (traffic.accepted++, (why = `${outcome.status}: taken`));
    if (why) {
      traffic.failures.push({ index, route, mutation, request, outcome: why });
      if (traffic.failures.length <= 20) log(`  failure #${index} ${route}: ${mutation} -> ${why}\n    ${request}`);
    }
    if (++done % 1000 === 0) log(`${done}/${options.requests} sent; 5xx ${traffic.serverErrors}, no answer ${traffic.resets}, taken ${traffic.accepted}; ${((performance.now() - started) / 1000).toFixed(0)} s`);
  };
  const describe = (r: FuzzRequest) => `${r.method} ${r.path.slice(0, 160)} [${r.transport}] ${Object.entries(r.headers).map(([k, v]) => `${k}: ${v.slice(0, 60)}`).join("; ")} body ${r.body?.length ?? 0} bytes${r.body?.length ? `: ${JSON.stringify(Buffer.from(r.body.subarray(0, 120)).toString("latin1"))}` : ""}`;
  let frames: Promise<void> = Promise.resolve();
  // The memory's start is sampled once every route has been reached a few times (the first tenth
  // of the requests, at most 1,000): the runtime compiles and caches code on its first use.
  const warmUp = Math.min(1_000, Math.ceil(options.requests / 10));
  let warm: Promise<void> | null = null;
  const worker = async () => {
    while (next < options.requests) {
      if (next === warmUp && !warm) {
        warm = memory.start().then(() => log(`warmed up after ${warmUp} requests: workerd ${memory.figures().startMb} MiB`));
        await warm;
      } else if (next >= warmUp && warm) await warm;
      const index = next++;
      const own = seeds[index];
      if (index % 20 === 7) {
        // Frames go one at a time on the one push connection.
        const sent = frames.then(() => probe.send(own));
        frames = sent.then(() => undefined);
        const { outcome, mutation } = await sent;
        record(index, "WS /v1/connect (frames)", mutation, mutation, outcome, true);
        continue;
      }
      const request = index % 20 === 13 ? hostileHandshake(world, own) : generator.next(index, own);
      record(index, request.route, request.mutation, describe(request), await send(base, request), request.mustRefuse);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 6 }, worker));
  traffic.runMs = Math.round(performance.now() - started);
  probe.close();
  stopCanaries.abort();
  traffic.canaries = await canaries;
  return traffic;
}
