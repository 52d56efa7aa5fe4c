import { z } from "zod";
import { FAILURE_CODES } from "./protocol.js";

/**
 * `GET /v1/jobs/:id/devices`: the devices that took part in a job, most recently seen first. A
 * device is named by an id of its own for this job (a keyed hash of the job and the device: the
 * same device has another id in another job, and the id does not lead back to the device).
 */

/** How many devices the route answers by default, and at most (`?limit=`). */
export const JOB_DEVICES_DEFAULT_LIMIT = 100;
export const JOB_DEVICES_MAX_LIMIT = 1000;

const count = z.number().int().min(0);

export const jobDeviceSchema = z.object({
  /** The device's anonymous id in this job (16 hex digits). */
  id: z.string(),
  /** The attributes it reported at check-in when it was last bound to the job. */
  attributes: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  /** Training round attempts it was bound to (a renewed lease in the same attempt counts once). */
  roundsBound: count,
  /** Its updates the job counted, with their examples and upload bytes. */
  updatesAccepted: count,
  examples: count,
  bytesIn: count,
  /** Tasks (training or evaluation) it reported it could not do, by failure code. */
  failures: z.partialRecord(z.enum(FAILURE_CODES), count),
  evaluationsReported: count,
  /** When the job first and last heard of it (bound, counted an update, a failure or an evaluation; epoch ms). */
  firstSeen: z.number(),
  lastSeen: z.number(),
});
export type JobDevice = z.output<typeof jobDeviceSchema>;

export const jobDevicesSchema = z.object({ devices: z.array(jobDeviceSchema) });
export type JobDevices = z.output<typeof jobDevicesSchema>;

/** The route's query: `?limit=` devices, 1 to JOB_DEVICES_MAX_LIMIT. */
export const jobDevicesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(JOB_DEVICES_MAX_LIMIT).default(JOB_DEVICES_DEFAULT_LIMIT),
});

/** A device's attributes on one line, `key=value` in key order, cut at `max` characters (for tables). */
export function summarizeAttributes(attributes: JobDevice["attributes"], max = 60): string {
  const text = Object.keys(attributes).sort().map((key) => `${key}=${attributes[key]}`).join(" ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A device's failures as `code n`, comma-separated; empty when it had none. */
export const summarizeFailures = (failures: JobDevice["failures"]) =>
  Object.entries(failures).map(([code, n]) => `${code} ${n}`).join(", ");
