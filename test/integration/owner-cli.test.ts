import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-layers";
import { tensor2d, type Tensor } from "@tensorflow/tfjs-core";
import type { JobStatus, JobSummary, LayersModelJson, TenantKey } from "@propius/shared";
import { OwnerClient } from "@propius/edge-runtime";
import { getFlatWeights, initTraining } from "@propius/edge-runtime/training";
import { ROOT } from "../../scripts/lib/local-control-plane.js";
import { buildDeviceBundle } from "../../scripts/lib/bundles.js";
import { freePort } from "../../scripts/lib/ports.js";
import { ADMIN_KEY, TEST_BUILD_DIR, TestControlPlane, runPropius } from "./helpers.js";

/**
 * The owner CLI as a user runs it, a process per command, against the real control plane under
 * `wrangler dev`: a tenant, a login, a job created and seeded from files, a Node device training
 * it, its model downloaded and loaded by tfjs, a second job started from that folder and a third
 * seeded after its creation.
 */

describe("propius, the owner CLI, against wrangler dev with a Node device", () => {
  let plane: TestControlPlane;
  let dir: string;
  let deviceEntry: string;
  let device: ChildProcess | undefined;
  let deviceOutput = "";
  let env: Record<string, string>;

  /** `propius <args>`, with this test's config file, `stdin` piped in. */
  const propius = (args: string[], options: { stdin?: string; env?: Record<string, string>; onStdout?: (stdout: string) => void } = {}) =>
    runPropius(args, { ...env, ...options.env }, options.stdin, options.onStdout);
  const ok = async (args: string[], options?: Parameters<typeof propius>[1]) => {
    const run = await propius(args, options);
    expect(run.code, `propius ${args.join(" ")}\n${run.stdout}${run.stderr}\n--- device\n${deviceOutput}`).toBe(0);
    return run.stdout;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "propius-owner-cli-"));
    // No PROPIUS_* of the machine's own reaches the commands: only this test's config file.
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PROPIUS_")).map(([k]) => [k, ""])) as Record<string, string>;
    env.PROPIUS_CONFIG = join(dir, "config", "propius.json");
    const bundle = buildDeviceBundle(TEST_BUILD_DIR);
    bundle.catch(() => undefined);
    plane = await TestControlPlane.start();
    deviceEntry = await bundle;
  });
  afterAll(async () => {
    device?.kill("SIGKILL");
    await plane?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("drives a job from tenants create and login to jobs download, and the model loads in tfjs", async () => {
    // The operator makes a tenant; the owner logs in with its key, piped in.
    const tenant: TenantKey = JSON.parse(await ok(["tenants", "create", "cli-owner", "--url", plane.url, "--json"], { env: { PROPIUS_ADMIN_KEY: ADMIN_KEY } }));
    expect(tenant).toMatchObject({ tenant: "cli-owner", created: true });
    expect(await ok(["login", "--url", plane.url], { stdin: `${tenant.apiKey}\n` })).toContain(`logged in to ${plane.url}`);
    expect((await stat(env.PROPIUS_CONFIG)).mode & 0o777).toBe(0o600);

    // A refused key is an API error: its code and message, exit code 1.
    const refused = await propius(["login", "--url", plane.url, "--key", "pk_cli-owner_wrong"]);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/^propius: unauthorized: /)]);

    // The job: the tabular example's model, 2 rounds of one device, evaluated by it every round.
    const example = JSON.parse(await readFile(join(ROOT, "docs/examples/tabular-mlp/spec.json"), "utf8"));
    const spec = { ...example, name: "cli-job", plan: { ...example.plan, rounds: 2, clientsPerRound: 1 } };
    await writeFile(join(dir, "spec.json"), JSON.stringify(spec));
    const initial = Float32Array.from({ length: 4 * 16 + 16 + 16 * 3 + 3 }, (_, i) => Math.sin(i + 1) * 0.4);
    await writeFile(join(dir, "initial.bin"), new Uint8Array(initial.buffer));
    const created: JobStatus = JSON.parse(await ok(["jobs", "create", join(dir, "spec.json"), "--weights", join(dir, "initial.bin"), "--json"]));
    expect([created.state, created.currentRound, created.modelVersion, created.modelHash]).toEqual(["running", 1, 0, expect.stringMatching(/^[0-9a-f]{64}$/)]);
    const listed: JobSummary[] = JSON.parse(await ok(["jobs", "ls", "--json"]));
    expect(listed.map((j) => [j.id, j.name])).toEqual([[created.id, "cli-job"]]);

    // Followed live from before the device starts until the job is done: the follow exits by itself then.
    // The device starts once the follow has printed the job as it stands, so every report is an event it sees.
    let subscribed!: () => void;
    const snapshotShown = new Promise<void>((resolve) => (subscribed = resolve));
    const following = propius(["jobs", "follow", created.id], { onStdout: (out) => out.includes("\n") && subscribed() });
    await Promise.race([snapshotShown, following]);
    device = spawn(process.execPath, [deviceEntry, "--url", plane.url, "--data", join(ROOT, "docs/examples/tabular-mlp/device-1"), "--state", join(dir, "device"), "--max-idle", "120"], { stdio: ["ignore", "pipe", "pipe"] });
    device.stdout!.on("data", (chunk) => (deviceOutput += chunk));
    device.stderr!.on("data", (chunk) => (deviceOutput += chunk));

    let status = created;
    for (const started = Date.now(); status.state === "running" && Date.now() - started < 300_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      status = JSON.parse(await ok(["jobs", "show", created.id, "--json"]));
    }
    device.kill("SIGTERM");
    expect(status.state, deviceOutput).toBe("done");
    expect(status.rounds.filter((r) => r.status === "closed").map((r) => [r.round, r.reported])).toEqual([[1, 1], [2, 1]]);
    expect(status.modelVersion).toBe(2);
    const followed = await following;
    expect(followed.code, followed.stdout + followed.stderr).toBe(0);
    const lines = followed.stdout.trim().split("\n").map((line) => line.replace(/^\d\d:\d\d:\d\d\.\d{3}  /, ""));
    expect(lines[0]).toBe(`${created.id} (cli-job): running, round 1 of 2, model v0 ${created.modelHash!.slice(0, 12)}`);
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    expect(at(/^round 1 reported \[#{20}\] 1\/1$/)).toBeGreaterThan(0);
    expect(at(/^round 1 closed after \d+\.\d s \(selection \d+\.\d, training \d+\.\d, aggregation \d+\.\d\): 1 reports, train-loss \d\.\d{4}, model [0-9a-f]{12}$/)).toBeGreaterThan(at(/^round 1 reported/));
    expect(at(/^round 2 opened for 1 devices/)).toBeGreaterThan(at(/^round 1 closed/));
    expect(at(/^round 2 closed after/)).toBeGreaterThan(at(/^round 2 opened/));
    expect(lines.at(-1)).toBe("job running -> done");
    const shown = await ok(["jobs", "show", created.id]);
    expect(shown).toContain(`${created.id} (cli-job): done, round 2 of 2, model v2 ${status.modelHash!.slice(0, 12)}`);
    // Its seconds, then its selection, training and aggregation.
    expect(shown).toMatch(/^\s+2\s+0\s+closed\s+1\s+1\s+1\s+0\s+\d\.\d{4}\s+\d\.\d{4}\s+-(\s+\d+\.\d){4}$/m);

    // A job that has ended keeps its demand: the API's refusal, shown as its code.
    const late = await propius(["jobs", "demand", created.id, "2"]);
    expect([late.code, late.stderr]).toEqual([1, "propius: job_not_running: the job is done\n"]);

    // The model as a tfjs folder: it loads, gives class probabilities, and is the job's trained model, not the initial one.
    const out = join(dir, "model");
    expect(await ok(["jobs", "download", created.id, out])).toContain(`model v2 ${status.modelHash!.slice(0, 12)}`);
    const modelJson: LayersModelJson = JSON.parse(await readFile(join(out, "model.json"), "utf8"));
    const weightFile = await readFile(join(out, modelJson.weightsManifest[0].paths[0]));
    await initTraining({ prefer: ["cpu"] });
    const model = await tf.loadLayersModel({
      load: async () => ({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights), weightData: weightFile.buffer.slice(weightFile.byteOffset, weightFile.byteOffset + weightFile.byteLength) }),
    });
    const loaded = await getFlatWeights(model);
    const prediction = model.predict(tensor2d([[0.5, -1, 2, 0]])) as Tensor;
    const probabilities = Array.from(await prediction.data());
    prediction.dispose();
    model.dispose();
    expect(probabilities).toHaveLength(3);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    const trained = await new OwnerClient({ baseUrl: plane.url, apiKey: tenant.apiKey }).weights(created.id, status.modelHash!);
    expect(Array.from(loaded)).toEqual(Array.from(trained));
    expect(loaded.length).toBe(initial.length);
    expect(loaded.some((value, i) => value !== initial[i])).toBe(true);

    // A second job from the downloaded folder (its spec without a model), its demand changed, then cancelled.
    const { model: _model, ...noModel } = spec;
    await writeFile(join(dir, "from-folder.json"), JSON.stringify({ ...noModel, name: "from-folder" }));
    const second: JobStatus = JSON.parse(await ok(["jobs", "create", join(dir, "from-folder.json"), "--model", out, "--json"]));
    expect([second.state, second.modelHash]).toEqual(["running", status.modelHash]);
    expect(await ok(["jobs", "demand", second.id, "3"])).toContain("demand 3 devices per round from the next round");
    expect(JSON.parse(await ok(["jobs", "cancel", second.id, "--json"])).state).toBe("cancelled");
    // A third created without weights, then seeded: it waits in pending_model until then.
    const third: JobStatus = JSON.parse(await ok(["jobs", "create", join(dir, "spec.json"), "--json"]));
    expect(third.state).toBe("pending_model");
    expect(await ok(["jobs", "seed", third.id, "--weights", join(dir, "initial.bin")])).toMatch(new RegExp(`^${third.id} \\(cli-job\\): running, round 1 of 2, model v0 ${created.modelHash!.slice(0, 12)}\n$`));
    expect(JSON.parse(await ok(["jobs", "cancel", third.id, "--json"])).state).toBe("cancelled");

    const missing = await propius(["jobs", "show", "job_doesnotexist"]);
    expect([missing.code, missing.stderr]).toEqual([1, "propius: job_not_found: no such job\n"]);
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await propius(["jobs", "ls", "--url", nowhere], { env: { PROPIUS_API_KEY: tenant.apiKey } });
    expect([unreachable.code, unreachable.stderr]).toEqual([1, `propius: could not reach the control plane at ${nowhere}/v1/jobs (connection refused: is the control plane running at that address?; 3 attempts)\n`]);
  });
});
