/** The median of a sample (the upper of the two middle values when there is an even number). */
export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
