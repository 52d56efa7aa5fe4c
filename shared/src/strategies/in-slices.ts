import type { StepResult } from "./strategy.js";

/** Values per slice of a server step: 2^18 floats, 1 MiB. */
export const STEP_SLICE = 1 << 18;

/**
 * Runs an elementwise server step slice by slice, in place: the next model is written over
 * `target` (the round's sum, which each slice has read by the time it is overwritten) and every
 * array of the new state over the same array of `state`. Each strategy here is elementwise (value i
 * of the next model and state depends on value i of the inputs and on scalars only), so the slices
 * give exactly the whole step's values, while the memory the step adds is one slice instead of a
 * next model and a second copy of the state. Returns the new state: the last slice's scalars with
 * `state`'s (updated) arrays.
 */
export function stepInSlices<S extends object>(
  size: number,
  target: Float32Array,
  state: S,
  step: (from: number, to: number, slice: S) => StepResult<S>,
  sliceLength = STEP_SLICE,
): S {
  if (target.length !== size) throw new RangeError(`target has ${target.length} values, expected ${size}`);
  const arrays = state as Record<string, unknown>;
  let last: Record<string, unknown> = {};
  for (let from = 0; from < size; from += sliceLength) {
    const to = Math.min(size, from + sliceLength);
    const slice = Object.fromEntries(Object.entries(arrays).map(([key, value]) => [key, value instanceof Float32Array ? value.subarray(from, to) : value])) as S;
    const { next, state: out } = step(from, to, slice);
    target.set(next, from);
    last = out as Record<string, unknown>;
    for (const [key, value] of Object.entries(last)) if (value instanceof Float32Array) (arrays[key] as Float32Array).set(value, from);
  }
  return Object.fromEntries(Object.entries(last).map(([key, value]) => [key, value instanceof Float32Array ? arrays[key] : value])) as S;
}
