import { chance } from "./fuzz-random.js";
import { hostileHandshake } from "./fuzz-push.js";
import type { requestGenerator } from "./fuzz-requests.js";
import { send } from "./fuzz-send.js";
import { memorySampler, type MemoryFigures } from "./fuzz-memory.js";
import type { World } from "./fuzz-world.js";
import { startOneLineWorker } from "./one-line-worker.js";

export interface ReferenceMemory extends MemoryFigures {
  /** Requests sent: the run's, less its push frames (a one-line Worker holds no push connection). */
  sent: number;
}

/**
 * The memory the runtime itself takes for the fuzz run's requests: the same seeded requests
 * (routes, weights messages, handshakes; the same bodies, in the same order, as many at once) sent
 * to a one-line Worker under `wrangler dev`, measured the same way (fuzz-memory.ts). What the
 * control plane grows beyond it is the control plane's own.
 */
export async function referenceMemory(input: {
  world: World;
  generator: Awaited<ReturnType<typeof requestGenerator>>;
  seed: number;
  requests: number;
  concurrency: number;
  settleMs?: number;
  log: (line: string) => void;
}): Promise<ReferenceMemory> {
  const reference = await startOneLineWorker();
  try {
    const memory = memorySampler(reference.pids, reference.inspectorPort, input.settleMs);
    const base = new URL(reference.url);
    // The run's seeds, drawn as the run draws them: the same requests, index for index.
    const rng = chance(input.seed);
    const seeds = Array.from({ length: input.requests }, () => rng.fork());
    const warmUp = Math.min(1_000, Math.ceil(input.requests / 10));
    let next = 0;
    let sent = 0;
    let warm: Promise<void> | null = null;
    const worker = async () => {
      while (next < input.requests) {
        if (next === warmUp && !warm) await (warm = memory.start());
        else if (next >= warmUp && warm) await warm;
        const index = next++;
        if (index % 20 === 7) continue;
        const request = index % 20 === 13 ? hostileHandshake(input.world, seeds[index]) : input.generator.next(index, seeds[index]);
        await send(base, request);
        if (++sent % 2_000 === 0) input.log(`reference: ${sent} sent to the one-line Worker`);
      }
    };
    await Promise.all(Array.from({ length: input.concurrency }, worker));
    await memory.settle();
    return { ...memory.figures(), sent };
  } finally {
    await reference.stop();
  }
}
