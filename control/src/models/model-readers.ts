import type { Env } from "../env.js";
import { jobOf } from "../directory/directory-client.js";
import type { ModelReaders, ModelStore } from "./model-store.js";

/** Who may read a version, by hash, remembered in the isolate: it changes only when another job stores the same bytes. */
const known = new Map<string, { readers: ModelReaders; at: number }>();
const KNOWN_LIMIT = 1_000;
/** How long an entry is trusted: a version that another job makes open, or readable by more jobs, is seen within this. */
const KNOWN_MS = 60_000;

/**
 * Whether the caller may read the model version `hash`: every version an open job stored (the
 * default), else only the tenants of the jobs that keep it to themselves (`modelAccess: "bound"`)
 * and the devices those jobs have bound. A missing version answers true (the caller is then told
 * it is not found, as anyone would be).
 */
export async function mayRead(env: Pick<Env, "JOBS">, store: ModelStore, hash: string, caller: { tenant: string } | { clientId: string }, now = Date.now()): Promise<boolean> {
  let entry = known.get(hash);
  if (!entry || now - entry.at > KNOWN_MS) {
    const readers = await store.readers(hash);
    if (readers === undefined) return true;
    if (known.size >= KNOWN_LIMIT) known.delete(known.keys().next().value!);
    known.set(hash, (entry = { readers, at: now }));
  }
  const { readers } = entry;
  if (readers === null) return true;
  if ("tenant" in caller) return readers.some((r) => r.tenant === caller.tenant);
  for (const { job } of readers) {
    const answer = await jobOf(env, job).mayReadModel(caller.clientId);
    if (answer.ok && answer.value) return true;
  }
  return false;
}
