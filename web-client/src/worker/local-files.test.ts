import { afterEach, describe, expect, it, vi } from "vitest";
import { examplesOf, labelFromName, summariseFiles } from "./local-files.js";

const file = (name: string, text: string) => ({ name, type: "", bytes: new TextEncoder().encode(text).buffer as ArrayBuffer });
const row = (label: number, values = 4) => [label, ...Array(values).fill(0.5)].join(",");

describe("local files", () => {
  it("reads an image's label from the start of its name, by index or by the job's class names", () => {
    expect(labelFromName("7.png", 10)).toBe(7);
    expect(labelFromName("digits/3_014.png", 10)).toBe(3);
    expect(labelFromName("dog-2.png", 2, ["cat", "dog"])).toBe(1);
    expect(() => labelFromName("seven.png", 10)).toThrow(/must start with its label/);
    expect(() => labelFromName("12_a.png", 10)).toThrow(/must start with its label \(0..9\)/);
    expect(() => labelFromName("cow_1.png", 2, ["cat", "dog"])).toThrow("cow_1.png: an image's name must start with its label (0..1) or a class name (cat, dog), e.g. 'cat_001.png'");
  });

  it("counts the examples before any job's format is known, and refuses empty or mixed sets", () => {
    expect(summariseFiles([file("a.csv", `label,p0,p1\n${row(1, 2)}\n\n${row(2, 2)}\n`), file("b.csv", `${row(0, 2)}\n`)])).toEqual({ source: "files", description: "your files: 2 CSV files, 3 examples", examples: 3 });
    expect(summariseFiles([file("1_a.png", ""), file("2_b.png", "")]).description).toBe("your files: 2 images, 2 examples");
    expect(() => summariseFiles([])).toThrow("no files given");
    expect(() => summariseFiles([file("a.csv", row(1)), file("1.png", "")])).toThrow("give either CSV files or images, not both");
    expect(() => summariseFiles([file("a.csv", "label,p0\n")])).toThrow(/hold no examples/);
  });

  it("turns CSV rows into an image job's pixels or a tabular job's features, with its label column", async () => {
    const image = await examplesOf([file("a.csv", `label,p0,p1,p2,p3\n${row(1)}\n${row(2)}\n`)], { kind: "image", width: 2, height: 2, channels: 1, classes: 3 });
    expect(image.data).toMatchObject({ count: 2, featureShape: [2, 2, 1], numClasses: 3 });
    expect(image.description).toBe("image 2 x 2 x 1, 3 classes: 2 examples from 1 CSV file");
    const table = await examplesOf([file("t.csv", "f0,f1,kind\n0.1,0.2,1\n")], { kind: "tabular", features: 2, classes: 2, labelColumn: "kind" });
    expect([...table.data.y]).toEqual([0, 1]);
  });

  it("refuses files that cannot fit the job's format, saying why", async () => {
    await expect(examplesOf([file("a.csv", row(1))], { kind: "image", width: 28, height: 28, channels: 1, classes: 3 })).rejects.toThrow("example 1 has 4 features; the job expects 784");
    await expect(examplesOf([file("a.csv", `label,a,b,c,d\n${row(1)}`)], { kind: "tabular", features: 4, classes: 3, labelColumn: "y" })).rejects.toThrow(/column named 'y'/);
    await expect(examplesOf([file("1.png", "")], { kind: "tabular", features: 4, classes: 3, labelColumn: "label" })).rejects.toThrow("the job takes rows of 4 features, not images: give CSV files");
  });
});

/**
 * The browser's decoder, for Node: every "image" is the 4 x 2 RGBA picture below (a red left half,
 * a white right half) at its own size, as createImageBitmap and a canvas's getImageData give it.
 */
function fakeBrowserDecoder(): { drawnAt: Array<[number, number]> } {
  const drawnAt: Array<[number, number]> = [];
  const picture = new Uint8ClampedArray(4 * 2 * 4).map((_, i) => (Math.floor(i / 4) % 4 < 2 ? [255, 0, 0, 255][i % 4] : 255));
  vi.stubGlobal("createImageBitmap", async (blob: Blob) => {
    if (blob.size === 0) throw new Error("empty");
    return { width: 4, height: 2, close: () => {} };
  });
  vi.stubGlobal(
    "OffscreenCanvas",
    class {
      constructor(width: number, height: number) {
        drawnAt.push([width, height]);
      }
      getContext() {
        return { drawImage: () => {}, getImageData: () => ({ data: picture }) };
      }
    },
  );
  return { drawnAt };
}

describe("images the user picks", () => {
  afterEach(() => vi.unstubAllGlobals());
  const png = (name: string) => ({ name, type: "image/png", bytes: new Uint8Array([1]).buffer as ArrayBuffer });

  it("decodes each at its own size and turns it into the job's size and channels, labelled by name", async () => {
    const { drawnAt } = fakeBrowserDecoder();
    const rgb = await examplesOf([png("1_a.png"), png("0_b.png")], { kind: "image", width: 2, height: 1, channels: 3, classes: 2 });
    expect(drawnAt).toEqual([[4, 2], [4, 2]]);
    expect(rgb.data).toMatchObject({ count: 2, featureShape: [1, 2, 3], numClasses: 2 });
    expect([...rgb.data.y]).toEqual([0, 1, 1, 0]);
    // Halved across: the left pixel mostly red, the right mostly white (1:3:3:1 weights, the edge left out).
    [1, 1 / 7, 1 / 7, 1, 6 / 7, 6 / 7].forEach((v, i) => expect(rgb.data.x[i]).toBeCloseTo(v, 5));
    expect(rgb.description).toBe("image 2 x 1 x 3, 2 classes: 2 examples from 2 images scaled to 2 x 1");
    const grey = await examplesOf([png("1_a.png")], { kind: "image", width: 4, height: 2, channels: 1, classes: 2 });
    // Mostly light (red's luminance 0.299, white 1): inverted to bright strokes on black.
    expect(grey.data.x[0]).toBeCloseTo(1 - 0.299, 5);
    expect(grey.data.x[3]).toBeCloseTo(0, 5);
    const rgba = await examplesOf([png("0_a.png")], { kind: "image", width: 4, height: 2, channels: 4, classes: 2 });
    expect([...rgba.data.x.subarray(0, 4)]).toEqual([1, 0, 0, 1]);
  });

  it("refuses an image the browser cannot decode, naming it", async () => {
    fakeBrowserDecoder();
    const broken = { name: "3_x.png", type: "image/png", bytes: new ArrayBuffer(0) };
    await expect(examplesOf([broken], { kind: "image", width: 2, height: 2, channels: 1, classes: 10 })).rejects.toThrow("3_x.png: not an image this browser can decode");
  });
});
