import { describe, expect, it } from "vitest";
import { secAggRound } from "@propius/shared/secagg/test-round";

describe("secure aggregation inside workerd", () => {
  it("runs a round with a dropout on the Worker runtime's WebCrypto and gives exactly the quantized sum", async () => {
    const inputs = Array.from({ length: 5 }, (_, u) => Float32Array.from({ length: 64 }, (_, i) => Math.sin(u * 64 + i) * 0.8));
    const { sum, plain, senders } = await secAggRound({ inputs, threshold: 3, dropped: [2], format: { range: 1, maxInputs: 32 }, context: "job_w/1/0" });
    expect(senders).toEqual([1, 3, 4, 5]);
    expect(Array.from(sum)).toEqual(Array.from(plain));
  });
});
