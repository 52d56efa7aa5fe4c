import type { InputFormat } from "@propius/shared";

/** An image job's format: the size and channels its examples have. */
export type ImageFormat = Extract<InputFormat, { kind: "image" }>;

/** For each output index along one axis, the first input index it reads and the weights from there. */
interface AxisWeights {
  start: Int32Array;
  weights: Float32Array[];
}

/**
 * A triangle (bilinear) filter widened to the scale when shrinking, so that every source pixel
 * counts (as PIL's bilinear resize does): the same size gives the identity, halving averages four
 * neighbours 1:3:3:1.
 */
function axisWeights(from: number, to: number): AxisWeights {
  const scale = from / to;
  const support = Math.max(scale, 1);
  const start = new Int32Array(to);
  const weights: Float32Array[] = [];
  for (let t = 0; t < to; t++) {
    const center = (t + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(from, Math.ceil(center + support));
    const w = new Float32Array(hi - lo);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += w[i - lo] = Math.max(0, 1 - Math.abs(i + 0.5 - center) / support);
    for (let i = 0; i < w.length; i++) w[i] /= sum;
    start[t] = lo;
    weights.push(w);
  }
  return { start, weights };
}

/** Resizes premultiplied RGBA floats from `w` x `h` to `width` x `height`, one axis at a time. */
function resize(pixels: Float32Array, w: number, h: number, width: number, height: number): Float32Array {
  const across = axisWeights(w, width);
  const rows = new Float32Array(h * width * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < width; x++) {
      const ws = across.weights[x];
      for (let k = 0; k < ws.length; k++) {
        const from = (y * w + across.start[x] + k) * 4;
        for (let c = 0; c < 4; c++) rows[(y * width + x) * 4 + c] += ws[k] * pixels[from + c];
      }
    }
  }
  const down = axisWeights(h, height);
  const out = new Float32Array(height * width * 4);
  for (let y = 0; y < height; y++) {
    const ws = down.weights[y];
    for (let k = 0; k < ws.length; k++) {
      const from = (down.start[y] + k) * width * 4;
      for (let i = 0; i < width * 4; i++) out[y * width * 4 + i] += ws[k] * rows[from + i];
    }
  }
  return out;
}

/**
 * One decoded image (8-bit RGBA, row by row, `width` x `height`, as a canvas's `getImageData` or a
 * PNG/JPEG decoder gives it) as one example of an image job: resized to the format's width x
 * height and laid out height x width x channels, values in [0, 1]: 1 channel grey (luminance,
 * Rec. 601), 2 grey and alpha, 3 RGB, 4 RGBA. Without alpha, transparent parts count as black
 * (colours are weighted by their alpha, as a canvas draws them over nothing). The resize works on
 * those weighted colours, so that the colour of a transparent pixel never bleeds into its
 * neighbours. Grey images that are mostly light (dark
 * ink on a light page) are inverted, so that every image has MNIST's bright strokes on black.
 * The browser tab and the Node device both use this, so the same file gives the same example.
 */
export function imageToExample(rgba: ArrayLike<number>, width: number, height: number, format: ImageFormat): Float32Array {
  if (!(width >= 1 && height >= 1) || rgba.length !== width * height * 4) {
    throw new RangeError(`an RGBA image of ${width} x ${height} has ${width * height * 4} values, not ${rgba.length}`);
  }
  const premultiplied = new Float32Array(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const alpha = rgba[i + 3] / 255;
    for (let c = 0; c < 3; c++) premultiplied[i + c] = (rgba[i + c] / 255) * alpha;
    premultiplied[i + 3] = alpha;
  }
  const pixels = resize(premultiplied, width, height, format.width, format.height);
  const count = format.width * format.height;
  const out = new Float32Array(count * format.channels);
  for (let p = 0; p < count; p++) {
    const [r, g, b, a] = pixels.subarray(4 * p, 4 * p + 4);
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    if (format.channels === 1) {
      out[p] = grey;
    } else if (format.channels === 2) {
      out.set(a > 0 ? [grey / a, a] : [0, 0], p * 2);
    } else if (format.channels === 3) {
      out.set([r, g, b], p * 3);
    } else {
      out.set(a > 0 ? [r / a, g / a, b / a, a] : [0, 0, 0, 0], p * 4);
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
  if (format.channels === 1 && out.reduce((sum, v) => sum + v, 0) > 0.5 * out.length) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
  return out;
}

/**
 * The class a name stands for in a job's format: its position in the job's `labels`, else a
 * class index (`7`) below `classes`; undefined when it is neither.
 */
export function classIndexOf(name: string, format: { classes: number; labels?: readonly string[] }): number | undefined {
  const named = format.labels?.indexOf(name) ?? -1;
  if (named >= 0) return named;
  return /^\d+$/.test(name) && Number(name) < format.classes ? Number(name) : undefined;
}
