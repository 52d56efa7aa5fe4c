import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { channelsToLast } from "./layout.js";
import { allocate, heapF32, imagesPerGroup, matMul, release, rowsOf, type WasmBackend } from "./wasm-heap.js";

/**
 * The gradient of a 2-D convolution with respect to its filter, which tfjs-backend-wasm 4.22
 * lacks. With M = batch x outHeight x outWidth output positions and K = filterHeight x
 * filterWidth x inChannels filter taps, dW[K, outC] = colsT[K, M] x dy[M, outC], where row k of
 * colsT holds, for every output position, the input value that tap k multiplied (0 in the padding).
 * The copy into colsT is one pass in JS; the product runs in XNNPACK through the backend's own
 * BatchMatMul (its fast path needs neither operand transposed, hence colsT rather than cols).
 * Large batches go through in groups of images (see `scratch` in wasm-heap.ts), their products summed.
 */
export function conv2dBackpropFilter(args: { inputs: Conv2DBackpropFilterInputs; backend: WasmBackend; attrs: Conv2DBackpropFilterAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x!;
  const dy = inputs.dy!;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const conv = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const pixels = conv.outHeight * conv.outWidth;
  const taps = conv.filterHeight * conv.filterWidth * conv.inChannels;
  // NCHW gradients arrive as [batch, outC, rows, cols]: the product needs them position-major.
  const dyRows = conv.dataFormat === "channelsLast" ? dy : allocate(backend, [conv.batchSize * pixels, conv.outChannels]);
  if (dyRows !== dy) channelsToLast(heapF32(backend, dy), heapF32(backend, dyRows), conv.batchSize, conv.outChannels, pixels);
  const group = imagesPerGroup(taps * pixels, conv.batchSize);
  let sum: Float32Array | undefined;
  let out: TensorInfo | undefined;
  for (let first = 0; first < conv.batchSize; first += group) {
    const images = Math.min(group, conv.batchSize - first);
    const cols = allocate(backend, [1, taps, images * pixels]);
    const { rows, copied } = rowsOf(backend, dyRows, first * pixels, images * pixels, conv.outChannels);
    fillColumnsT(heapF32(backend, x), heapF32(backend, cols), conv, first, images);
    const part = matMul(backend, cols, rows);
    release(backend, cols);
    if (copied) release(backend, rows);
    if (!out) out = part;
    else {
      sum ??= heapF32(backend, out).slice();
      const values = heapF32(backend, part);
      for (let i = 0; i < sum.length; i++) sum[i] += values[i];
      release(backend, part);
    }
  }
  if (dyRows !== dy) release(backend, dyRows);
  if (sum) heapF32(backend, out!).set(sum);
  return { dataId: out!.dataId, shape: [...filterShape], dtype: "float32" };
}

/**
 * Writes colsT[k][m] for images [first, first + images): for tap k = (fy, fx, c) and output
 * position m = (n, oy, ox), the input value that the tap multiplied there.
 */
function fillColumnsT(x: Float32Array, cols: Float32Array, conv: backend_util.Conv2DInfo, first: number, images: number): void {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = conv;
  const channelsLast = conv.dataFormat === "channelsLast";
  // Element strides of x for batch, row, column and channel.
  const sB = inHeight * inWidth * inChannels;
  const sR = channelsLast ? inWidth * inChannels : inWidth;
  const sC = channelsLast ? inChannels : 1;
  const sD = channelsLast ? 1 : inHeight * inWidth;
  const top = conv.padInfo.top;
  const left = conv.padInfo.left;
  let m = 0;
  for (let fy = 0; fy < filterHeight; fy++) {
    for (let fx = 0; fx < filterWidth; fx++) {
      // Output columns whose input column ox * stride + fx - left lies inside the image.
      const oxMin = Math.min(outWidth, Math.max(0, Math.ceil((left - fx) / strideWidth)));
      const oxMax = Math.max(oxMin, Math.min(outWidth, Math.floor((inWidth - 1 + left - fx) / strideWidth) + 1));
      const colStep = strideWidth * sC;
      for (let c = 0; c < inChannels; c++) {
        for (let n = first; n < first + images; n++) {
          for (let oy = 0; oy < outHeight; oy++) {
            const iy = oy * strideHeight + fy - top;
            if (iy < 0 || iy >= inHeight) {
              cols.fill(0, m, m + outWidth);
              m += outWidth;
              continue;
            }
            let ox = 0;
            for (; ox < oxMin; ox++) cols[m++] = 0;
            let src = n * sB + iy * sR + (oxMin * strideWidth + fx - left) * sC + c * sD;
            for (; ox < oxMax; ox++, src += colStep) cols[m++] = x[src];
            for (; ox < outWidth; ox++) cols[m++] = 0;
          }
        }
      }
    }
  }
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: conv2dBackpropFilter as unknown as KernelFunc,
};
