import { connect, type Socket } from "node:net";
import { DeviceClient } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import { TICKET_HEADER, WEIGHTS_MEDIA_TYPE, encodeWeights, parameterCount, type JobSpecInput, type Task } from "@propius/shared";
import { READ_AHEAD_BYTES } from "../../control/src/aggregation/body-read-ahead.js";
import { seconds, sleep, type FaultContext, type FaultResult } from "./fault-scenario.js";

export interface StallOptions {
  /** The upload read timeout the control plane is meant to keep: the bound on the honest uploads' added delay. */
  readTimeoutSeconds: number;
  /** Worker variables that set it, if any. */
  vars?: Record<string, string>;
  /** Honest uploads sent while the stalled one is open. */
  honest: number;
}

/** How the stalled upload frames its body: a Content-Length it never reaches, or chunks that stop coming. */
const FRAMINGS = ["content-length", "chunked", "over-budget"] as const;
type Framing = (typeof FRAMINGS)[number];
const FRAMING_TEXT: Record<Framing, string> = {
  "content-length": "A device sent half its upload under a Content-Length of the whole (raw socket)",
  chunked: "A device sent half its upload as chunks with no declared size (Transfer-Encoding: chunked, raw socket)",
  // A body over the shard's read-ahead budget is read piece by piece in the shard's turn, as a model over 16 MiB always is.
  "over-budget": `A device declared a Content-Length over the shard's read-ahead budget (${READ_AHEAD_BYTES / 2 ** 20} MiB, as a model that large sends) and sent the first half of its delta (raw socket)`,
};

/** What became of the stalled upload's connection. */
interface StalledFate {
  answeredAfterS: number | null;
  status: number | null;
  closedAfterS: number | null;
  /** Set when the suite drops the connection itself (so that its close is not taken for the server's). */
  dropped?: boolean;
}

/**
 * A device sends half an upload (its Content-Length promises the whole) over a raw socket and
 * keeps the connection open, while honest devices upload to the same aggregator shard (a job of 8
 * devices a round has one). The honest uploads' time against the same uploads before the stall is
 * the delay the stall added: at most the read timeout.
 */
export async function stallScenario(ctx: FaultContext, options: StallOptions): Promise<FaultResult> {
  const plane = await ctx.startPlane({ SCHEDULER_VIEW_TTL_MS: "0", ...options.vars });
  const baselineCount = 3;
  const cap = Math.max(30, options.readTimeoutSeconds * 3 + 30) * 1000;
  const sockets: Socket[] = [];
  try {
    const owner = await plane.owner("faults-stall");
    const model = linearModel(64, 64);
    const devicesCount = baselineCount + FRAMINGS.length * (1 + options.honest);
    const spec: JobSpecInput = { name: "stall", model, plan: { rounds: 2, clientsPerRound: devicesCount, overCommit: 1, minReportFraction: 0.5, roundDeadlineSeconds: 600, localEpochs: 1 } };
    const job = await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(parameterCount(model.weightSpecs)));
    const devices = await Promise.all(Array.from({ length: devicesCount }, async () => {
      const client = new DeviceClient({ baseUrl: plane.url, attempts: 1 });
      await client.register({});
      const reply = await client.checkIn({});
      if (reply.status !== "task") throw new Error(`expected a task, got ${JSON.stringify(reply)}`);
      return { client, task: reply.task };
    }));
    const delta = new Float32Array(parameterCount(model.weightSpecs)).fill(0.01);
    const upload = async ({ client, task }: { client: DeviceClient; task: Task }): Promise<number | null> => {
      const started = performance.now();
      try {
        await client.uploadUpdate(task, delta, { examples: 10 }, AbortSignal.timeout(cap));
        return performance.now() - started;
      } catch {
        return null;
      }
    };
    const baseline: (number | null)[] = [];
    for (const device of devices.slice(0, baselineCount)) baseline.push(await upload(device));
    const base = median(baseline.filter((v): v is number => v !== null));
    const body = encodeWeights({ kind: "delta", codec: "fp32", tensors: model.weightSpecs, meta: { examples: 10 } }, delta);
    const runs = [];
    for (const [v, framing] of FRAMINGS.entries()) {
      const [staller, ...honest] = devices.slice(baselineCount + v * (1 + options.honest), baselineCount + (v + 1) * (1 + options.honest));
      const fate: StalledFate = { answeredAfterS: null, status: null, closedAfterS: null };
      const stallStarted = performance.now();
      const socket = await stallUpload(plane.url, staller.task, staller.client.credentials!.token, body, framing, fate, stallStarted);
      sockets.push(socket);
      await sleep(500);
      const during = await Promise.all(honest.map(upload));
      // Give the stalled connection the read timeout (and a second) to be answered or closed, if it was not yet.
      while (fate.closedAfterS === null && performance.now() - stallStarted < (options.readTimeoutSeconds + 1) * 1000) await sleep(200);
      const added = during.map((ms) => (ms === null ? null : Math.max(0, ms - base)));
      const answered = added.every((a) => a !== null);
      const maxAdded = answered ? Math.max(...(added as number[])) : null;
      fate.dropped = true;
      socket.destroy();
      runs.push({ framing, during, added, maxAdded, fate, passed: answered && maxAdded! <= options.readTimeoutSeconds * 1000, endedAfterS: seconds(performance.now() - stallStarted) });
      ctx.log(`  ${FRAMING_TEXT[framing]}: added delay ${maxAdded === null ? `over ${cap / 1000} s` : `${seconds(maxAdded)} s`}`);
    }
    const status = await owner.status(job.id);
    const passed = runs.every((r) => r.passed) && baseline.every((b) => b !== null) && status.state === "running";
    const detail = [
      `Honest uploads with no stall: ${baseline.map((b) => (b === null ? "no answer" : `${Math.round(b)} ms`)).join(", ")} (median ${Math.round(base)} ms); read timeout to keep: ${options.readTimeoutSeconds} s.`,
      ...runs.flatMap((r) => [
        `${FRAMING_TEXT[r.framing]}, kept open; ${options.honest} honest devices then uploaded to the same shard at once: ${r.during.map((d) => (d === null ? `no answer within ${cap / 1000} s` : `${Math.round(d)} ms`)).join(", ")}; added delay at most ${r.maxAdded === null ? `over ${cap / 1000} s` : `${seconds(r.maxAdded)} s`}${r.passed ? "" : " (over the read timeout)"}.`,
        `  The stalled upload: ${r.fate.status === null ? "no answer" : `answered ${r.fate.status} after ${r.fate.answeredAfterS} s`}; its connection ${r.fate.closedAfterS === null ? `still open when dropped by the suite after ${r.endedAfterS} s` : `closed by the control plane after ${r.fate.closedAfterS} s`}.`,
      ]),
      `Round 1 counted ${status.rounds[0]?.reported ?? 0} reports; the job is ${status.state}.`,
    ];
    const added = runs.flatMap((r) => r.added);
    return {
      scenario: "stall", setup: `a stalled upload (${FRAMINGS.join(", then ")}), ${options.honest} honest beside it, read timeout ${options.readTimeoutSeconds} s`, passed, tally: null, rounds: null,
      recoverySeconds: added.filter((a): a is number => a !== null).map(seconds), detail, figures: { baselineMs: baseline, runs, readTimeoutSeconds: options.readTimeoutSeconds },
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await plane.dispose();
  }
}

/** Opens a raw connection, sends an upload's headers and half its body, and leaves it open; `fate` records what the server does. */
async function stallUpload(baseUrl: string, task: Task, token: string, body: Uint8Array, framing: Framing, fate: StalledFate, started: number): Promise<Socket> {
  const url = new URL(task.uploadUrl, baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => (socket.once("connect", resolve), socket.once("error", reject)));
  socket.on("error", () => undefined);
  socket.on("data", (chunk: Buffer) => {
    if (fate.status !== null) return;
    fate.status = Number(/^HTTP\/1\.1 (\d+)/.exec(chunk.toString("latin1"))?.[1] ?? 0);
    fate.answeredAfterS = seconds(performance.now() - started);
  });
  // Closed by the server, not by the suite dropping it afterwards (`destroy()` emits close too).
  const closed = () => fate.dropped || fate.closedAfterS !== null || (fate.closedAfterS = seconds(performance.now() - started));
  socket.on("end", closed);
  socket.on("close", closed);
  const head = [
    `POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, `authorization: Bearer ${token}`, `content-type: ${WEIGHTS_MEDIA_TYPE}`,
    `${TICKET_HEADER}: ${task.ticket}`, framing === "chunked" ? "transfer-encoding: chunked" : `content-length: ${framing === "over-budget" ? READ_AHEAD_BYTES + body.length : body.length}`, "", "",
  ].join("\r\n");
  socket.write(head);
  const half = body.subarray(0, Math.floor(body.length / 2));
  socket.write(framing === "chunked" ? Buffer.concat([Buffer.from(`${half.length.toString(16)}\r\n`), half, Buffer.from("\r\n")]) : half);
  return socket;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
