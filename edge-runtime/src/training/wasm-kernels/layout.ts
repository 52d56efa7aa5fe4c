/** Copies between the NCHW and NHWC layouts of a [batch, channels, pixels] / [batch, pixels, channels] tensor. */

/** Copies [batch, channels, pixels] into [batch, pixels, channels]. */
export function channelsToLast(from: Float32Array, to: Float32Array, batch: number, channels: number, pixels: number): void {
  for (let n = 0; n < batch; n++) {
    const base = n * channels * pixels;
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < pixels; p++) to[base + p * channels + c] = from[base + c * pixels + p];
    }
  }
}

/** Copies [batch, pixels, channels] into [batch, channels, pixels]. */
export function channelsToFirst(from: Float32Array, to: Float32Array, batch: number, channels: number, pixels: number): void {
  for (let n = 0; n < batch; n++) {
    const base = n * channels * pixels;
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < channels; c++) to[base + c * pixels + p] = from[base + p * channels + c];
    }
  }
}
