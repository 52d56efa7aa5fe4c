/**
 * `npm run fuzz`: hostile requests against the control plane under `wrangler dev` (see
 * scripts/lib/fuzz-run.ts and docs/api.md, "The fuzz suite"). Options: `--requests N` (default
 * 10000), `--seed S` (default 1), `--port P` (default: a free one), `--concurrency C` (default
 * 6), `--drop-clients` (also clients that drop the connection halfway through a body: under
 * `wrangler dev` they break its proxy, see docs/api.md "Limits"), `--no-write` (leave docs/fuzz.md
 * and docs/fuzz.json as they are), `--no-reference` (skip the one-line Worker sent the same
 * requests, and judge memory by the resident memory alone). Exits 1 when a check fails.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stopBundler } from "./lib/bundles.js";
import { ROOT } from "./lib/local-control-plane.js";
import { runFuzz } from "./lib/fuzz-run.js";
import { fuzzDocument, fuzzTables } from "./lib/fuzz-report.js";
import { machineLine } from "./lib/machine.js";

const { values } = parseArgs({
  options: { requests: { type: "string", default: "10000" }, seed: { type: "string", default: "1" }, port: { type: "string" }, concurrency: { type: "string", default: "6" }, "no-write": { type: "boolean", default: false }, "drop-clients": { type: "boolean", default: false }, "no-reference": { type: "boolean", default: false } },
});
const requests = Number(values.requests);
const seed = Number(values.seed);
if (!Number.isInteger(requests) || requests < 1 || !Number.isInteger(seed)) {
  process.stderr.write("usage: npm run fuzz -- [--requests N] [--seed S] [--port P] [--concurrency C] [--drop-clients] [--no-write] [--no-reference]\n");
  process.exit(2);
}
const date = new Date().toISOString();
process.stdout.write(`fuzzing with ${requests} requests, seed ${seed}; ${machineLine()}\n`);
process.on("exit", (code) => code === 13 && process.stderr.write("the run stopped waiting on something that never came\n"));
const result = await runFuzz({ requests, seed, port: values.port ? Number(values.port) : undefined, concurrency: Number(values.concurrency), dropClients: values["drop-clients"], reference: !values["no-reference"], progress: (line) => process.stdout.write(`${line}\n`) });
await stopBundler();
process.stdout.write(`\n${fuzzTables(result)}\n`);
if (!values["no-write"]) {
  const name = values["drop-clients"] ? "fuzz-dropped-clients" : "fuzz";
  await writeFile(join(ROOT, `docs/${name}.md`), fuzzDocument(result, date, values["drop-clients"]));
  await writeFile(join(ROOT, `docs/${name}.json`), `${JSON.stringify({ date, machine: machineLine(), ...result }, null, 2)}\n`);
  process.stdout.write(`wrote docs/${name}.md and docs/${name}.json\n`);
}
process.exitCode = result.verdict.length ? 1 : 0;
