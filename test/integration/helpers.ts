import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { OwnerClient } from "@propius/edge-runtime";
import { ROOT } from "../../scripts/lib/local-control-plane.js";
import { RestartablePlane } from "../../scripts/lib/restartable-plane.js";
import { buildDeviceBundle, buildWorkerBundle } from "../../scripts/lib/bundles.js";
import { loadDigits, useDigitsCache } from "@propius/edge-runtime/demo";
import { fileDigitsCache } from "@propius/node-client";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `propius <args>` as a user runs it, a process of its own, with `env` over this process's and `stdin` piped in. */
export function runPropius(args: string[], env: Record<string, string>, stdin = "", onStdout?: (stdout: string) => void): Promise<CliRun> {
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "node-client/bin/propius.js"), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      onStdout?.(stdout);
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The tests' bundles: apart from `npm start`'s, inside the project so that external packages resolve. */
export const TEST_BUILD_DIR = join(ROOT, "node_modules/.cache/propius-test");
let workerBundle: Promise<string> | undefined;

export const ADMIN_KEY = "integration-admin-key";

/** The tests' Worker bundle, built once per test process. */
export function testWorkerBundle(): Promise<string> {
  return (workerBundle ??= buildWorkerBundle(TEST_BUILD_DIR));
}

/** A control plane under `wrangler dev` with its own state folder, restartable on the same state. */
export type TestControlPlane = RestartablePlane;
export const TestControlPlane = {
  /** `vars`: more Worker variables, for example `SCHEDULER_VIEW_TTL_MS`. */
  start: (vars: Record<string, string> = {}): Promise<TestControlPlane> => RestartablePlane.start({ script: testWorkerBundle, adminKey: ADMIN_KEY, vars, name: "propius-it" }),
};

/**
 * Gets Node devices ready while a control plane starts: the digits decoded once into a cache under
 * `dir` (the devices read it instead of parsing the package) and the device bundle built. Resolves
 * to the bundle's entry.
 */
export function prepareDevices(dir: string): Promise<string> {
  useDigitsCache(fileDigitsCache(join(dir, "cache")));
  const ready = Promise.all([loadDigits(), buildDeviceBundle(TEST_BUILD_DIR)]).then(([, entry]) => entry);
  ready.catch(() => undefined);
  return ready;
}

/**
 * A control plane and a tenant's owner on it for the tests of one `describe`: started before them,
 * disposed after. Read `plane` and `owner` inside the tests (they are set once the suite starts).
 */
export function controlPlaneForSuite(vars: Record<string, string> = {}): { plane: TestControlPlane; owner: OwnerClient } {
  const suite = {} as { plane: TestControlPlane; owner: OwnerClient };
  beforeAll(async () => {
    suite.plane = await TestControlPlane.start(vars);
    suite.owner = await suite.plane.owner();
  });
  afterAll(() => suite.plane?.dispose());
  return suite;
}
