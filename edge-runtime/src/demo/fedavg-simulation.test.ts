import { beforeAll, describe, expect, it } from "vitest";
import { initTraining } from "../training/backend.js";
import { simulateFedAvg } from "./simulation.js";

describe("FedAvg on the demo job (short, real)", () => {
  beforeAll(async () => {
    await initTraining();
  });

  it("raises test accuracy over 3 rounds of 4 clients on 1/16 shards", async () => {
    const { rounds } = await simulateFedAvg({ seed: 1, rounds: 3, clients: 4, shards: 16 });
    const accuracy = rounds.map((r) => r.accuracy);
    expect(accuracy[0]).toBeGreaterThan(0.2);
    expect(accuracy[2]).toBeGreaterThan(accuracy[0]);
    expect(accuracy[2]).toBeGreaterThan(0.5);
  }, 120_000);
});
