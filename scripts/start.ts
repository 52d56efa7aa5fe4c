/**
 * `npm start`: runs the demo job end to end on the embedded local default. Starts the control
 * plane under `wrangler dev` (local SQLite Durable Objects and R2 under .propius/state), makes sure
 * a local tenant key exists, registers the MNIST demo job, starts Node devices, and prints the job's
 * progress round by round, ending with one `summary:` line. The control plane also serves the
 * contribute page, whose URL is printed so that browser tabs can join; it is built (beside the
 * control plane's start) only when a tab needs it: `--tabs` or `--open`.
 */
import { parseArgs } from "node:util";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { OwnerClient } from "@propius/edge-runtime";
import { STRATEGY_NAMES, WEIGHTS_CODECS, type StrategyName, type WeightsCodec } from "@propius/shared";
import { ROOT, startControlPlane, type RunningControlPlane } from "./lib/local-control-plane.js";
import { ensureApiKey, ensureDevVars } from "./lib/local-secrets.js";
import { startDemoClients, stopAll } from "./lib/demo-clients.js";
import { buildDeviceBundle, buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { ensureWebPage, waitUntilPageServed, webPageStatus } from "./lib/web-page.js";
import { contributeUrl, openInBrowser } from "./lib/contribute-url.js";
import { DEMO_MODELS, type DemoModelName } from "./lib/demo-models.js";
import { portInUse } from "./lib/ports.js";

const HELP = `npm start -- [options]

  --rounds <n>       rounds of the demo job (default 15)
  --clients <n>      Node devices, and devices per round (default 8)
  --tabs <n>         browser tabs the job also waits for every round (default 0): their
                     contribute-page URLs are printed, each with its own demo shard; the page
                     is built first if it is missing or older than its sources
  --open             open the contribute page (the first tab's URL) in the default browser,
                     built first as for --tabs
  --processes <n>    processes the devices run in (default: one per CPU core, at most --clients)
  --seed <n>         seed of the non-IID data split (default 1)
  --codec <c>        how devices encode their deltas: fp32, fp16 or int8 (default fp32)
  --top-k <f>        devices send only this fraction of their delta's entries, the largest (0 < f < 1)
  --json <file>      also write the finished job's status (every round's figures) to <file>
  --model <m>        the classifier: mlp (784-128-10, default) or cnn (two Conv2D layers,
                     max pooling, dropout, two dense layers; 28 x 28 x 1 images)
  --secure           secure aggregation: devices mask their updates, and the control plane
                     sees only each round's sum (docs/secure-aggregation.md)
  --strategy <s>     how the job aggregates: fedavg, fedavgm, fedadam, fedyogi, fedprox or fedbuff
                     (asynchronous: a round is a server step of 10 updates), with the strategy's
                     default hyperparameters (default: the demo's, fedavgm with momentum 0.5)
  --port <n>         port of the control plane (default 8787)
  --state <dir>      local state: secrets, keys, Durable Objects, R2 (default .propius)
  --keep-running     leave the control plane running after the job
  --verbose          show every device's log lines
  -h, --help         this help
`;

function parseFlags() {
  try {
    return parseArgs({ options: FLAGS }).values;
  } catch (error) {
    process.stderr.write(`start: ${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
}

const FLAGS = {
    rounds: { type: "string", default: "15" }, clients: { type: "string", default: "8" }, processes: { type: "string" },
    tabs: { type: "string", default: "0" }, open: { type: "boolean" },
    seed: { type: "string", default: "1" }, port: { type: "string", default: "8787" }, codec: { type: "string", default: "fp32" }, strategy: { type: "string" },
    "top-k": { type: "string" }, secure: { type: "boolean", default: false }, json: { type: "string" }, model: { type: "string", default: "mlp" },
    state: { type: "string", default: ".propius" }, "keep-running": { type: "boolean" },
    verbose: { type: "boolean" }, help: { type: "boolean", short: "h" },
} as const;
const flags = parseFlags();
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function count(name: string, min: number, max: number): number {
  const value = Number(flags[name as keyof typeof flags]);
  if (!Number.isInteger(value) || value < min || value > max) {
    process.stderr.write(`--${name} must be an integer from ${min} to ${max}\n\n${HELP}`);
    process.exit(2);
  }
  return value;
}

const codec = flags.codec as WeightsCodec;
if (!(WEIGHTS_CODECS as readonly string[]).includes(codec)) {
  process.stderr.write(`--codec must be one of ${WEIGHTS_CODECS.join(", ")}\n\n${HELP}`);
  process.exit(2);
}
const strategy = flags.strategy as StrategyName | undefined;
if (strategy !== undefined && !(STRATEGY_NAMES as readonly string[]).includes(strategy)) {
  process.stderr.write(`--strategy must be one of ${STRATEGY_NAMES.join(", ")}\n\n${HELP}`);
  process.exit(2);
}
const model = flags.model as DemoModelName;
if (!(DEMO_MODELS as readonly string[]).includes(model)) {
  process.stderr.write(`--model must be one of ${DEMO_MODELS.join(", ")}\n\n${HELP}`);
  process.exit(2);
}
const topK = flags["top-k"] === undefined ? undefined : Number(flags["top-k"]);
if (topK !== undefined && !(topK > 0 && topK < 1)) {
  process.stderr.write(`--top-k must be a fraction between 0 and 1, got '${flags["top-k"]}'\n\n${HELP}`);
  process.exit(2);
}
const rounds = count("rounds", 1, 1000);
const clients = count("clients", 1, 64);
const tabs = count("tabs", 0, 64);
const processes = flags.processes === undefined ? Math.min(clients, availableParallelism()) : count("processes", 1, clients);
const seed = count("seed", 0, 2 ** 31);
const port = count("port", 1, 65535);
const stateDir = resolve(ROOT, flags.state!);
// Times count from the process's start (performance.now()), bundling this script included.
const elapsed = () => (performance.now() / 1000).toFixed(1);
const timings = { controlPlane: "-", job: "-" };
const say = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

let controlPlane: RunningControlPlane | undefined;
let devices: ReturnType<typeof startDemoClients> = [];

/** Waits for the page's build, and after one for the running control plane to serve it. */
async function servePage(page: ReturnType<typeof ensureWebPage>, url: string): Promise<void> {
  const built = await page;
  if (!built.built) return;
  await waitUntilPageServed(url);
  say(`built the contribute page in ${built.seconds.toFixed(1)} s, served from ${elapsed()} s`);
}

/** When no tab needs the page: a line on how to get it if it was never built or is out of date. */
async function pageHint(): Promise<string | undefined> {
  const status = await webPageStatus();
  if (status === "fresh") return undefined;
  const how = "the running control plane serves it once built; --open or --tabs 1 build it at start";
  return status === "missing" ? `  the page is not built yet: npm run build:web builds it (${how})` : `  the page is older than its sources: npm run build:web rebuilds it (${how})`;
}

async function shutdown(code: number): Promise<never> {
  await stopAll(devices);
  if (controlPlane && (!flags["keep-running"] || code !== 0)) await controlPlane.stop();
  process.exit(code);
}
// Ctrl-C, or a supervisor's stop (`timeout`, systemd, docker stop): the devices and wrangler go too.
process.once("SIGINT", () => void shutdown(130));
process.once("SIGTERM", () => void shutdown(143));

async function main(): Promise<void> {
  const devVars = join(stateDir, "dev.vars");
  const { adminKey } = await ensureDevVars(devVars);
  // Only a tab needs the contribute page. Its build (Vite, ten seconds or more) runs beside the
  // control plane's start: wrangler serves the stand-in page until the build ends, then reloads.
  const needsPage = tabs > 0 || flags.open === true;
  const page = needsPage ? ensureWebPage({ log: say }) : undefined;
  page?.catch(() => {}); // awaited below
  const script = await buildWorkerBundle();
  // Said here in one line: wrangler would only exit, its reason in its log.
  if (await portInUse(port)) throw new Error(`port ${port} is in use (another npm start or wrangler dev?): stop it, or pick another port, for example npm start -- --port ${port === 65535 ? 8788 : port + 1}`);
  say(`starting the control plane (wrangler dev, state in ${flags.state}/state) ...`);
  const starting = startControlPlane({ port, script, persistTo: join(stateDir, "state"), envFile: devVars, logFile: join(stateDir, "wrangler.log") });
  starting.catch(() => {}); // awaited below; a refusal (a port in use) is reported there
  // Meanwhile: the device bundle, and the decoded digits that devices and the owner's evaluation share.
  const deviceEntry = buildDeviceBundle();
  const { createDemoJob, followJob, warmDigits } = await import("./lib/demo-job.js");
  const cacheDir = join(stateDir, "cache");
  const digits = warmDigits(cacheDir);
  // Awaited below; until then a failure must not surface as an unhandled rejection.
  for (const pending of [deviceEntry, digits]) pending.catch(() => {});
  controlPlane = await starting;
  timings.controlPlane = elapsed();
  say(`control plane: ${controlPlane.url}  (log: ${flags.state}/wrangler.log)`);
  if (page) await servePage(page, controlPlane.url);
  const pageNote = page ? undefined : await pageHint();

  const key = await ensureLocalKey(controlPlane.url, adminKey);
  say(key.created ? `created the local API key (tenant ${key.tenant}), stored in ${flags.state}/api-key.json:\n  ${key.apiKey}` : `using the local API key in ${flags.state}/api-key.json (tenant ${key.tenant})`);
  const owner = new OwnerClient({ baseUrl: controlPlane.url, apiKey: key.apiKey });

  const job = await createDemoJob(owner, { rounds, clients: clients + tabs, deltaCodec: codec, deltaTopK: topK, strategy, model, secure: flags.secure });
  timings.job = elapsed();
  say(`job ${job.id}: ${job.name}, ${rounds} rounds, ${clients + tabs} devices per round, ${job.spec.aggregation.strategy}, ${codec}${topK ? ` top-${topK}` : ""} deltas`);
  const pageUrls = tabs === 0 ? [contributeUrl(controlPlane.url, { shards: clients, seed })] : Array.from({ length: tabs }, (_, i) => contributeUrl(controlPlane!.url, { shard: clients + i, shards: clients + tabs, seed }));
  say(tabs === 0 ? `contribute page: ${pageUrls[0]}  (a tab that opens it joins the pool; --tabs makes the job wait for tabs)` : `contribute page, one URL per tab (the job waits for ${tabs} tab${tabs === 1 ? "" : "s"} every round):`);
  if (tabs > 0) for (const url of pageUrls) say(`  ${url}`);
  say(`owner dashboard: ${controlPlane.url}/dashboard  (sign in with the API key in ${flags.state}/api-key.json)`);
  if (pageNote) say(pageNote);
  if (flags.open) openInBrowser(pageUrls[0], say);
  const [entry] = await Promise.all([deviceEntry, digits]);
  await stopBundler();
  devices = startDemoClients({
    url: controlPlane.url, count: clients, shards: clients + tabs, processes, seed, stateDir: join(stateDir, "devices"), cacheDir, entry,
    onLine: (i, line) => (flags.verbose || /error|refused|propius-node:/i.test(line)) && say(`  [device ${i}] ${line}`),
  });
  say(`started ${clients} Node devices in ${processes} process${processes === 1 ? "" : "es"} (non-IID MNIST shards, seed ${seed})`);
  say("round  devices  train-loss  fed-acc  test-acc  elapsed  up(MB)  down(MB)");

  let accuracy = 0;
  let federated: number | null = null;
  const final = await followJob(owner, job.id, ({ round, testAccuracy, federatedAccuracy }) => {
    accuracy = testAccuracy;
    federated = federatedAccuracy ?? federated;
    const fed = federatedAccuracy === null ? "-" : federatedAccuracy.toFixed(4);
    say(`${String(round.round).padStart(5)}  ${String(round.reported).padStart(7)}  ${(round.trainLoss ?? NaN).toFixed(4).padStart(10)}  ${fed.padStart(7)}  ${testAccuracy.toFixed(4).padStart(8)}  ${elapsed().padStart(6)}s  ${mb(round.bytesIn).padStart(6)}  ${mb(round.bytesOut).padStart(8)}`);
    if (round.round === 1) say(`start: control plane up in ${timings.controlPlane} s, job registered in ${timings.job} s, round 1 at ${elapsed()} s (since node started)`);
  });
  const closed = final.rounds.filter((r) => r.status === "closed").length;
  if (final.state !== "done") say(`the job ended ${final.state}`);
  say(`summary: rounds=${closed} clients=${clients}${tabs ? ` tabs=${tabs}` : ""} accuracy=${accuracy.toFixed(4)} federated_accuracy=${federated === null ? "-" : (federated as number).toFixed(4)} seconds=${elapsed()}`);
  if (flags.json) {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(resolve(flags.json), `${JSON.stringify(final, null, 2)}\n`);
  }
  if (flags["keep-running"]) say(`control plane still running at ${controlPlane.url}; Ctrl-C stops it`);
  await stopAll(devices);
  if (!flags["keep-running"]) await shutdown(final.state === "done" ? 0 : 1);
}

/** The stored local key, or a new one if there is none or the control plane's state no longer knows it. */
async function ensureLocalKey(url: string, adminKey: string) {
  const path = join(stateDir, "api-key.json");
  const create = () => OwnerClient.createTenant({ baseUrl: url, adminKey, name: "local" });
  const key = await ensureApiKey(path, create);
  try {
    await new OwnerClient({ baseUrl: url, apiKey: key.apiKey }).jobs();
    return key;
  } catch {
    const { rm } = await import("node:fs/promises");
    await rm(path, { force: true });
    return ensureApiKey(path, create);
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`start: ${error instanceof Error ? error.message : String(error)}\n`);
  await shutdown(1);
});
