// `npm run bench:codecs`: the demo job (`npm start`, fresh state each time) once per delta codec,
// side by side: bytes per update, bytes per round, and the final test accuracy.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { JobStatus } from "@propius/shared";
import { ROOT } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:codecs -- [options]

  --codecs <list>   comma-separated runs, each a codec with an optional top-k fraction
                    (default fp32,fp16,int8,int8:0.1)
  --rounds <n>      rounds of each run (default 10)
  --seed <n>        the demo's data split (default 1; the same for every run)
  --out <path>      results: <path>.md and <path>.json (default docs/codec-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    codecs: { type: "string", default: "fp32,fp16,int8,int8:0.1" }, rounds: { type: "string", default: "10" },
    seed: { type: "string", default: "1" }, out: { type: "string", default: join(ROOT, "docs/codec-benchmark") }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const runs = args.codecs.split(",").map((run) => {
  const [codec, topK] = run.split(":");
  if (!["fp32", "fp16", "int8"].includes(codec) || (topK !== undefined && !(Number(topK) > 0 && Number(topK) < 1))) {
    process.stderr.write(`bench:codecs: '${run}' is not a codec (fp32, fp16, int8) with an optional :fraction\n\n${HELP}`);
    process.exit(2);
  }
  return { codec, topK };
});

const rows: { run: string; rounds: number; updates: number; bytesPerUpdate: number; accuracy: number; seconds: number }[] = [];
for (const { codec, topK } of runs) {
  const label = topK ? `${codec} top-${topK}` : codec;
  const dir = await mkdtemp(join(tmpdir(), "propius-codec-"));
  try {
    const json = join(dir, "job.json");
    const flags = ["--codec", codec, ...(topK ? ["--top-k", topK] : []), "--rounds", args.rounds, "--seed", args.seed, "--state", join(dir, "state"), "--port", String(await freePort()), "--json", json];
    process.stdout.write(`${label}: running the demo ...`);
    const started = performance.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, "scripts/run.mjs"), "scripts/start.ts", ...flags], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
      child.on("exit", resolve);
    });
    if (code !== 0) throw new Error(`npm start ${flags.join(" ")} exited with ${code}`);
    const job = JSON.parse(await readFile(json, "utf8")) as JobStatus;
    const closed = job.rounds.filter((r) => r.status === "closed");
    const updates = closed.reduce((n, r) => n + r.reported, 0);
    const bytes = closed.reduce((n, r) => n + r.bytesIn, 0);
    const accuracy = closed.at(-1)?.testAccuracy ?? Number.NaN;
    rows.push({ run: label, rounds: closed.length, updates, bytesPerUpdate: Math.round(bytes / updates), accuracy, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) });
    console.log(` ${Math.round(bytes / updates).toLocaleString("en")} bytes per update, accuracy ${accuracy.toFixed(4)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const base = rows[0];
const machine = machineLine();
await writeFile(`${args.out}.json`, `${JSON.stringify({ date: new Date().toISOString(), machine, rounds: Number(args.rounds), seed: Number(args.seed), rows }, null, 2)}\n`);
await writeFile(`${args.out}.md`, [
  "# Delta codecs on the demo job",
  "",
  `Measured by \`npm run bench:codecs\` on ${new Date().toISOString().slice(0, 10)}: ${machine}. Each run is \`npm start\` with fresh state`,
  `(8 Node devices, ${args.rounds} rounds, FedAvg, data split seed ${args.seed}), differing only in how devices encode their deltas.`,
  `Bytes per update are the uploaded message bytes (header included) over the accepted updates; ratios are against ${base.run}.`,
  "Accuracy is the job owner's test accuracy after the last round; runs of the same codec differ by about half a point.",
  "",
  "| run | bytes per update | vs " + base.run + " | test accuracy | vs " + base.run + " (points) | seconds |",
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map((r) => `| ${r.run} | ${r.bytesPerUpdate.toLocaleString("en")} | ${(r.bytesPerUpdate / base.bytesPerUpdate).toFixed(3)}x | ${r.accuracy.toFixed(4)} | ${((r.accuracy - base.accuracy) * 100).toFixed(2)} | ${r.seconds} |`),
  "",
].join("\n"));
console.log(`wrote ${args.out}.md and ${args.out}.json`);
