import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * The Worker's secrets for local runs, created on first start and kept (mode 0600) so restarts
 * reuse them: the operator's admin key and the client-token signing secret.
 */
export async function ensureDevVars(path: string): Promise<{ adminKey: string; created: boolean }> {
  try {
    const text = await readFile(path, "utf8");
    const adminKey = /^PROPIUS_ADMIN_KEY=(.+)$/m.exec(text)?.[1];
    if (adminKey && /^PROPIUS_TOKEN_SECRET=.+$/m.test(text)) return { adminKey, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const adminKey = `ak_${randomBytes(24).toString("base64url")}`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `PROPIUS_ADMIN_KEY=${adminKey}\nPROPIUS_TOKEN_SECRET=${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  return { adminKey, created: true };
}

/** The local tenant's API key, read from `path`, or created through the API and stored there. */
export async function ensureApiKey(
  path: string,
  create: () => Promise<{ tenant: string; apiKey: string }>,
): Promise<{ tenant: string; apiKey: string; created: boolean }> {
  try {
    const stored = JSON.parse(await readFile(path, "utf8")) as { tenant?: string; apiKey?: string };
    if (stored.tenant && stored.apiKey) return { tenant: stored.tenant, apiKey: stored.apiKey, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const fresh = await create();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify({ tenant: fresh.tenant, apiKey: fresh.apiKey }, null, 2), { mode: 0o600 });
  return { ...fresh, created: true };
}
