import { beforeAll, describe, expect, it } from "vitest";
import { initTraining } from "../training/backend.js";
import { simulateFedAvg } from "./simulation.js";

describe("FedAvg on the demo job (short, real)", () => {
  beforeAll(async () => {
    await initTraining();
  });

  it("raises test accuracy round after round: 3 rounds of 4 clients on 1/16 shards", async () => {
    const { rounds } = await simulateFedAvg({ seed: 1, rounds: 3, clients: 4, shards: 16 });
    const accuracy = rounds.map((r) => r.accuracy);
    expect(accuracy[1]).toBeGreaterThan(accuracy[0]);
    expect(accuracy[2]).toBeGreaterThan(accuracy[1]);
    expect(accuracy[2]).toBeGreaterThan(THRESHOLD);
  }, 120_000);
});
