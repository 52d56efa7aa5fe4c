import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { channelsToFirst, channelsToLast } from "./layout.js";
import { allocate, heapF32, imagesPerGroup, matMul, release, rowsOf, type WasmBackend } from "./wasm-heap.js";

/**
 * The gradient of a 2-D convolution with respect to its input. It replaces tfjs-backend-wasm
 * 4.22's own kernel, a scalar loop that took about 40% of a training step of the demo CNN.
 * With M output positions, K = filterHeight x filterWidth x inChannels filter taps and the
 * filter seen as W[K, outC]: cols[M, K] = dy[M, outC] x WT[outC, K] runs in XNNPACK through the
 * backend's BatchMatMul (a transposed copy of the small filter keeps it on the fast path), and
 * one pass then adds each column back onto the input pixel that its tap read (col2im). Large
 * batches go through in groups of images (see `scratch` in wasm-heap.ts).
 */
export function conv2dBackpropInput(args: { inputs: Conv2DBackpropInputInputs; backend: WasmBackend; attrs: Conv2DBackpropInputAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy!;
  const filter = inputs.filter!;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const conv = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const channelsLast = conv.dataFormat === "channelsLast";
  const pixels = conv.outHeight * conv.outWidth;
  const taps = conv.filterHeight * conv.filterWidth * conv.inChannels;
  const filterT = allocate(backend, [1, conv.outChannels, taps]);
  transpose(heapF32(backend, filter), heapF32(backend, filterT), taps, conv.outChannels);
  const dyRows = channelsLast ? dy : allocate(backend, [conv.batchSize * pixels, conv.outChannels]);
  if (dyRows !== dy) channelsToLast(heapF32(backend, dy), heapF32(backend, dyRows), conv.batchSize, conv.outChannels, pixels);
  const dx = allocate(backend, [conv.batchSize, conv.inHeight, conv.inWidth, conv.inChannels]);
  heapF32(backend, dx).fill(0);
  const group = imagesPerGroup(taps * pixels, conv.batchSize);
  for (let first = 0; first < conv.batchSize; first += group) {
    const images = Math.min(group, conv.batchSize - first);
    const { rows, copied } = rowsOf(backend, dyRows, first * pixels, images * pixels, conv.outChannels);
    const cols = matMul(backend, rows, filterT);
    if (copied) release(backend, rows);
    addColumnsBack(heapF32(backend, cols), heapF32(backend, dx), conv, first, images);
    release(backend, cols);
  }
  release(backend, filterT);
  if (dyRows !== dy) release(backend, dyRows);
  if (channelsLast) return dx;
  const dxFirst = allocate(backend, conv.inShape);
  channelsToFirst(heapF32(backend, dx), heapF32(backend, dxFirst), conv.batchSize, conv.inChannels, conv.inHeight * conv.inWidth);
  release(backend, dx);
  return dxFirst;
}

/** to[c][r] = from[r][c] for a rows x columns matrix. */
function transpose(from: Float32Array, to: Float32Array, rows: number, columns: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) to[c * rows + r] = from[r * columns + c];
  }
}

/**
 * Adds onto dx (NHWC) for images [first, first + images), over their output positions m and the
 * taps (fy, fx), the column cols[m][fy, fx, :] at the pixel the tap read.
 */
function addColumnsBack(cols: Float32Array, dx: Float32Array, conv: backend_util.Conv2DInfo, first: number, images: number): void {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = conv;
  const top = conv.padInfo.top;
  const left = conv.padInfo.left;
  const taps = filterHeight * filterWidth * inChannels;
  let m = 0; // offset of the current position's row in cols
  for (let n = first; n < first + images; n++) {
    const image = n * inHeight * inWidth * inChannels;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, m += taps) {
        for (let fy = 0; fy < filterHeight; fy++) {
          const iy = oy * strideHeight + fy - top;
          if (iy < 0 || iy >= inHeight) continue;
          for (let fx = 0; fx < filterWidth; fx++) {
            const ix = ox * strideWidth + fx - left;
            if (ix < 0 || ix >= inWidth) continue;
            const to = image + (iy * inWidth + ix) * inChannels;
            const from = m + (fy * filterWidth + fx) * inChannels;
            for (let c = 0; c < inChannels; c++) dx[to + c] += cols[from + c];
          }
        }
      }
    }
  }
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: "wasm",
  kernelFunc: conv2dBackpropInput as unknown as KernelFunc,
};
