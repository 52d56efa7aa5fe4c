import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OwnerClient } from "@propius/edge-runtime";
import type { JobStatus } from "@propius/shared";
import { ROOT } from "../../scripts/lib/local-control-plane.js";
import { ADMIN_KEY, TestControlPlane } from "./helpers.js";

/**
 * The examples in docs/examples run as their READMEs say: the ```sh blocks of each README, in
 * order, as one `bash -euo pipefail` script from the repository's root, against a control plane of
 * the test's own (given through the URL and ADMIN_KEY variables the first block documents).
 */

/** The shell blocks of a Markdown text: the fences whose info string is exactly `sh`. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

interface Run {
  code: number | null;
  output: string;
}

/** Runs `script` in its own process group, which is ended afterwards: background devices go with it. */
function runScript(path: string, env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-euo", "pipefail", path], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const endGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      output += `\n[test] killed after ${timeoutMs / 1000} s\n`;
      endGroup();
    }, timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      endGroup();
      resolve({ code, output });
    });
  });
}

/** The script's output and the logs it wrote, for a failure's message. */
async function transcript(run: Run, work: string): Promise<string> {
  const logs = (await readdir(work)).filter((f) => f.endsWith(".log"));
  const texts = await Promise.all(logs.map(async (f) => `--- ${f}\n${await readFile(join(work, f), "utf8")}`));
  return [`--- script (exit ${run.code})`, run.output, ...texts].join("\n");
}

describe("the examples in docs/examples, run as their READMEs are written", () => {
  let plane: TestControlPlane;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "propius-examples-"));
    plane = await TestControlPlane.start();
  });
  afterAll(async () => {
    await plane?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  for (const example of ["tabular-mlp", "cnn-image-folders", "owner-cli", "private-job"]) {
    it(`${example}: the job ends done, every round closed and evaluated by the devices`, async () => {
      const readme = await readFile(join(ROOT, "docs/examples", example, "README.md"), "utf8");
      const blocks = shellBlocks(readme);
      expect(blocks.length).toBeGreaterThan(3);
      // The test's control plane reaches the commands only through these defaults.
      expect(blocks[0]).toContain("URL=${URL:-");
      expect(blocks[0]).toContain("ADMIN_KEY=${ADMIN_KEY:-");
      expect(blocks[0]).toContain("WORK=${WORK:-");
      const work = join(dir, example);
      const script = join(dir, `${example}.sh`);
      // One line of the test's own after the README's text: where to find the job it made.
      await writeFile(script, `${blocks.join("\n")}\nprintf '%s\\n%s\\n' "$JOB" "$KEY" > "$WORK/job-and-key"\n`);
      const run = await runScript(script, { URL: plane.url, ADMIN_KEY: ADMIN_KEY, WORK: work }, 540_000);
      const story = await transcript(run, work).catch(() => run.output);
      expect(run.code, story).toBe(0);

      const [jobId, apiKey] = (await readFile(join(work, "job-and-key"), "utf8")).trim().split("\n");
      const status: JobStatus = await new OwnerClient({ baseUrl: plane.url, apiKey }).status(jobId);
      expect(status.state, story).toBe("done");
      const rounds = Array.from({ length: status.totalRounds }, (_, i) => i + 1);
      const closed = status.rounds.filter((r) => r.status === "closed");
      expect(closed.map((r) => r.round), story).toEqual(rounds);
      for (const round of closed) {
        expect(round.evaluation?.status, `round ${round.round}\n${story}`).toBe("closed");
        expect(round.evaluation?.accuracy, `round ${round.round}\n${story}`).toBeTypeOf("number");
      }
      const last = closed[closed.length - 1].evaluation!;
      process.stdout.write(`${example}: ${status.totalRounds} rounds, federated accuracy ${last.accuracy!.toFixed(4)} on ${last.examples} held-out examples\n`);
      // Better than guessing among the classes: the devices learnt something.
      const classes = status.spec.input!.classes;
      expect(last.accuracy!, story).toBeGreaterThan(1.5 / classes);
    });
  }
});
