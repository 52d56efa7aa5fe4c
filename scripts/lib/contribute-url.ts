import { spawn } from "node:child_process";

/**
 * The contribute page's URL on a control plane, for a tab to train on demo shard `shard` of
 * `shards` (seed `seed`); without `shard` the page picks one from its own stored seed. Devices
 * enrol themselves (`POST /v1/clients` needs no key), so the URL carries no secret.
 */
export function contributeUrl(base: string, options: { shard?: number; shards: number; seed: number }): string {
  const query = new URLSearchParams({ ...(options.shard === undefined ? {} : { shard: String(options.shard) }), shards: String(options.shards), seed: String(options.seed) });
  return `${base.replace(/\/+$/, "")}/?${query}`;
}

/** Opens a URL in the desktop's default browser; says so when there is none (a headless machine). */
export function openInBrowser(url: string, say: (line: string) => void): void {
  const [command, args] = process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  const child = spawn(command, args, { stdio: "ignore", detached: true });
  child.on("error", () => say(`could not open a browser (${command} is not available); open ${url} yourself`));
  child.unref();
}
