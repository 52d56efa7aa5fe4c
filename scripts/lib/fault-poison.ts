import { DeviceClient } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import { PropiusError, parameterCount, type JobSpecInput } from "@propius/shared";
import { seconds, waitFor, type FaultContext, type FaultResult } from "./fault-scenario.js";

/** The overflowing value: finite in fp32 (max 3.4e38), but any weighted sum of two overflows. */
const POISON = 3e38;
const DEADLINE_SECONDS = 10;

/**
 * One device of four uploads a delta of 3e38 in every entry (first in its round with a weight of 1
 * example, then last with 1,000): after each round the model must be finite, the honest updates
 * accepted, and the job must go on to finish.
 */
export async function poisonScenario(ctx: FaultContext): Promise<FaultResult> {
  const plane = await ctx.startPlane({ SCHEDULER_VIEW_TTL_MS: "0" });
  try {
    const owner = await plane.owner("faults-poison");
    const model = linearModel(4, 4);
    const size = parameterCount(model.weightSpecs);
    const plan = [{ poisonFirst: true, examples: 1 }, { poisonFirst: false, examples: 1_000 }, null];
    const spec: JobSpecInput = { name: "poison", model, plan: { rounds: plan.length, clientsPerRound: 4, overCommit: 1, minReportFraction: 0.5, roundDeadlineSeconds: DEADLINE_SECONDS, localEpochs: 1 } };
    const job = await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(size).fill(0.5));
    const devices = await Promise.all(Array.from({ length: 4 }, async () => {
      const client = new DeviceClient({ baseUrl: plane.url, attempts: 1 });
      await client.register({});
      return client;
    }));
    const rounds: { round: number; poison: string; honest: string[]; finite: boolean; maxAbs: number; closedAfterS: number; state: string }[] = [];
    for (const [i, poison] of plan.entries()) {
      const round = i + 1;
      const tasks = await Promise.all(devices.map(async (device) => {
        const reply = await device.checkIn({});
        if (reply.status !== "task" || reply.task.round !== round) throw new Error(`round ${round}: expected a task, got ${JSON.stringify(reply)}`);
        return reply.task;
      }));
      const started = Date.now();
      const send = (d: number, value: number, examples: number) => outcome(devices[d].uploadUpdate(tasks[d], new Float32Array(size).fill(value), { examples }));
      let poisoned = "none sent";
      if (poison?.poisonFirst) poisoned = await send(0, POISON, poison.examples);
      const honest = await Promise.all([1, 2, 3].map((d) => send(d, 0.01, 10)));
      if (poison && !poison.poisonFirst) poisoned = await send(0, POISON, poison.examples);
      if (!poison) honest.push(await send(0, 0.01, 10));
      const status = await waitFor(() => owner.status(job.id), (s) => s.currentRound > round || s.state !== "running", 4 * DEADLINE_SECONDS * 1000, 200);
      const weights = await owner.weights(job.id);
      const maxAbs = weights.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      rounds.push({ round, poison: poison ? `${poisoned} (weight ${poison.examples}, sent ${poison.poisonFirst ? "first" : "last"})` : "none", honest, finite: weights.every(Number.isFinite), maxAbs, closedAfterS: seconds(Date.now() - started), state: status.state });
      ctx.log(`  round ${round}: poison ${rounds.at(-1)!.poison}; model finite: ${rounds.at(-1)!.finite}; job ${status.state}`);
    }
    const final = await owner.status(job.id);
    const honestOk = rounds.every((r) => r.honest.every((h) => h === "accepted"));
    const passed = rounds.every((r) => r.finite) && honestOk && final.state === "done";
    const detail = [
      `Four devices a round; one sends ${POISON} in every entry of its delta (finite in fp32; a weighted sum of two overflows) in rounds 1 and 2; round 3 is honest.`,
      ...rounds.map((r) => `Round ${r.round}: poisoned upload ${r.poison}; honest uploads ${r.honest.join(", ")}; the next model ${r.finite ? "finite" : "NOT finite"} (largest |weight| ${r.maxAbs.toExponential(3)}), round ended ${r.closedAfterS} s after its uploads began; job ${r.state}.`),
      `The job ${final.state} after ${final.rounds.filter((r) => r.status === "closed").length} closed rounds.`,
      ...(rounds.some((r) => r.maxAbs > 1e6) ? ["Finite is what this checks: an accepted poisoned delta still moves the model far from its start (the weights began at 0.5); bounding an update's norm is what keeps it useful."] : []),
    ];
    return { scenario: "poison-finite", setup: `a ${POISON} delta in 2 of 3 rounds, 4 devices`, passed, tally: null, rounds: null, recoverySeconds: [], detail, figures: { rounds } };
  } finally {
    await plane.dispose();
  }
}

/** "accepted", or the error code the upload was refused with. */
async function outcome(upload: Promise<unknown>): Promise<string> {
  try {
    await upload;
    return "accepted";
  } catch (error) {
    return error instanceof PropiusError ? `refused ${error.status} ${error.code}` : `failed: ${String(error)}`;
  }
}
