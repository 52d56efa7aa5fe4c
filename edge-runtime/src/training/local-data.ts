/**
 * A device's local training examples, row-major: example `i` has features
 * `x[i * featureSize .. (i + 1) * featureSize)` and a one-hot label `y[i * numClasses .. )`.
 */
export interface LocalData {
  x: Float32Array;
  y: Float32Array;
  count: number;
  /** The shape of one example's features (for MNIST, [784]). */
  featureShape: number[];
  numClasses: number;
}

/** The class of each example (the index of its one-hot label's 1). */
export function labelIndices(data: Pick<LocalData, "y" | "count" | "numClasses">): Uint8Array {
  const labels = new Uint8Array(data.count);
  for (let i = 0; i < data.count; i++) labels[i] = data.y.subarray(i * data.numClasses, (i + 1) * data.numClasses).indexOf(1);
  return labels;
}

/** Number of floats in one example's features. */
export function featureSize(data: Pick<LocalData, "featureShape">): number {
  return data.featureShape.reduce((n, d) => n * d, 1);
}

/** Throws a RangeError unless the buffers match `count`, `featureShape` and `numClasses`. */
export function checkLocalData(data: LocalData): void {
  if (!Number.isInteger(data.count) || data.count < 1) throw new RangeError("local data needs at least one example");
  if (!Number.isInteger(data.numClasses) || data.numClasses < 1) throw new RangeError("numClasses must be a positive integer");
  const size = featureSize(data);
  if (data.x.length !== data.count * size) {
    throw new RangeError(`x has ${data.x.length} values; ${data.count} examples of shape [${data.featureShape}] need ${data.count * size}`);
  }
  if (data.y.length !== data.count * data.numClasses) {
    throw new RangeError(`y has ${data.y.length} values; ${data.count} one-hot labels of ${data.numClasses} classes need ${data.count * data.numClasses}`);
  }
}

/** The features and one-hot labels of the examples `rows`, copied into new contiguous buffers. */
export function gatherRows(data: LocalData, rows: ArrayLike<number>): { x: Float32Array; y: Float32Array } {
  const size = featureSize(data);
  const classes = data.numClasses;
  const x = new Float32Array(rows.length * size);
  const y = new Float32Array(rows.length * classes);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    x.set(data.x.subarray(row * size, (row + 1) * size), i * size);
    y.set(data.y.subarray(row * classes, (row + 1) * classes), i * classes);
  }
  return { x, y };
}

