import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { demoShard, describeShard, useDigitsCache } from "@propius/edge-runtime/demo";
import { FixedExamples, type ExampleSource } from "@propius/edge-runtime/training";
import { DataFolder } from "./data-folder.js";
import { runDevice } from "./device.js";
import { defaultCacheDir, fileDigitsCache } from "./digits-cache.js";
import { openEventLog } from "./event-log.js";

const HELP = `propius-node: a Node edge device for a Propius Edge control plane

Usage:
  propius-node --url <control-plane-url> (--demo-shard <i> | --data <folder>) [options]

Data (one of):
  --data <folder>         train on your own files, turned into each job's input format:
                            <folder>/<class>/*.png|*.jpg|*.jpeg  one sub-folder of images per class,
                              named as in the job's input.labels, or by class index (0, 1, ...);
                              resized to the job's width x height and channels (grey, RGB, RGBA)
                            <folder>/*.csv  one example per line (label,feature1,feature2,...; a
                              tabular job's labels in the column its labelColumn names)
  --demo-shard <i>        train on shard <i> of the demo's non-IID MNIST split
  --demo-shards <n>       number of demo shards (default 8)
  --devices <n>           run n devices in this process, on demo shards i..i+n-1 (default 1);
                          each has its own enrolment (<state>/shard-<k>), data and task loop
  --seed <s>              seed of the demo split (default 1)
  --cache <folder>        where the decoded demo digits are kept (default ~/.cache/propius)

Options:
  --url <url>             the control plane (default http://127.0.0.1:8787)
  --state <folder>        where the device keeps its enrolment (default .propius/device)
  --enrolment-token <et_> enrol with a job owner's enrolment token (default: PROPIUS_ENROLMENT_TOKEN),
                          so that the device may take that owner's jobs that ask for one
  --backend <name>        training backend to prefer: wasm or cpu (default: best available)
  --attr <key=value>      an extra attribute to report at check-in (repeatable; numbers are numbers),
                          for example --attr cpu_f=7 --attr ram_gb=6
  --private-attr <k=v>    an attribute checked here against jobs' private constraints and never sent
                          (repeatable; dataset_size, the number of local examples, is always set)
  --max-tasks <n>         stop after n accepted updates
  --max-idle <seconds>    stop after waiting this long without a task
  --wait <seconds>        wait up to this long for the control plane to answer before enrolling,
                          for a device started alongside it (default 0: enrol at once)
  --poll                  check in over HTTP only (by default a waiting device holds a push
                          connection and gets its next task the moment a round opens)
  --event-log <file>      append one JSON line per task-loop event to <file>: its time (at, epoch ms),
                          the device's id and, for task events, the job, round, attempt and kind
  --quiet                 print only errors
  -h, --help              show this help
`;

function fail(message: string): never {
  process.stderr.write(`propius-node: ${message}\n\n${HELP}`);
  process.exit(2);
}

function parseAttributes(pairs: string[], flag: string): Record<string, number | string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const match = /^([A-Za-z_][\w.-]*)=(.*)$/.exec(pair);
      if (!match) fail(`${flag} takes key=value, got '${pair}'`);
      const number = Number(match[2]);
      return [match[1], match[2] !== "" && Number.isFinite(number) ? number : match[2]];
    }),
  );
}

function positiveInt(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`${name} must be a non-negative integer, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        url: { type: "string", default: "http://127.0.0.1:8787" },
        data: { type: "string" },
        "demo-shard": { type: "string" }, "demo-shards": { type: "string" }, devices: { type: "string" }, seed: { type: "string" },
        cache: { type: "string" }, state: { type: "string" }, backend: { type: "string" }, "enrolment-token": { type: "string" },
        attr: { type: "string", multiple: true }, "private-attr": { type: "string", multiple: true },
        "max-tasks": { type: "string" }, "max-idle": { type: "string" }, wait: { type: "string" },
        poll: { type: "boolean" }, "event-log": { type: "string" }, quiet: { type: "boolean" }, help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (parsed.help) return void process.stdout.write(HELP);
  if ((parsed.data === undefined) === (parsed["demo-shard"] === undefined)) fail("give exactly one of --data or --demo-shard");
  const shards = positiveInt(parsed["demo-shards"], "--demo-shards", 8)!;
  const seed = positiveInt(parsed.seed, "--seed", 1)!;
  const index = positiveInt(parsed["demo-shard"], "--demo-shard");
  const devices = positiveInt(parsed.devices, "--devices", 1)!;
  const stamp = () => new Date().toISOString().slice(11, 19);
  const logger = (prefix: string) => (parsed.quiet ? () => {} : (line: string) => process.stdout.write(`${stamp()} ${prefix}${line}\n`));
  const controller = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => controller.abort(new Error(signal)));
  const maxIdle = positiveInt(parsed["max-idle"], "--max-idle");
  const waitSeconds = positiveInt(parsed.wait, "--wait", 0)!;
  const state = resolve(parsed.state ?? ".propius/device");
  const eventLog = parsed["event-log"] === undefined ? undefined : openEventLog(resolve(parsed["event-log"]));
  const run = (examples: ExampleSource, stateDir: string, log: (line: string) => void) =>
    runDevice({
      url: parsed.url!, stateDir, examples, enrolmentToken: parsed["enrolment-token"] ?? (process.env.PROPIUS_ENROLMENT_TOKEN || undefined),
      attributes: parseAttributes(parsed.attr ?? [], "--attr"), privateAttributes: parseAttributes(parsed["private-attr"] ?? [], "--private-attr"),
      backend: parsed.backend,
      maxTasks: positiveInt(parsed["max-tasks"], "--max-tasks"), maxIdleMs: maxIdle === undefined ? undefined : maxIdle * 1000,
      waitMs: waitSeconds * 1000, poll: parsed.poll, signal: controller.signal, log, onEvent: eventLog && ((event, device) => eventLog.write(device, event)),
    });

  if (index === undefined) {
    if (devices !== 1) fail("--devices needs --demo-shard: devices in one process train on different shards");
    const folder = await DataFolder.open(resolve(parsed.data!));
    const log = logger("");
    log(`data in ${resolve(parsed.data!)}: ${folder.summary}`);
    await run(folder, state, log);
    return;
  }
  if (devices < 1) fail("--devices must be at least 1");
  if (index + devices > shards) fail(`--demo-shard ${index} with --devices ${devices} runs shards ${index}..${index + devices - 1}, but --demo-shards is ${shards}`);
  useDigitsCache(fileDigitsCache(resolve(parsed.cache ?? defaultCacheDir())));
  const hosted = Array.from({ length: devices }, (_, k) => index + k);
  await Promise.all(
    hosted.map(async (shard) => {
      const log = logger(devices === 1 ? "" : `[shard ${shard}] `);
      const data = await demoShard({ index: shard, shards, seed });
      const { summary } = await describeShard({ index: shard, shards, seed });
      log(summary);
      await run(new FixedExamples(data, "the demo digits", summary), devices === 1 ? state : join(state, `shard-${shard}`), log);
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`propius-node: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
