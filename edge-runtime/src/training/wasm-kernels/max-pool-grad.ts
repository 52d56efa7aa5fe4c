import {
  backend_util,
  MaxPoolGrad,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type MaxPoolGradInputs,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { allocate, heapF32, type WasmBackend } from "./wasm-heap.js";

/**
 * The gradient of a 2-D max pool (NHWC): each output's gradient goes to the first largest input
 * of its window, as tfjs' cpu backend routes it. It replaces tfjs-backend-wasm 4.22's own kernel,
 * which starts every window's search at the smallest positive float rather than -Infinity (and
 * keeps the last of equal values), so that a window of values <= 0 (an all-zero window after a
 * ReLU, or a negative one) sends its gradient to the wrong input.
 *
 * One pass over the output positions; for each, the window's pixels are scanned with all
 * channels side by side, so every read and write runs along contiguous memory.
 */
export function maxPoolGrad(args: { inputs: MaxPoolGradInputs; backend: WasmBackend; attrs: MaxPoolGradAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const input = inputs.input!;
  const dy = inputs.dy!;
  const pool = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const out = allocate(backend, input.shape);
  routeToMaxima(heapF32(backend, input), heapF32(backend, dy), heapF32(backend, out), pool);
  return out;
}

function routeToMaxima(x: Float32Array, dy: Float32Array, dx: Float32Array, pool: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = pool;
  const { filterHeight, filterWidth } = pool;
  const top = pool.padInfo.top;
  const left = pool.padInfo.left;
  const best = new Float32Array(channels);
  const where = new Int32Array(channels);
  dx.fill(0);
  let o = 0; // offset of the current output pixel in dy
  for (let n = 0; n < batchSize; n++) {
    const image = n * inHeight * inWidth * channels;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideHeight - top);
      const y1 = Math.min(inHeight, oy * strideHeight - top + filterHeight);
      for (let ox = 0; ox < outWidth; ox++, o += channels) {
        const x0 = Math.max(0, ox * strideWidth - left);
        const x1 = Math.min(inWidth, ox * strideWidth - left + filterWidth);
        best.fill(-Infinity);
        where.fill(-1);
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const p = image + (iy * inWidth + ix) * channels;
            for (let c = 0; c < channels; c++) {
              const v = x[p + c];
              if (v > best[c]) {
                best[c] = v;
                where[c] = p + c;
              }
            }
          }
        }
        // A window of NaNs only (or none inside the image) has no maximum: no gradient, as on cpu.
        for (let c = 0; c < channels; c++) if (where[c] >= 0) dx[where[c]] += dy[o + c];
      }
    }
  }
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: "wasm",
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
