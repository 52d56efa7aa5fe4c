/** Uniform values in (0, 1), 32 bits each, from the platform's cryptographic generator (WebCrypto: Workers, Node, browsers). */
export function cryptoUniform(): () => number {
  const batch = new Uint32Array(1024);
  let at = batch.length;
  return () => {
    if (at === batch.length) {
      crypto.getRandomValues(batch);
      at = 0;
    }
    return (batch[at++] + 0.5) / 2 ** 32;
  };
}

/** Adds independent N(0, stddev^2) noise to each value, in place (Box-Muller over `uniform`, values in (0, 1)). */
export function addGaussianNoise(values: Float32Array, stddev: number, uniform: () => number): void {
  for (let i = 0; i < values.length; i += 2) {
    const r = stddev * Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    values[i] += r * Math.cos(theta);
    if (i + 1 < values.length) values[i + 1] += r * Math.sin(theta);
  }
}

/** One N(0, stddev^2) draw. */
export function gaussian(stddev: number, uniform: () => number): number {
  return stddev * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}
