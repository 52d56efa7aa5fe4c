import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEventLog, type EventLogLine } from "@propius/node-client";
import { seededRandom } from "../../control/src/simulator/random.js";
import { createDemoJob } from "./demo-job.js";
import { startDemoClients, stopAll } from "./demo-clients.js";
import { tallyUpdates } from "./fault-tally.js";
import { roundsByDeadline, seconds, sleep, waitFor, type FaultContext, type FaultResult } from "./fault-scenario.js";

export interface KillOptions {
  kills: number;
  /** Node devices (the CLI, training the demo's MNIST model), one round needs all of them. */
  devices: number;
  rounds: number;
  /** Seconds the control plane runs between two kills: drawn uniformly from [min, max]. */
  gapSeconds: [number, number];
  roundDeadlineSeconds?: number;
}

/**
 * The control plane SIGKILLed (wrangler and its workerd) at random moments while Node devices run a
 * job, and restarted at once on the same persisted state. Afterwards every receipt a device got must
 * be counted by the job's round records, none twice, and the job must finish.
 */
export async function killScenario(ctx: FaultContext, options: KillOptions): Promise<FaultResult> {
  const deadlineSeconds = options.roundDeadlineSeconds ?? 120;
  const dir = join(ctx.workDir, "kills");
  await mkdir(dir, { recursive: true });
  const plane = await ctx.startPlane();
  const random = seededRandom(ctx.seed, 1);
  const logFile = join(dir, "events.jsonl");
  const output: string[] = [];
  const kills: { killedAt: number; backAt: number }[] = [];
  try {
    const owner = await plane.owner("faults-kills");
    const job = await createDemoJob(owner, { rounds: options.rounds, clients: options.devices, roundDeadlineSeconds: deadlineSeconds, federatedEvaluation: false, minExamples: 0 });
    const devices = startDemoClients({
      url: plane.url, count: options.devices, seed: ctx.seed, stateDir: dir, entry: ctx.deviceEntry, cacheDir: ctx.cacheDir, processes: 1,
      args: () => ["--event-log", logFile, "--poll", "--quiet"], onLine: (i, line) => output.push(`[${i}] ${line}`),
    });
    const exits: string[] = [];
    for (const child of devices) child.once("exit", (code, signal) => exits.push(`exit ${code ?? signal}`));
    try {
      // The first kill comes once devices have started reporting (a job that has not begun proves little).
      await waitFor(() => owner.status(job.id), (s) => s.rounds.some((r) => r.reported > 0), 180_000, 500);
      for (let k = 0; k < options.kills; k++) {
        const [min, max] = options.gapSeconds;
        await sleep((min + random() * (max - min)) * 1000);
        const status = await owner.status(job.id);
        if (status.state !== "running") {
          ctx.log(`  the job is ${status.state} after ${k} kills: more rounds are needed for ${options.kills}`);
          break;
        }
        const killedAt = Date.now();
        await plane.kill();
        await plane.restart();
        kills.push({ killedAt, backAt: Date.now() });
        ctx.log(`  kill ${k + 1}/${options.kills} in round ${status.currentRound}: back after ${seconds(Date.now() - killedAt)} s`);
      }
      const final = await waitFor(() => owner.status(job.id), (s) => s.state !== "running", options.rounds * 30_000, 1_000);
      await sleep(500); // the devices write their last lines
      const lines = parseEventLog(await readFile(logFile, "utf8").catch(() => ""));
      const tally = tallyUpdates(final.rounds, lines);
      const rounds = roundsByDeadline(final.rounds, deadlineSeconds, 2_000);
      const recovery = kills.map((kill, i) => recoveryOf(lines, kill.backAt, kills[i + 1]?.killedAt ?? Infinity));
      const recovered = recovery.filter((r): r is number => r !== null);
      const stillRunning = devices.every((child) => child.exitCode === null && child.signalCode === null);
      const passed = kills.length === options.kills && final.state === "done" && tally.lost === 0 && tally.doubled === 0 && tally.unexplained.length === 0 && stillRunning;
      const detail = [
        `${kills.length} kills (SIGKILL to wrangler and its workerd processes), each followed at once by a restart on the same state; the job ${final.state} after ${final.currentRound} rounds.`,
        `Acknowledged updates ${tally.acknowledged}, counted ${tally.counted}: lost ${tally.lost}, double-counted ${tally.doubled}${tally.unexplained.length ? `; unexplained: ${tally.unexplained.join("; ")}` : ""}.`,
        `Restart (kill to answering again): ${summary(kills.map((k) => k.backAt - k.killedAt))}; restart to the next accepted update: ${summary(recovered.map((s) => s * 1000))}${recovered.length < kills.length ? ` (${kills.length - recovered.length} of the kills followed by no accepted update before the next kill)` : ""}.`,
        `Round attempts ended by their deadline (+2 s): ${rounds.byDeadline} of ${rounds.ended}; devices still running: ${stillRunning ? "all" : `no (${exits.join(", ")})`}.`,
        ...(passed ? [] : output.slice(-10)),
      ];
      return {
        scenario: "kills", setup: `${kills.length} kills, ${options.devices} Node devices, ${options.rounds} rounds`, passed, tally, rounds, recoverySeconds: recovered, detail,
        figures: { kills, restartMs: kills.map((k) => k.backAt - k.killedAt), recoverySeconds: recovery, finalState: final.state, records: final.rounds.length },
      };
    } finally {
      await stopAll(devices);
    }
  } finally {
    await plane.dispose();
  }
}

/** Seconds from `backAt` to the first accepted update before `until`, or null when there was none. */
function recoveryOf(lines: readonly EventLogLine[], backAt: number, until: number): number | null {
  const first = lines.find((l) => l.type === "uploaded" && l.at >= backAt && l.at < until);
  return first ? seconds(first.at - backAt) : null;
}

/** "median x s, max y s" of durations in ms. */
export function summary(ms: readonly number[]): string {
  if (ms.length === 0) return "none";
  const sorted = [...ms].sort((a, b) => a - b);
  return `median ${seconds(sorted[Math.floor(sorted.length / 2)])} s, max ${seconds(sorted[sorted.length - 1])} s`;
}
