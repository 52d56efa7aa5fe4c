import type { EventLogLine } from "@propius/node-client";
import { linearModel } from "@propius/edge-runtime/demo";
import { parameterCount, type JobSpecInput } from "@propius/shared";
import { seededRandom } from "../../control/src/simulator/random.js";
import { never, startLoopDevice, type LoopDevice } from "./fault-devices.js";
import { tallyUpdates } from "./fault-tally.js";
import { lateness, roundsByDeadline, seconds, waitFor, type FaultContext, type FaultResult } from "./fault-scenario.js";

export interface DropoutOptions {
  rounds: number;
  /** Devices a round binds (its demand). */
  demand: number;
  /** The share of a round attempt's first `demand` bound devices that vanish once bound (0.3). */
  fraction: number;
}

const DEADLINE_SECONDS = 12;
const LEASE_SECONDS = 4;

/**
 * A share of every round attempt's devices vanish once bound (no update, no failure report, no
 * word): each attempt must still end, closed or retried, by its deadline, and the vanished devices'
 * slots go back to the round once their leases run out (so waiting devices take them). Devices in
 * this process run the shared task loop over HTTP with a synthetic delta; a vanished device is
 * replaced by a newly enrolled one, so the pool keeps its size.
 */
export async function dropoutScenario(ctx: FaultContext, options: DropoutOptions): Promise<FaultResult> {
  const plane = await ctx.startPlane({ SCHEDULER_VIEW_TTL_MS: "0" });
  const lines: EventLogLine[] = [];
  const devices: LoopDevice[] = [];
  const random = seededRandom(ctx.seed, 3);
  const vanishing = Math.round(options.demand * options.fraction);
  const arrivals = new Map<string, number>();
  const plans = new Map<string, Set<number>>();
  const vanished = new Map<string, number>();
  try {
    const owner = await plane.owner("faults-dropout");
    const model = linearModel(4, 4);
    const spec: JobSpecInput = {
      name: "dropout", model,
      plan: { rounds: options.rounds, clientsPerRound: options.demand, overCommit: 1, minReportFraction: 0.7, roundDeadlineSeconds: DEADLINE_SECONDS, leaseSeconds: LEASE_SECONDS, localEpochs: 1 },
    };
    const job = await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(parameterCount(model.weightSpecs)));
    /** Which arrivals of an attempt vanish: `vanishing` of its first `demand`, drawn with the seed. */
    const planOf = (key: string) => {
      if (!plans.has(key)) {
        const order = Array.from({ length: options.demand }, (_, i) => i).sort(() => random() - 0.5);
        plans.set(key, new Set(order.slice(0, vanishing)));
      }
      return plans.get(key)!;
    };
    let next = 0;
    const start = async (): Promise<void> => {
      const index = next++;
      devices.push(await startLoopDevice({
        url: plane.url, id: `d${index}`, lines,
        trainer: (device) => async (task, weights, signal) => {
          const key = `${task.round}.${task.attempt ?? 0}`;
          const arrival = arrivals.get(key) ?? 0;
          arrivals.set(key, arrival + 1);
          if (planOf(key).has(arrival)) {
            vanished.set(key, (vanished.get(key) ?? 0) + 1);
            device.vanish();
            void start();
            return never(signal);
          }
          return { delta: new Float32Array(weights.length).fill(0.01), examples: 1 + (index % 7), trainLoss: 1 };
        },
      }));
    };
    // The round's demand and as many again as vanish: the spare ones take the slots that come back.
    for (let i = 0; i < options.demand + vanishing; i++) await start();
    const final = await waitFor(() => owner.status(job.id), (s) => s.state !== "running", options.rounds * 4 * DEADLINE_SECONDS * 1000, 500);
    const tally = tallyUpdates(final.rounds, lines);
    const rounds = roundsByDeadline(final.rounds, DEADLINE_SECONDS, 2_000);
    const perAttempt = final.rounds.map((r) => {
      const gone = vanished.get(`${r.round}.${r.attempt}`) ?? 0;
      const late = lateness(r, DEADLINE_SECONDS);
      return { round: r.round, attempt: r.attempt, status: r.status, demand: r.demand, bound: r.bound, vanished: gone, timedOut: r.timedOut, reported: r.reported, deadlineS: DEADLINE_SECONDS, endedS: r.closedAt === null ? null : seconds(r.closedAt - r.openedAt), lateS: late === null ? null : seconds(late) };
    });
    // No slot leaks: every slot a vanished device held came back (its lease ran out) and was bound again or left free.
    const leaked = perAttempt.filter((a) => a.endedS !== null && a.bound - a.vanished > a.demand);
    const reclaimed = perAttempt.reduce((n, a) => n + Math.max(0, a.bound - a.demand), 0);
    const gave = devices.filter((d) => d.exit).map((d) => `${d.id}: ${d.exit!.error}`);
    const passed = final.state === "done" && rounds.byDeadline === rounds.ended && tally.lost === 0 && tally.doubled === 0 && tally.unexplained.length === 0 && leaked.length === 0 && gave.length === 0;
    const detail = [
      `${options.demand} devices a round, ${vanishing} of each attempt's first ${options.demand} (${Math.round(options.fraction * 100)} %) vanish once bound; leases of ${LEASE_SECONDS} s, deadline ${DEADLINE_SECONDS} s, 70 % of reports to close; the job ${final.state}.`,
      "Per attempt: round.attempt status, bound (demand), vanished, timed out, reported, ended after (deadline):",
      ...perAttempt.map((a) => `  ${a.round}.${a.attempt} ${a.status}: bound ${a.bound} (${a.demand}), vanished ${a.vanished}, timed out ${a.timedOut}, reported ${a.reported}, ended after ${a.endedS ?? "-"} s (deadline ${a.deadlineS} s)`),
      `Attempts ended by their deadline (+2 s): ${rounds.byDeadline} of ${rounds.ended}; slots of vanished devices bound again within their attempt: ${reclaimed}; attempts holding a vanished device's slot beyond its demand: ${leaked.length}.`,
      `Acknowledged updates ${tally.acknowledged}, counted ${tally.counted}: lost ${tally.lost}, double-counted ${tally.doubled}${tally.unexplained.length ? `; unexplained: ${tally.unexplained.join("; ")}` : ""}${gave.length ? `; devices that gave up: ${gave.join("; ")}` : ""}.`,
    ];
    const ended = perAttempt.filter((a) => a.endedS !== null).map((a) => a.endedS!);
    return { scenario: "dropout", setup: `${options.rounds} rounds of ${options.demand} devices, ${Math.round(options.fraction * 100)} % vanish`, passed, tally, rounds, recoverySeconds: ended, detail, figures: { perAttempt } };
  } finally {
    for (const device of devices) device.vanish();
    await plane.dispose();
  }
}
