import { parameterCount, type TensorSpec } from "@propius/shared";
import { mulberry32 } from "./random.js";

/** A kernel's fan-in and fan-out, as Keras counts them: the receptive field times the last two dimensions. */
function fans(shape: readonly number[]): [number, number] {
  const receptive = shape.slice(0, -2).reduce((n, d) => n * d, 1);
  return [receptive * shape[shape.length - 2], receptive * shape[shape.length - 1]];
}

/**
 * Deterministic initial weights laid out as `weightSpecs`: Glorot-uniform kernels (every tensor of
 * two or more dimensions: U(-l, l), l = sqrt(6 / (fanIn + fanOut))) drawn in order from a seeded
 * PRNG, zero biases.
 */
export function glorotWeights(weightSpecs: readonly TensorSpec[], seed: number): Float32Array {
  const weights = new Float32Array(parameterCount(weightSpecs));
  const random = mulberry32(seed);
  let offset = 0;
  for (const { shape } of weightSpecs) {
    const size = shape.reduce((n, d) => n * d, 1);
    if (shape.length >= 2) {
      const [fanIn, fanOut] = fans(shape);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) weights[offset + i] = (2 * random() - 1) * limit;
    }
    offset += size;
  }
  return weights;
}
