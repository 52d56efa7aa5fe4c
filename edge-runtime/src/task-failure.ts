import type { FailureCode, TaskFailure } from "@propius/shared";

/** An error that says why a device cannot do a task, with the failure code it reports. */
export class TaskFailureError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
    this.name = "TaskFailureError";
  }
}

/**
 * The failure a device reports for an error its training or evaluation threw: a kernel the tfjs
 * backend lacks (tfjs' own "Kernel 'X' not registered for backend 'y'"), memory that ran out (a
 * failed allocation in JavaScript, wasm or WebGL), or another training error. Data that does not
 * fit the job is said so by a `TaskFailureError("data_mismatch", ...)` where it is found.
 */
export function failureOf(error: unknown): TaskFailure {
  if (error instanceof TaskFailureError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  const short = message.slice(0, 2000);
  if (/Kernel '[^']+' not registered for backend/.test(message)) return { code: "missing_kernel", message: short };
  if (isOutOfMemory(error, message)) return { code: "out_of_memory", message: short };
  return { code: "training_error", message: short };
}

function isOutOfMemory(error: unknown, message: string): boolean {
  if (error instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer allocation|out of memory/i.test(message)) return true;
  return /out of memory|OOM|memory access out of bounds|Cannot enlarge memory|CONTEXT_LOST|Failed to allocate/i.test(message);
}
