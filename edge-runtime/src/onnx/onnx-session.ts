import * as ort from "onnxruntime-web/wasm";

/**
 * ONNX Runtime Web sessions for exported models, on its wasm backend (Node and browsers). This is
 * the one module of `./onnx` that imports ONNX Runtime; the exporter does not need it.
 */

/** Options for {@link createOnnxSession}. */
export interface OnnxSessionOptions {
  /**
   * Where ONNX Runtime's wasm binary is loaded from: `{ wasm: url }`, or a URL prefix ending in
   * "/" under which both `ort-wasm-simd-threaded.wasm` and `.mjs` are served. The default, ONNX
   * Runtime's own, finds the binary beside its module: in `node_modules` in Node, among the
   * assets a Vite build emits in a page. Like `numThreads`, it is set by the first session of
   * the process or page; later sessions must pass the same (or nothing different).
   */
  wasmPaths?: ort.Env.WasmPrefixOrFilePaths;
  /** wasm threads (default 1: no worker threads, and no cross-origin isolation needed in a page). */
  numThreads?: number;
}

/** A loaded ONNX model with one float32 input and one output, as {@link exportOnnx} writes them. */
export interface OnnxSession {
  readonly session: ort.InferenceSession;
  readonly inputName: string;
  readonly outputName: string;
  /** The input shape of one sample (the input's dimensions after the batch). */
  readonly sampleShape: readonly number[];
  /** Frees the session's wasm memory. */
  release(): Promise<void>;
}

/** The wasm settings of the first session: ONNX Runtime reads them once, when it loads its wasm. */
let configured: string | undefined;

function configure(options: OnnxSessionOptions): void {
  const numThreads = options.numThreads ?? 1;
  if (!Number.isInteger(numThreads) || numThreads < 1) throw new RangeError("numThreads must be a positive integer");
  const key = JSON.stringify({ numThreads, wasmPaths: options.wasmPaths ?? null });
  if (configured !== undefined) {
    if (key !== configured) throw new RangeError(`ONNX Runtime is already set up with ${configured}; it cannot change to ${key}`);
    return;
  }
  ort.env.wasm.numThreads = numThreads;
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  configured = key;
}

/** Loads an ONNX model (the bytes of {@link exportOnnx}) into an ONNX Runtime wasm session. */
export async function createOnnxSession(bytes: Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
  configure(options);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const [input] = session.inputMetadata;
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const dims = input?.isTensor ? input.shape.slice(1) : [];
  if (session.inputNames.length !== 1 || session.outputNames.length !== 1 || !dims.every((d) => typeof d === "number" && d > 0)) {
    await session.release();
    throw new RangeError("the model must have one input with fixed dimensions after the batch, and one output");
  }
  return { session, inputName, outputName, sampleShape: dims as number[], release: () => session.release() };
}
