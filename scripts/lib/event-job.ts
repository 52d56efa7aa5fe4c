import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { JobEventSubscription, type OwnerClient } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import type { JobEvent, JobSpecInput, JobStatus } from "@propius/shared";
import { nodeWebSocket } from "../../node-client/src/web-socket.js";
import { ROOT } from "./local-control-plane.js";

/** A round's close as a subscriber saw it: the job's timestamps and the subscriber's clock on receipt. */
export interface ReceivedClose {
  round: number;
  seq: number;
  /** The round record's closedAt: when the job closed the round. */
  closedAt: number;
  /** The event's own stamp: when the job published it. */
  publishedAt: number;
  receivedAt: number;
}

export interface EventJobRun {
  job: JobStatus;
  closes: ReceivedClose[];
  /** Every event received, in order. */
  events: JobEvent[];
  /** The subscriber's clock on receipt of each event, in the same order. */
  arrivals: number[];
  final: JobStatus;
  /** Keep-alive round trips on the subscriber's connection (ms), taken after each close. */
  pings: number[];
}

/** A model small enough that a round's time is the platform's, not training's: a 4x2 linear layer. */
export function eventJobSpec(rounds: number, devices: number): JobSpecInput {
  return { name: "events", model: linearModel(4, 2), plan: { rounds, clientsPerRound: devices, overCommit: 1, roundDeadlineSeconds: 120, localSteps: 1 } };
}

/**
 * Runs a job of `rounds` rounds with `devices` Node devices (scripts/event-devices.ts: the task loop
 * on push connections, in a process of their own) while an owner's subscriber follows it live: the round-closed events are timed on receipt, and
 * after each one `pingsPerClose` keep-alive round trips on the same connection give the ceiling.
 */
export async function runEventJob(options: {
  url: string; owner: OwnerClient; apiKey: string; rounds: number; devices: number; pingsPerClose?: number; timeoutMs?: number; onDeviceOutput?: (text: string) => void;
  /** Runs once the job exists and this subscriber follows it, before its model is set (another subscriber joins here). */
  beforeStart?: (job: JobStatus) => Promise<void>;
}): Promise<EventJobRun> {
  const { url, owner, rounds, devices } = options;
  const spec = eventJobSpec(rounds, devices);
  const job = await owner.createJob(spec);
  const events: JobEvent[] = [];
  const arrivals: number[] = [];
  const closes: ReceivedClose[] = [];
  const pings: number[] = [];
  const subscription = await JobEventSubscription.open({ baseUrl: url, apiKey: options.apiKey, jobId: job.id, connector: nodeWebSocket() });
  await options.beforeStart?.(job);
  const child = spawn(process.execPath, [join(ROOT, "scripts/run.mjs"), "scripts/event-devices.ts", "--url", url, "--devices", String(devices), "--tasks", String(rounds)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const output = (chunk: Buffer) => options.onDeviceOutput?.(chunk.toString());
  child.stdout.on("data", output);
  child.stderr.on("data", output);
  const exited = once(child, "exit");
  try {
    await owner.setInitialModel(job, spec, new Float32Array(8));
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    let done = false;
    while (!done) {
      const event = await subscription.next(Math.max(1, deadline - Date.now()));
      if (!event) throw new Error(`no event within the time given; last seen: ${JSON.stringify(events.at(-1))}`);
      const receivedAt = Date.now();
      events.push(event);
      arrivals.push(receivedAt);
      if (event.type === "round_closed") {
        closes.push({ round: event.round, seq: event.seq, closedAt: event.record.closedAt!, publishedAt: event.at, receivedAt });
        for (let i = 0; i < (options.pingsPerClose ?? 1); i++) pings.push(await subscription.ping());
      }
      done = (event.type === "state_changed" && event.to !== "running") || (event.type === "snapshot" && event.status.state !== "running" && event.status.state !== "pending_model");
    }
    return { job, closes, events, arrivals, final: await owner.status(job.id), pings };
  } finally {
    subscription.close();
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  }
}
