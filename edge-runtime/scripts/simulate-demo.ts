/**
 * Runs the demo job's full federated simulation in one process and prints per-round test
 * accuracy and timings:
 *
 *   npx tsx edge-runtime/scripts/simulate-demo.ts --seed 1 [--rounds 10] [--clients 8] [--backend wasm]
 */
import { parseArgs } from "node:util";
import { describeShard, simulateFedAvg } from "../src/demo/index.js";
import { initTraining } from "../src/training/index.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    rounds: { type: "string", default: "10" },
    clients: { type: "string", default: "8" },
    backend: { type: "string" },
  },
});
const seed = Number(values.seed);
const rounds = Number(values.rounds);
const clients = Number(values.clients);

const cpuStarted = process.cpuUsage();
const started = performance.now();
const backend = await initTraining(values.backend ? { prefer: [values.backend] } : {});
console.log(`backend ${backend}, seed ${seed}, ${rounds} rounds of ${clients} clients`);
for (let index = 0; index < clients; index++) console.log((await describeShard({ index, shards: clients, seed })).summary);

const result = await simulateFedAvg({
  seed,
  rounds,
  clients,
  onRound: (r) =>
    console.log(
      `round ${String(r.round).padStart(2)}: accuracy ${r.accuracy.toFixed(4)}  test loss ${r.loss.toFixed(4)}  ` +
        `train loss ${r.trainLoss.toFixed(4)}  training ${(r.trainMillis / 1000).toFixed(2)} s  round ${(r.millis / 1000).toFixed(2)} s`,
    ),
});

const trainSeconds = result.rounds.reduce((s, r) => s + r.trainMillis, 0) / 1000;
const cpu = process.cpuUsage(cpuStarted);
console.log(
  `final accuracy ${result.rounds.at(-1)!.accuracy.toFixed(4)}; client training ${trainSeconds.toFixed(1)} s, ` +
    `wall ${((performance.now() - started) / 1000).toFixed(1)} s, process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`,
);
