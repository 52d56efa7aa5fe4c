import { describe, expect, it } from "vitest";
import { TaskFailureError, failureOf } from "./task-failure.js";

describe("failureOf", () => {
  it("reads a missing kernel from tfjs' own message", () => {
    expect(failureOf(new Error("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"))).toEqual({
      code: "missing_kernel",
      message: "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'",
    });
  });

  it("reads memory that ran out from JavaScript's and wasm's messages", () => {
    expect(failureOf(new RangeError("Array buffer allocation failed")).code).toBe("out_of_memory");
    expect(failureOf(new Error("Cannot enlarge memory arrays to size 2147483648 bytes")).code).toBe("out_of_memory");
  });

  it("keeps the code of an error that says it, and calls anything else a training error", () => {
    expect(failureOf(new TaskFailureError("data_mismatch", "784 values, the job takes 2352")).code).toBe("data_mismatch");
    expect(failureOf(new Error("loss is NaN"))).toEqual({ code: "training_error", message: "loss is NaN" });
    expect(failureOf("a string").code).toBe("training_error");
  });

  it("keeps at most 2,000 characters of the message", () => {
    expect(failureOf(new Error("x".repeat(5000))).message).toHaveLength(2000);
  });
});
