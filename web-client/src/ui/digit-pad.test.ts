import { describe, expect, it } from "vitest";
import { describePrediction } from "./digit-pad.js";

describe("describePrediction", () => {
  it("names the most probable digit, the next two, and the model version", () => {
    const probabilities = [0.01, 0.05, 0.02, 0.8, 0.01, 0.06, 0.01, 0.02, 0.01, 0.01];
    expect(describePrediction({ jobId: "job_x", round: 4, probabilities })).toBe(
      "The model predicts 3 (80.0 %); next 5 (6.0 %), 1 (5.0 %). Model: job job_x as round 4 started, run with ONNX Runtime Web in this tab.",
    );
  });
});
