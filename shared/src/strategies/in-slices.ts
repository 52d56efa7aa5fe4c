import type { StepResult } from "./strategy.js";

/** Values per slice of a server step over an in-memory model: 2^18 floats, 1 MiB. */
export const STEP_SLICE = 1 << 18;

/** The base model of a step: in memory, or as consecutive slices (say, read from a stream). */
export type BaseValues = Float32Array | AsyncIterable<Float32Array> | Iterable<Float32Array>;

/**
 * Runs an elementwise server step slice by slice, in place: the next model is written over
 * `target` (the round's sum, which each slice has read by the time it is overwritten) and every
 * array of the new state over the same array of `state`. Each strategy here is elementwise (value i
 * of the next model and state depends on value i of the inputs and on scalars only), so the slices
 * give exactly the whole step's values, while the memory the step adds is one slice instead of a
 * next model and a second copy of the state; the base model may arrive slice by slice too. `step`
 * gets the base's slice, where it starts, and the state's slice. Returns the new state: the last
 * slice's scalars with `state`'s (updated) arrays.
 */
export async function stepInSlices<S extends object>(
  target: Float32Array,
  state: S,
  base: BaseValues,
  step: (base: Float32Array, from: number, slice: S) => StepResult<S>,
): Promise<S> {
  const arrays = state as Record<string, unknown>;
  let last: Record<string, unknown> = {};
  let from = 0;
  for await (const slice of base instanceof Float32Array ? slicesOf(base) : base) {
    const to = from + slice.length;
    if (to > target.length) throw new RangeError(`the base model has more than ${target.length} values`);
    const stateSlice = Object.fromEntries(Object.entries(arrays).map(([key, value]) => [key, value instanceof Float32Array ? value.subarray(from, to) : value])) as S;
    const { next, state: out } = step(slice, from, stateSlice);
    target.set(next, from);
    last = out as Record<string, unknown>;
    for (const [key, value] of Object.entries(last)) if (value instanceof Float32Array) (arrays[key] as Float32Array).set(value, from);
    from = to;
  }
  if (from !== target.length) throw new RangeError(`the base model has ${from} values, expected ${target.length}`);
  return Object.fromEntries(Object.entries(last).map(([key, value]) => [key, value instanceof Float32Array ? arrays[key] : value])) as S;
}

function* slicesOf(values: Float32Array): Iterable<Float32Array> {
  for (let from = 0; from < values.length; from += STEP_SLICE) yield values.subarray(from, from + STEP_SLICE);
}
