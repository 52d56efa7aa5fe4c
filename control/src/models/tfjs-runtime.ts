import type * as TfCore from "@tensorflow/tfjs-core";
import type * as TfLayers from "@tensorflow/tfjs-layers";
import { PropiusError } from "@propius/shared";

/** The tfjs the model check builds with: tfjs-core on its pure-JS cpu backend, and tfjs-layers. */
export interface Tfjs {
  core: typeof TfCore;
  layers: typeof TfLayers;
  /** Class name of the zeros initializer that counts what it allocates (see `withWeightBudget`). */
  zerosClass: string;
  /** Initializer classes tfjs knows, for checking a topology's own initializers by name. */
  initializerClasses: readonly string[];
}

export const BUDGET_ZEROS_CLASS = "PropiusBudgetZeros";

/** Floats the zeros initializer may still allocate in the current build; Infinity outside a build. */
let budget = Infinity;

let loading: Promise<Tfjs> | undefined;

/**
 * Loads tfjs on first use and keeps it: imported dynamically so that a Worker isolate pays for
 * evaluating tfjs only when it first checks a model, not on every other route's cold start.
 */
export function loadTfjs(): Promise<Tfjs> {
  loading ??= importTfjs().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Whether this is workerd (Cloudflare Workers), which reports its user agent as such. */
function isWorkerd(): boolean {
  const { navigator } = globalThis as { navigator?: { userAgent?: string } };
  return navigator?.userAgent === "Cloudflare-Workers";
}

async function importTfjs(): Promise<Tfjs> {
  const core = await import("@tensorflow/tfjs-core");
  // Under nodejs_compat workerd has process.versions.node and WorkerGlobalScope, so tfjs takes it
  // for both Node and a browser worker. It picks the browser platform (fetch, TextEncoder), which
  // works here; IS_NODE would only make the cpu backend print advice to install tfjs-node.
  if (isWorkerd()) core.env().set("IS_NODE", false);
  await import("@tensorflow/tfjs-backend-cpu");
  const layers = await import("@tensorflow/tfjs-layers");
  await core.setBackend("cpu");
  registerBudgetZeros(core, layers);
  const registered = Object.keys(core.serialization.SerializationMap.getMap().classNameMap);
  const initializerClasses = registered.filter((name) => name !== BUDGET_ZEROS_CLASS && isInitializerClass(core, layers, name));
  return { core, layers, zerosClass: BUDGET_ZEROS_CLASS, initializerClasses };
}

type Initializer = ReturnType<typeof TfLayers.initializers.zeros>;

function isInitializerClass(core: typeof TfCore, layers: typeof TfLayers, name: string): boolean {
  const base = Object.getPrototypeOf(Object.getPrototypeOf(layers.initializers.zeros())).constructor as abstract new () => Initializer;
  const [cls] = core.serialization.SerializationMap.getMap().classNameMap[name];
  return typeof cls === "function" && cls.prototype instanceof base;
}

/**
 * Registers tfjs' Zeros initializer under BUDGET_ZEROS_CLASS, counting the floats it allocates:
 * past the budget it throws before allocating, so a topology that declares more weights than its
 * weightSpecs (a Dense of a billion units) is refused instead of filling the isolate's memory.
 */
function registerBudgetZeros(core: typeof TfCore, layers: typeof TfLayers): void {
  const Zeros = layers.initializers.zeros().constructor as new () => Initializer;
  class BudgetZeros extends Zeros {
    static className = BUDGET_ZEROS_CLASS;
    override apply(shape: number[], dtype?: TfCore.DataType): TfCore.Tensor {
      const size = shape.reduce((n, d) => n * d, 1);
      if (!(size <= budget)) throw new WeightBudgetExceeded(shape);
      budget -= size;
      return super.apply(shape, dtype);
    }
  }
  core.serialization.registerClass(BudgetZeros as unknown as TfCore.serialization.SerializableConstructor<TfCore.serialization.Serializable>);
}

/** Thrown by the zeros initializer when a weight would take the build past its budget. */
export class WeightBudgetExceeded extends Error {
  constructor(readonly shape: number[]) {
    super(`a weight of shape [${shape.join(", ")}] takes the model past its weight budget`);
  }
}

/**
 * Runs `build` (synchronous: tfjs' deserialization allocates while it runs) with at most
 * `floats` weight values to allocate through the zeros initializer.
 */
export function withWeightBudget<T>(floats: number, build: () => T): T {
  if (budget !== Infinity) throw new PropiusError("internal", "model builds must not nest");
  budget = floats;
  try {
    return build();
  } finally {
    budget = Infinity;
  }
}
