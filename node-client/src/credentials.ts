import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Credentials } from "@propius/edge-runtime";

const FILE = "client.json";

interface Stored extends Credentials {
  url: string;
}

/** The device's enrolment for one control plane, kept in its state folder across restarts. */
export async function loadCredentials(stateDir: string, url: string): Promise<Credentials | null> {
  try {
    const stored = JSON.parse(await readFile(join(stateDir, FILE), "utf8")) as Stored;
    if (stored.url !== url || !stored.clientId || !stored.token) return null;
    const { clientId, token, expiresAt, renewAfter } = stored;
    return { clientId, token, ...(typeof expiresAt === "number" ? { expiresAt } : {}), ...(typeof renewAfter === "number" ? { renewAfter } : {}) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`cannot read ${join(stateDir, FILE)}: ${(error as Error).message}`);
  }
}

export async function saveCredentials(stateDir: string, url: string, credentials: Credentials): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, FILE);
  await writeFile(`${path}.tmp`, JSON.stringify({ url, ...credentials }, null, 2), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
