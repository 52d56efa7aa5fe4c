import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { getKernel, type NamedAttrMap, type TensorInfo } from "@tensorflow/tfjs-core";

/**
 * How the kernels here reach tensor memory on the tfjs wasm backend: every tensor lives in the
 * wasm module's heap, and a Float32Array view on it reads or writes the values in place.
 */
export type WasmBackend = BackendWasm;

/**
 * A view on a float32 tensor's values in the wasm heap. Take views only after the last
 * allocation of a kernel: an allocation may grow the heap, which detaches earlier views.
 */
export function heapF32(backend: WasmBackend, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A new float32 tensor on the wasm heap (its values are whatever the heap held: write them all). */
export function allocate(backend: WasmBackend, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, "float32");
}

/** Frees a tensor that a kernel made for itself and does not return. */
export function release(backend: WasmBackend, info: TensorInfo): void {
  backend.disposeData(info.dataId);
}

/**
 * The same values seen with another shape (no copy): the wasm kernels read tensors by id, and a
 * reshape of contiguous row-major data is only a new shape.
 */
export function withShape(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/**
 * Runs one of the wasm backend's own kernels on tensor infos, outside the engine (no tape, no
 * bookkeeping): what a kernel does when it builds on another, as tfjs' own kernels do.
 */
export function runWasmKernel(name: string, backend: WasmBackend, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = getKernel(name, "wasm");
  if (!kernel) throw new Error(`the wasm backend has no '${name}' kernel`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`the wasm '${name}' kernel returned ${out.length} tensors, expected one`);
  return out;
}

/** out = a x b for a [1, m, k] and b [1, k, n], by the wasm backend's BatchMatMul (XNNPACK when neither is transposed). */
export function matMul(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runWasmKernel("BatchMatMul", backend, { a, b }, { transposeA: false, transposeB: false });
}

/**
 * Largest scratch buffer (in floats; 16 MiB by default) a kernel here allocates at once. Column
 * buffers grow with batch x image size x filter taps, so kernels work through the batch in groups
 * of images that fit: a large model then needs more matrix products, not a heap of gigabytes.
 * Tests lower it to send small inputs through several groups.
 */
export const scratch = { floats: 1 << 22 };

/** Images per group when each image needs `floatsPerImage` of scratch (at least one). */
export function imagesPerGroup(floatsPerImage: number, batchSize: number): number {
  return Math.max(1, Math.min(batchSize, Math.floor(scratch.floats / Math.max(1, floatsPerImage))));
}

/**
 * Rows [first, first + count) of a row-major matrix tensor with `width` columns, as a
 * [1, count, width] tensor: the tensor itself when that is all of it, else a copy (a tensor on
 * part of another's memory cannot be freed on its own).
 */
export function rowsOf(backend: WasmBackend, matrix: TensorInfo, first: number, count: number, width: number): { rows: TensorInfo; copied: boolean } {
  const total = matrix.shape.reduce((n, d) => n * d, 1) / width;
  if (first === 0 && count === total) return { rows: withShape(matrix, [1, count, width]), copied: false };
  const rows = allocate(backend, [1, count, width]);
  heapF32(backend, rows).set(heapF32(backend, matrix).subarray(first * width, (first + count) * width));
  return { rows, copied: true };
}
