import * as tf from "./tf.js";

/**
 * A small registry of tfjs backends for training, in the style of tfjs' own: each backend has a
 * name (the tfjs backend name), a priority, and an async `setup()` that prepares it (imports its
 * package, sets flags and paths) before `tf.setBackend(name)` is called. `initTraining` picks the
 * first backend whose setup and initialisation succeed.
 */

/** Options for {@link initTraining}. */
export interface InitTrainingOptions {
  /** Backend names to try first, in this order; the other registered backends follow by priority. */
  prefer?: string[];
  /**
   * Where the tfjs wasm binaries are served from (a URL prefix ending in "/", or a map from file
   * name to URL), passed to `setWasmPaths`. Browsers should serve them from the app's own origin.
   * In Node the default is the installed package's `dist` directory.
   */
  wasmPaths?: string | Record<string, string>;
}

/** Prepares a backend before tfjs initialises it; throw to signal that it cannot be used. */
export type BackendSetup = (options: InitTrainingOptions) => Promise<void>;

interface Entry {
  name: string;
  priority: number;
  setup: BackendSetup;
  /** Set once setup succeeded, so that later initialisations skip it. */
  ready?: Promise<void>;
}

/** A set of candidate training backends and the choice among them. */
export class BackendRegistry {
  private readonly entries = new Map<string, Entry>();
  private chosen?: { key: string; name: Promise<string> };

  /** Registers (or replaces) a backend; higher priorities are tried first. */
  register(name: string, priority: number, setup: BackendSetup): void {
    this.entries.set(name, { name, priority, setup });
  }

  /** Registered backend names, highest priority first. */
  names(): string[] {
    return [...this.entries.values()].sort((a, b) => b.priority - a.priority).map((e) => e.name);
  }

  /**
   * Makes the first usable backend the active tfjs backend and returns its name. Candidates are
   * the `prefer` names in order, then the rest by priority; a backend whose setup throws or whose
   * tfjs initialisation fails is skipped. Repeated calls with the same options return the same
   * promise, so calling this before every training run is cheap.
   */
  init(options: InitTrainingOptions = {}): Promise<string> {
    const key = JSON.stringify([options.prefer ?? [], options.wasmPaths ?? null]);
    if (this.chosen?.key === key) return this.chosen.name;
    const name = this.select(options);
    const chosen = { key, name };
    this.chosen = chosen;
    name.catch(() => {
      if (this.chosen === chosen) this.chosen = undefined;
    });
    return name;
  }

  /**
   * Sets up and activates one registered backend (for a probe), without changing what `init`
   * has chosen; throws when it cannot be used.
   */
  async use(name: string, options: InitTrainingOptions = {}): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) throw new RangeError(`unknown training backend: ${name}; registered: ${this.names().join(", ")}`);
    this.chosen = undefined;
    await this.activate(entry, options);
  }

  private async select(options: InitTrainingOptions): Promise<string> {
    const prefer = options.prefer ?? [];
    const unknown = prefer.filter((n) => !this.entries.has(n));
    if (unknown.length > 0) {
      throw new RangeError(`unknown training backend(s): ${unknown.join(", ")}; registered: ${this.names().join(", ")}`);
    }
    const order = [...prefer, ...this.names().filter((n) => !prefer.includes(n))];
    const failures: unknown[] = [];
    for (const name of order) {
      const entry = this.entries.get(name)!;
      try {
        await this.activate(entry, options);
        return name;
      } catch (error) {
        failures.push(error);
      }
    }
    throw new AggregateError(failures, `no training backend could be initialised (tried ${order.join(", ")})`);
  }

  private async activate(entry: Entry, options: InitTrainingOptions): Promise<void> {
    if (!entry.ready) {
      entry.ready = entry.setup(options);
      entry.ready.catch(() => (entry.ready = undefined));
    }
    await entry.ready;
    if (!(await tf.setBackend(entry.name))) throw new Error(`tfjs could not initialise the '${entry.name}' backend`);
    await tf.ready();
  }
}

/** The directory of the installed tfjs-backend-wasm `dist` files, in Node only. */
async function nodeWasmDirectory(): Promise<string | undefined> {
  if (!tf.env().getBool("IS_NODE")) return undefined;
  // Specifiers in variables keep browser bundlers from trying to resolve Node built-ins.
  const moduleSpecifier = "node:module";
  const pathSpecifier = "node:path";
  try {
    const { createRequire } = (await import(/* @vite-ignore */ moduleSpecifier)) as typeof import("node:module");
    const path = (await import(/* @vite-ignore */ pathSpecifier)) as typeof import("node:path");
    const entry = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
    return path.dirname(entry) + path.sep;
  } catch {
    return undefined; // bundled or unusual layout: leave tfjs' own default in place
  }
}

async function setupWasm(options: InitTrainingOptions): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  // Threaded wasm hangs in some bundled, cross-origin-isolated pages (tfjs issue 4107).
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  const paths = options.wasmPaths ?? (await nodeWasmDirectory());
  if (paths !== undefined) wasm.setWasmPaths(paths);
  // Kernels that training convolutions needs and the package lacks (see wasm-kernels/).
  (await import("./wasm-kernels/index.js")).registerWasmTrainingKernels();
}

/** The registry `initTraining` uses: `wasm` (priority 2) and pure-JS `cpu` (priority 1). */
export const trainingBackends = new BackendRegistry();
trainingBackends.register("wasm", 2, setupWasm);
trainingBackends.register("cpu", 1, async () => {
  await import("@tensorflow/tfjs-backend-cpu");
});

/** Chooses and initialises the training backend (see {@link BackendRegistry.init}). */
export function initTraining(options: InitTrainingOptions = {}): Promise<string> {
  return trainingBackends.init(options);
}
