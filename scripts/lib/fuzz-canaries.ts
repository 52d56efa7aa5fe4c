import type { CheckInReply } from "@propius/shared";
import { call, counters, type World } from "./fuzz-world.js";

/**
 * Innocent requests sent beside the hostile ones, which must all succeed: waiting devices'
 * check-ins (answered with a wait: the round is full), the owner's status reads, a device's model
 * download and the health check, one after another until the hostile traffic ends.
 */
export interface CanaryTally {
  sent: number;
  failed: number;
  /** Check-ins among them: each writes its device's row in its client-manager shard. */
  checkIns: number;
  statementsPerCheckIn: number;
  failures: string[];
}

/** How many statements one waiting device's check-in writes (its registry row), measured before the run. */
export async function statementsOfCheckIn(world: World): Promise<number> {
  const written = async () => (await counters(world)).writes.ClientManagerObject?.statements ?? 0;
  const before = await written();
  const times = 4;
  for (let i = 0; i < times; i++) await checkIn(world, i);
  return Math.ceil(((await written()) - before) / times);
}

function checkIn(world: World, i: number) {
  return call(world.url, "POST", "/v1/checkin", { token: world.waiting[i % 3].token, json: { attributes: { platform: "node" } } });
}

export async function canaryLoop(world: World, stop: AbortSignal): Promise<CanaryTally> {
  const tally: CanaryTally = { sent: 0, failed: 0, checkIns: 0, statementsPerCheckIn: 0, failures: [] };
  const canaries: [string, () => ReturnType<typeof call>, (body: unknown) => boolean][] = [
    ["check-in", () => (tally.checkIns++, checkIn(world, tally.sent)), (body) => (body as CheckInReply).status === "wait"],
    ["job status", () => call(world.url, "GET", `/v1/jobs/${world.jobId}`, { token: world.owner.apiKey }), (body) => (body as { id?: string }).id === world.jobId],
    ["model download", () => call(world.url, "GET", `/v1/models/${world.modelHash}`, { token: world.waiting[0].token }), () => true],
    ["health", () => call(world.url, "GET", "/v1/health"), (body) => (body as { ok?: boolean }).ok === true],
  ];
  while (!stop.aborted) {
    const [name, request, expected] = canaries[tally.sent % canaries.length];
    tally.sent++;
    try {
      const answer = await request();
      if (answer.status !== 200 || !expected(answer.body)) (tally.failed++, tally.failures.push(`${name}: ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 200)}`));
    } catch (error) {
      tally.failed++;
      tally.failures.push(`${name}: ${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? "")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return tally;
}
