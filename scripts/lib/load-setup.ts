import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { OwnerClient } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import type { JobSpecInput, TensorSpec } from "@propius/shared";
import { DEFAULT_DEVICE_MODEL, sampleDevices, type DatasetSizeRecord, type DeviceSpecRecord } from "../../control/src/simulator/devices.js";
import { SPEED_ATTRIBUTE } from "../../control/src/clients/client-manager.js";
import { workloadJobs, workloadSchema, type Workload } from "../../control/src/simulator/workload.js";
import type { LoadDevice } from "./load-driver.js";
import { ROOT } from "./local-control-plane.js";

/** The paper's workload and device traces, as the load benchmark and its profiler use them. */
export interface LoadInputs {
  workload: Workload;
  specs: DeviceSpecRecord[];
  sizes: DatasetSizeRecord[];
  /** A 256-parameter model: the load measures the control plane, not the data plane. */
  model: JobSpecInput["model"] & { weightSpecs: TensorSpec[] };
}

export async function loadInputs(workloadPath = join(ROOT, "data/paper-workload.json")): Promise<LoadInputs> {
  const readJson = async <T>(path: string) => JSON.parse(await readFile(path, "utf8")) as T;
  return {
    workload: workloadSchema.parse(await readJson(workloadPath)),
    specs: await readJson<DeviceSpecRecord[]>(join(ROOT, "data/device-specs.json")),
    sizes: await readJson<DatasetSizeRecord[]>(join(ROOT, "data/client-dataset-sizes.json")),
    model: linearModel(16, 16),
  };
}

/** A tenant and the workload's jobs, every one running (rounds without end), on the control plane at `url`. */
export async function createWorkloadJobs(url: string, adminKey: string, inputs: LoadInputs): Promise<void> {
  const { apiKey } = await OwnerClient.createTenant({ baseUrl: url, adminKey, name: "load" });
  const owner = new OwnerClient({ baseUrl: url, apiKey });
  for (const job of workloadJobs(inputs.workload)) {
    const spec: JobSpecInput = {
      name: job.id, model: inputs.model,
      plan: { rounds: 100_000, clientsPerRound: job.demand, overCommit: job.overCommit, roundDeadlineSeconds: job.reportTimeoutS, localSteps: 1 },
      constraints: job.constraints, privateConstraints: job.privateConstraints,
    };
    await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(256));
  }
}

/** Enrols `count` devices with attributes sampled from the traces, `concurrency` at a time; and the rate. */
export async function enrolDevices(url: string, count: number, inputs: LoadInputs, concurrency: number): Promise<{ list: LoadDevice[]; rate: number }> {
  const sampled = sampleDevices(count, inputs.specs, inputs.sizes, DEFAULT_DEVICE_MODEL, count);
  const started = performance.now();
  const list: LoadDevice[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const attributes = { ...sampled[i].view.attributes, [SPEED_ATTRIBUTE]: sampled[i].view.speed };
        const response = await fetch(`${url}/v1/clients`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ attributes }) });
        if (response.status !== 201) throw new Error(`enrolment answered ${response.status}: ${await response.text()}`);
        const { token } = (await response.json()) as { token: string };
        list[i] = { token, attributes, privateAttributes: sampled[i].privateAttributes, task: null, readyAt: 0 };
      }
    }),
  );
  return { list, rate: count / ((performance.now() - started) / 1000) };
}
