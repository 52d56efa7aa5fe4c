import { describe, expect, it } from "vitest";
import { classIndexOf, imageToExample, type ImageFormat } from "./image-examples.js";

const format = (width: number, height: number, channels: number): ImageFormat => ({ kind: "image", width, height, channels, classes: 10 });

/** An RGBA image from a function of the pixel's position. */
function rgba(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(pixel(x, y), (y * width + x) * 4);
  return out;
}

const close = (actual: Float32Array, expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
};

describe("imageToExample", () => {
  it("keeps an image of the format's size as it is, laid out height x width x channels", () => {
    const image = rgba(3, 2, (x, y) => [x * 100, y * 200, 50, 255]);
    close(imageToExample(image, 3, 2, format(3, 2, 3)), [0, 0, 50, 100, 0, 50, 200, 0, 50, 0, 200, 50, 100, 200, 50, 200, 200, 50].map((v) => v / 255));
    close(imageToExample(image, 3, 2, format(3, 2, 4)).subarray(0, 8), [0, 0, 50 / 255, 1, 100 / 255, 0, 50 / 255, 1]);
  });

  it("turns colours into grey by luminance, and keeps bright strokes on black as they are", () => {
    const image = rgba(2, 1, (x) => (x === 0 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
    close(imageToExample(image, 2, 1, format(2, 1, 1)), [0.299, 0.114]);
  });

  it("inverts a mostly light grey image (dark ink on a page), but never colours", () => {
    const page = rgba(2, 2, (x, y) => (x === 0 && y === 0 ? [0, 0, 0, 255] : [255, 255, 255, 255]));
    close(imageToExample(page, 2, 2, format(2, 2, 1)), [1, 0, 0, 0]);
    close(imageToExample(page, 2, 2, format(2, 2, 3)).subarray(0, 6), [0, 0, 0, 1, 1, 1]);
  });

  it("counts transparent parts as black without alpha, and lets no hidden colour bleed", () => {
    const image = rgba(2, 1, (x) => (x === 0 ? [255, 255, 255, 255] : [255, 0, 0, 0]));
    close(imageToExample(image, 2, 1, format(2, 1, 3)), [1, 1, 1, 0, 0, 0]);
    // Both pixels merged into one: half white and opaque, half transparent.
    close(imageToExample(image, 2, 1, format(1, 1, 3)), [0.5, 0.5, 0.5]);
    close(imageToExample(image, 2, 1, format(1, 1, 4)), [1, 1, 1, 0.5]);
    close(imageToExample(image, 2, 1, format(1, 1, 2)), [1, 0.5]);
  });

  it("shrinks by averaging neighbours, so that every source pixel counts", () => {
    // A 4 x 4 image whose left half is white, halved: each output pixel weighs its own two columns
    // 3 and its neighbours 1 (1:3:3:1), the one past the edge left out: white 6/7 and 1/7.
    const image = rgba(4, 4, (x) => (x < 2 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    const [w, b] = [6 / 7, 1 / 7];
    close(imageToExample(image, 4, 4, format(2, 2, 3)), [w, w, w, b, b, b, w, w, w, b, b, b]);
    const uniform = imageToExample(rgba(37, 23, () => [51, 102, 153, 255]), 37, 23, format(14, 14, 3));
    for (let i = 0; i < uniform.length; i++) expect(uniform[i]).toBeCloseTo([0.2, 0.4, 0.6][i % 3], 5);
  });

  it("grows by blending between pixels", () => {
    const image = rgba(2, 1, (x) => (x === 0 ? [0, 0, 0, 255] : [255, 255, 255, 255]));
    close(imageToExample(image, 2, 1, format(4, 1, 3)).filter((_, i) => i % 3 === 0), [0, 0.25, 0.75, 1]);
  });

  it("refuses pixels that do not match the size given", () => {
    expect(() => imageToExample(new Uint8Array(12), 2, 2, format(2, 2, 1))).toThrow("an RGBA image of 2 x 2 has 16 values, not 12");
  });
});

describe("classIndexOf", () => {
  it("reads a class from the job's class names, else from a class index", () => {
    expect(classIndexOf("dog", { classes: 2, labels: ["cat", "dog"] })).toBe(1);
    expect(classIndexOf("7", { classes: 10 })).toBe(7);
    expect(classIndexOf("1", { classes: 2, labels: ["cat", "dog"] })).toBe(1);
    expect(classIndexOf("12", { classes: 10 })).toBeUndefined();
    expect(classIndexOf("cow", { classes: 2, labels: ["cat", "dog"] })).toBeUndefined();
  });
});
