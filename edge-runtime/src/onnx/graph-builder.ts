import { PropiusError } from "@propius/shared";
import type { AttributeValue, OnnxInitializer, OnnxNode } from "./onnx-proto.js";

/** A weight tensor of the model, looked up by its tfjs name (`<layer>/kernel`, `<layer>/bias`). */
export interface Weight {
  shape: readonly number[];
  values: Float32Array;
}

/**
 * The tensor flowing from one layer to the next. `shape` leaves out the batch dimension and is
 * always the tfjs (channels-last) shape, null where unknown; `channelsFirst` says whether the
 * graph currently holds the tensor transposed to NCHW, as ONNX Conv and MaxPool need it.
 */
export interface Flow {
  name: string;
  shape: (number | null)[];
  channelsFirst: boolean;
}

/** A layer of a tfjs Sequential topology: its class and its (snake_case) config. */
export interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

/** Refuses a model the exporter cannot write, naming the layer and what is unsupported. */
export function unsupported(layer: LayerJson, what: string): PropiusError {
  const name = String(layer.config.name ?? "?");
  return new PropiusError("unsupported_model", `layer '${name}' (${layer.class_name}) ${what}`, { layer: name, className: layer.class_name });
}

/** Collects the nodes and initializers of the graph as the layers are converted in order. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly names = new Set<string>();
  private readonly used = new Set<string>();

  constructor(private readonly weights: ReadonlyMap<string, Weight>) {}

  private unique(name: string): string {
    let candidate = name;
    for (let i = 1; this.names.has(candidate); i++) candidate = `${name}_${i}`;
    this.names.add(candidate);
    return candidate;
  }

  /** Adds a node named `<scope>/<opType>` and returns the name of its one output. */
  node(opType: string, scope: string, inputs: string[], attributes?: Record<string, AttributeValue>): string {
    const name = this.unique(`${scope}/${opType}`);
    this.nodes.push({ opType, name, inputs, outputs: [name], attributes });
    return name;
  }

  /** Adds a constant tensor and returns its name. */
  initializer(name: string, dims: readonly number[], values: Float32Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims, values });
    return unique;
  }

  /**
   * The weight `<layer>/<kind>` of the model, checked against `expected` (null entries: any
   * size). Throws a RangeError when the weight specs do not list it or give another shape.
   */
  weight(layer: string, kind: string, expected: readonly (number | null)[]): Weight {
    const name = `${layer}/${kind}`;
    const weight = this.weights.get(name);
    if (!weight) throw new RangeError(`the weight specs list no '${name}'`);
    const { shape } = weight;
    if (shape.length !== expected.length || expected.some((d, i) => d !== null && d !== shape[i])) {
      throw new RangeError(`weight '${name}' has shape [${shape}], the layer needs [${expected.map((d) => d ?? "?")}]`);
    }
    this.used.add(name);
    return weight;
  }

  /** The weights no layer used. */
  unusedWeights(): string[] {
    return [...this.weights.keys()].filter((name) => !this.used.has(name));
  }

  /** The flow in channels-last layout (NHWC), transposing it back from NCHW when needed. */
  channelsLast(flow: Flow, scope: string): Flow {
    if (!flow.channelsFirst) return flow;
    return { ...flow, name: this.node("Transpose", scope, [flow.name], { perm: [0, 2, 3, 1] }), channelsFirst: false };
  }

  /** The flow in channels-first layout (NCHW) for Conv and MaxPool; it must be an image (rank 4). */
  channelsFirst(flow: Flow, layer: LayerJson): Flow {
    if (flow.channelsFirst) return flow;
    if (flow.shape.length !== 3) throw unsupported(layer, `needs images [height, width, channels], its input has shape [${flow.shape}]`);
    return { ...flow, name: this.node("Transpose", String(layer.config.name), [flow.name], { perm: [0, 3, 1, 2] }), channelsFirst: true };
  }
}
