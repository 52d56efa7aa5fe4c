import { DeviceClient, runTaskLoop, type LoopEvent, type TrainOutcome, type Trainer } from "@propius/edge-runtime";
import { demoShard, mulberry32 } from "@propius/edge-runtime/demo";
import { trainLocal, type LocalData } from "@propius/edge-runtime/training";
import { l2Norm } from "@propius/shared";
import { nodeWebSocket } from "@propius/node-client";

/** What a malicious device does to the update it trained for real. */
export type Attack = "scaled" | "sign-flip-1e9" | "noise";
export const ATTACKS: Record<Attack, string> = {
  scaled: "delta x1e3",
  "sign-flip-1e9": "sign-flipped delta claiming 1e9 examples",
  noise: "Gaussian noise (sd 1 per parameter)",
};

/** The attacker's update from its honest one: scaled, sign-flipped with a claim of 1e9 examples, or replaced by noise. */
export function poison(attack: Attack, honest: TrainOutcome, random: () => number): TrainOutcome {
  if (attack === "scaled") return { ...honest, delta: honest.delta.map((v) => v * 1e3) };
  if (attack === "sign-flip-1e9") return { ...honest, delta: honest.delta.map((v) => -v), examples: 1e9 };
  // Box-Muller from the seeded generator.
  const delta = new Float32Array(honest.delta.length);
  for (let i = 0; i < delta.length; i++) delta[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return { ...honest, delta };
}

/** One in-process device: enrolled once, its demo shard, and whether (and how) it attacks in the current run. */
export interface BenchDevice {
  index: number;
  client: DeviceClient;
  data: LocalData;
  attack: Attack | null;
}

/** Enrols `count` devices on the control plane at `url`, each with demo shard i of `count` (split seed `seed`). */
export async function enrolDevices(url: string, count: number, seed: number): Promise<BenchDevice[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const client = new DeviceClient({ baseUrl: url });
      await client.register({ platform: "node", backend: "wasm" });
      return { index, client, data: await demoShard({ index, shards: count, seed }), attack: null };
    }),
  );
}

/**
 * Runs every device's task loop (the production one: check in over a push connection, download,
 * train, upload) until it has had `tasks` updates accepted or `signal` aborts. Training is real
 * (tfjs, the task's plan, shuffled with a generator seeded by device and round); honest devices'
 * delta norms are passed to `onNorm`.
 */
export async function runDevices(
  devices: BenchDevice[],
  options: { tasks: number; seed: number; signal: AbortSignal; onNorm?: (norm: number) => void; onEvent?: (device: number, line: string) => void; onLoopEvent?: (device: number, event: LoopEvent) => void },
): Promise<void> {
  await Promise.all(
    devices.map(async (device) => {
      const trainer: Trainer = async (task, weights, signal) => {
        const random = mulberry32(options.seed * 1_000_003 + device.index * 1_009 + task.round);
        const trained = await trainLocal({ model: task.model, weights, data: device.data, plan: task.plan, signal, random });
        const honest = { delta: trained.delta, examples: trained.examples, trainLoss: trained.trainLoss };
        if (!device.attack) options.onNorm?.(l2Norm(honest.delta));
        return device.attack ? poison(device.attack, honest, random) : honest;
      };
      try {
        await runTaskLoop({
          client: device.client, trainer, attributes: { platform: "node", backend: "wasm" }, privateAttributes: { dataset_size: device.data.count },
          push: nodeWebSocket(), maxTasks: options.tasks, signal: options.signal,
          onEvent: (event) => {
            options.onLoopEvent?.(device.index, event);
            if (event.type === "refused" || event.type === "failed") options.onEvent?.(device.index, `${event.type}: ${JSON.stringify(event.type === "refused" ? event.code : event.failure.code)}`);
          },
        });
      } catch (error) {
        if (!options.signal.aborted) options.onEvent?.(device.index, `stopped: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
  );
}
