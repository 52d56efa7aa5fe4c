import type { Credentials } from "@propius/edge-runtime";
import type { BackendProbe } from "@propius/edge-runtime/training";

/** What the tab's worker found it can use. */
export interface Capabilities {
  webgpuAdapter: string | null;
  webgl2: boolean;
  wasmSimd: boolean;
  /** SharedArrayBuffer and cross-origin isolation: what threaded wasm would need. */
  wasmThreads: boolean;
  crossOriginIsolated: boolean;
  cores: number | null;
  /** navigator.deviceMemory (GB, rounded by the browser), where the browser tells. */
  memoryGb: number | null;
}

export interface ProbeReport {
  capabilities: Capabilities;
  probes: BackendProbe[];
  backend: string;
}

/** The tab's training data: a demo shard or the user's own files. */
export interface DataSummary {
  source: "demo" | "files";
  description: string;
  examples: number;
}

/** A picked file's bytes; its buffer is transferred to the worker, not copied. */
export interface FileBytes {
  name: string;
  type: string;
  bytes: ArrayBuffer;
}

/** The model's answer for one drawing: the global model of `round`, run with ONNX Runtime Web. */
export interface Prediction {
  jobId: string;
  round: number;
  probabilities: number[];
}

/** The model of `round` evaluated in the tab on held-out digits, with ONNX Runtime Web. */
export interface ModelEvaluation {
  jobId: string;
  round: number;
  accuracy: number;
  loss: number;
  examples: number;
}

/** What the worker reports while it contributes (small, cloneable summaries of the task loop's events). */
export type ContributionEvent =
  | { type: "registered"; credentials: Credentials }
  /** `push`: the tab holds a push connection and gets its next task the moment there is one. */
  | { type: "waiting"; reason: string; retryAfterMs: number; via: "push" | "poll" }
  | { type: "task"; jobId: string; round: number; steps: number }
  /** The tab's data in the job's input format: which format, and how many examples from what. */
  | { type: "examples"; jobId: string; description: string }
  /** The tab's data cannot fit the job's input format: the tab stops rather than train on it. */
  | { type: "examples_refused"; jobId: string; message: string }
  | { type: "downloaded"; jobId: string; round: number; bytes: number }
  | { type: "progress"; step: number; steps: number; loss: number }
  | { type: "trained"; examples: number; trainLoss: number; millis: number; samplesPerSecond: number }
  | { type: "uploaded"; jobId: string; round: number; bytes: number; reported: number; demand: number; examples: number; trainLoss: number }
  | { type: "refused"; jobId: string; round: number; code: string; message: string }
  /** The tab could not do the task and (when `reported`) told the job, which freed its slot; the tab goes on. */
  | { type: "failed"; jobId: string; round: number; code: string; message: string; reported: boolean }
  | { type: "evaluated"; evaluation: ModelEvaluation }
  | { type: "evaluation_failed"; message: string }
  /** The control plane cannot be reached: the tab keeps trying, `retryInMs` from now. */
  | { type: "outage"; message: string; retryInMs: number }
  | { type: "stopped"; reason: string; tasks: number }
  | { type: "error"; message: string };

export interface StartOptions {
  baseUrl: string;
  credentials: Credentials | null;
  /** Check in over HTTP only, without a push connection (`?poll=1`). */
  poll?: boolean;
}

/** The worker's API, called from the page through comlink. */
export interface ContributorApi {
  /** Probes capabilities and backends, and activates the fastest backend that works. */
  probe(options: { wasmPaths: string }): Promise<ProbeReport>;
  useDemoShard(options: { index: number; shards: number; seed: number; digitsUrl: string }): Promise<DataSummary>;
  /** Keeps the user's files as given; each job's task turns them into that job's input format. */
  useFiles(files: FileBytes[]): Promise<DataSummary>;
  /** Runs the task loop until paused; `onEvent` is a comlink proxy. Resolves when the loop stops. */
  start(options: StartOptions, onEvent: (event: ContributionEvent) => void): Promise<void>;
  pause(): Promise<void>;
  /** Runs the newest global model the tab has on one input (transferred); throws when it has none. */
  predict(input: Float32Array): Promise<Prediction>;
}
