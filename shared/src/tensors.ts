/** A named tensor in a flat weight buffer, in the order tfjs' `weightSpecs` lists them. */
export interface TensorSpec {
  name: string;
  shape: number[];
  dtype: "float32";
}

export function tensorSize(spec: Pick<TensorSpec, "shape">): number {
  return spec.shape.reduce((n, d) => n * d, 1);
}

/** Total number of float parameters described by a manifest. */
export function parameterCount(specs: readonly Pick<TensorSpec, "shape">[]): number {
  return specs.reduce((n, s) => n + tensorSize(s), 0);
}
