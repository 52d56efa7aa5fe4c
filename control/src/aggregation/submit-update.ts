import { PropiusError, type UpdateReceipt } from "@propius/shared";
import { ticketShard } from "../auth/tickets.js";
import type { Upload } from "./shard-ports.js";

/** An aggregator shard as the Worker calls it: over RPC in production, in process in tests. */
export interface UploadPort<Body> {
  submit(upload: Upload<Body>, shard: number): Promise<UpdateReceipt>;
  /** Marks the upload's ticket spent: its replay is `ticket_used`. */
  spend(upload: Omit<Upload<Body>, "body">, shard: number): Promise<void>;
}

/**
 * A refused upload spends its ticket when the refusal is the device's doing: a body it sent that
 * is not a valid delta for the job (`invalid_update`). Its replay is then `ticket_used`, so a
 * device cannot try body after body on one ticket. A refusal the device is not at fault for leaves
 * the ticket as it was, to be retried: the body cut short by the Worker (`cutShort`: the upload
 * limit or a stall), the connection lost, the round closed, the control plane's own failure.
 */
const spendsTicket = (error: unknown) => error instanceof PropiusError && error.code === "invalid_update";

/**
 * A device's upload, end to end, in one object call: the Worker routes it by the ticket's shard
 * (read unverified: the shard checks the signature, the device, the round and the lease itself)
 * to the device's aggregator shard with the body as it streams in. The shard decodes and folds
 * it, writes the partial sum once for every fold of its group, has the job count the group in one
 * call, and answers with the receipt (see AggregatorCore.submit).
 *
 *   Worker --submit(ticket, body stream)--> shard --commitFolds(group)--> job
 *
 * Before: admitUpdate (job) -> fold (shard, whole body read first, whole sum written) -> commitUpdate (job).
 */
export async function submitUpdate<Body>(shards: (index: number) => UploadPort<Body>, upload: Upload<Body>, options: { cutShort?: () => boolean } = {}): Promise<UpdateReceipt> {
  const shard = ticketShard(upload.ticket);
  if (shard === null) throw new PropiusError("ticket_invalid", "this ticket was not issued to this client for this job and round");
  const port = shards(shard);
  try {
    return await port.submit(upload, shard);
  } catch (error) {
    if (spendsTicket(error) && !options.cutShort?.()) {
      const { body: _body, ...ticketed } = upload;
      await port.spend(ticketed, shard);
    }
    throw error;
  }
}
