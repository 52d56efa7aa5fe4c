import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/**
 * The owner CLI's login: the control plane last logged in to and an API key per control plane,
 * kept in one JSON file readable by its owner only (mode 0600, in a folder of mode 0700).
 */
export interface OwnerConfig {
  /** The control plane used when a command is given no `--url`. */
  url?: string;
  /** API keys by control-plane URL. */
  keys: Record<string, string>;
}

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** `PROPIUS_CONFIG`, else `$XDG_CONFIG_HOME/propius/config.json`, else `~/.config/propius/config.json` (`%APPDATA%` on Windows). */
export function configPath(env: Record<string, string | undefined>): string {
  if (env.PROPIUS_CONFIG) return env.PROPIUS_CONFIG;
  const base = env.XDG_CONFIG_HOME || (process.platform === "win32" && env.APPDATA) || join(homedir(), ".config");
  return join(base, "propius", "config.json");
}

/** A URL as the config keys it: no trailing slash. */
export const normalUrl = (url: string) => url.replace(/\/+$/, "");

export async function readConfig(path: string): Promise<OwnerConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { keys: {} };
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<OwnerConfig>;
    return { url: typeof parsed.url === "string" ? parsed.url : undefined, keys: typeof parsed.keys === "object" && parsed.keys !== null ? parsed.keys : {} };
  } catch (error) {
    throw new Error(`${path} is not JSON (${(error as Error).message}): fix it or remove it and log in again`);
  }
}

/** Writes the config whole, by a rename, so that a reader never sees half of it; the key is never readable by others. */
export async function writeConfig(path: string, config: OwnerConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFile is masked by the umask; chmod is not.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
