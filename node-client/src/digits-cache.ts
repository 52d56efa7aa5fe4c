import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { homedir } from "node:os";
import type { DigitsCache } from "@propius/edge-runtime/demo";

/** The default cache folder: `$XDG_CACHE_HOME/propius`, else `~/.cache/propius`. */
export const defaultCacheDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "propius");

/**
 * Keeps the demo's decoded MNIST digits in one file, so that a device starts without parsing the
 * package's 21 MB of JSON. Written to a temporary name and renamed, so that devices starting at
 * the same time never read a half-written file.
 */
export function fileDigitsCache(dir: string): DigitsCache {
  const path = join(dir, "mnist-digits-v1.bin");
  return {
    read: async () => {
      try {
        return new Uint8Array(await readFile(path));
      } catch {
        return undefined;
      }
    },
    write: async (bytes) => {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, bytes);
      await rename(temporary, path);
    },
  };
}
