/** The median of a sample (the upper of the two middle values when there is an even number). */
export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The nearest-rank `p`-quantile of a sample (0 < p <= 1): the smallest value at least that fraction of the sample is at or below. */
export const quantile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil(p * values.length) - 1)];
