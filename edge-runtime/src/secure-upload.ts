import type { Task, UpdateReceipt } from "@propius/shared";
import { secureRound, type SecureRoundResult } from "@propius/shared/secagg";
import type { DeviceClient } from "./protocol/device-client.js";

/** A secure round's receipt, with what the device's part cost it (see SecureRoundResult). */
export type SecureUpload = UpdateReceipt & Omit<SecureRoundResult, "receipt">;

/**
 * The device's part in a round of a job that aggregates securely, in place of uploading its delta
 * (see `secureRound`, docs/secure-aggregation.md): the same in the browser's Web Worker and the
 * Node device, over the device's client with the task's ticket.
 */
export async function secureUpload(client: DeviceClient, task: Task, update: { delta: Float32Array; examples: number }, signal?: AbortSignal): Promise<SecureUpload> {
  const secure = task.secure;
  if (!secure) throw new Error(`job ${task.jobId} does not aggregate securely`);
  const { receipt, ...cost } = await secureRound(
    {
      send: (step, body) => client.secureStep(task, step, body, signal),
      masked: (values) => client.secureMasked(task, values, signal),
      outcome: (phase) => client.secureOutcome(task, phase, signal),
    },
    { ...task, secure },
    update,
    signal,
  );
  return { ...receipt, ...cost };
}
