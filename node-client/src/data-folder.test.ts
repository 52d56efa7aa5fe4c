import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InputFormat, Task } from "@propius/shared";
import { DataFolder } from "./data-folder.js";
import { writeDigitFolder, type WrittenDigit } from "./digit-folder.js";

const NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
const model = { format: "tfjs-layers" as const, topology: {}, weightSpecs: [] };
const task = (input: InputFormat, jobId = "job_a"): Pick<Task, "jobId" | "input" | "model"> => ({ jobId, input, model });
const image = (width: number, height: number, channels: number, labels?: string[]): InputFormat => ({ kind: "image", width, height, channels, classes: 10, ...(labels ? { labels } : {}) });
const meanAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;

/** A 28 x 28 digit halved by plain 2 x 2 averaging: an oracle apart from the loader's filter. */
function boxHalf(pixels: Float32Array): Float32Array {
  const out = new Float32Array(14 * 14);
  for (let y = 0; y < 14; y++) for (let x = 0; x < 14; x++) out[y * 14 + x] = (pixels[56 * y + 2 * x] + pixels[56 * y + 2 * x + 1] + pixels[56 * y + 28 + 2 * x] + pixels[56 * y + 29 + 2 * x]) / 4;
  return out;
}

let root: string;
const folder = async (name: string) => {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "propius-data-folder-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("a data folder of real digit images in class folders", () => {
  let dir: string;
  let written: WrittenDigit[];

  beforeAll(async () => {
    dir = await folder("named");
    written = await writeDigitFolder(dir, { digits: [3, 7, 9], perClass: 4, folderName: (d) => NAMES[d] });
  }, 60_000);

  it("counts the images before any job's format is known", async () => {
    const data = await DataFolder.open(dir);
    expect(data.count).toBe(12);
    expect(data.summary).toBe("3 class folders (nine, seven, three), 12 images");
  });

  it("reads them as 28 x 28 x 1 grey values, labelled by the job's class names", async () => {
    const { data, description } = await (await DataFolder.open(dir)).forTask(task(image(28, 28, 1, NAMES)));
    expect(data).toMatchObject({ count: 12, featureShape: [28, 28, 1], numClasses: 10 });
    expect(description).toBe("image 28 x 28 x 1, 10 classes (zero, one, two, three, four, five, six, seven, eight, nine): 12 examples from 12 images in 3 class folders, scaled to 28 x 28");
    // Folders in sorted order (nine, seven, three), images in name order: the PNGs exact to 8 bits, the JPEGs close.
    const order = [9, 7, 3].flatMap((d) => written.filter((w) => w.digit === d));
    order.forEach((w, i) => {
      expect(data.y.subarray(i * 10, i * 10 + 10).indexOf(1)).toBe(w.digit);
      const values = data.x.subarray(i * 784, (i + 1) * 784);
      if (w.path.endsWith(".png")) values.forEach((v, j) => expect(Math.abs(v - Math.round(w.pixels[j] * 255) / 255)).toBeLessThan(1e-6));
      else expect(meanAbs(values, w.pixels)).toBeLessThan(0.02);
    });
  });

  it("reads them as 14 x 14 x 3 RGB values, grey on every channel, near a plain 2 x 2 average", async () => {
    const { data } = await (await DataFolder.open(dir)).forTask(task(image(14, 14, 3, NAMES)));
    expect(data).toMatchObject({ count: 12, featureShape: [14, 14, 3] });
    const order = [9, 7, 3].flatMap((d) => written.filter((w) => w.digit === d));
    order.forEach((w, i) => {
      const values = data.x.subarray(i * 588, (i + 1) * 588);
      const red = values.filter((_, j) => j % 3 === 0);
      values.forEach((v, j) => expect(v).toBeCloseTo(red[Math.floor(j / 3)], 6));
      expect(meanAbs(red, boxHalf(w.pixels))).toBeLessThan(0.05);
      expect(data.y.subarray(i * 10, i * 10 + 10).indexOf(1)).toBe(w.digit);
    });
  });

  it("takes folders named by class index when the job names no classes", async () => {
    const numbered = await folder("numbered");
    await writeDigitFolder(numbered, { digits: [2, 5], perClass: 2 });
    const { data } = await (await DataFolder.open(numbered)).forTask(task(image(28, 28, 1)));
    expect([0, 1, 2, 3].map((i) => data.y.subarray(i * 10, i * 10 + 10).indexOf(1))).toEqual([2, 2, 5, 5]);
  });

  it("refuses folders that are no class of the job, and images for a tabular job, naming the fix", async () => {
    const data = await DataFolder.open(dir);
    await expect(data.forTask(task(image(28, 28, 1, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]), "job_b"))).rejects.toThrow(
      `does not fit job job_b (image 28 x 28 x 1, 10 classes (a, b, c, d, e, f, g, h, i, j)): ${join(dir, "nine")}: no class of the job is named 'nine'; the job's classes are a, b, c, d, e, f, g, h, i, j (or their indexes 0..9): rename the folder to one of them, or move it out`,
    );
    await expect(data.forTask(task(image(28, 28, 1), "job_c"))).rejects.toThrow(/matched to its 10 classes in sorted order, one folder per class, and .* has 3 \(nine, seven, three\)/);
    await expect(data.forTask(task({ kind: "tabular", features: 784, classes: 10, labelColumn: "label" }, "job_d"))).rejects.toThrow(
      "the job takes rows of 784 features, not images: give *.csv files (with a 'label' column)",
    );
  });
});

describe("data folder layouts", () => {
  it("stops at an image that cannot be decoded, naming it", async () => {
    const dir = await folder("broken");
    await writeDigitFolder(dir, { digits: [1], perClass: 1 });
    await writeFile(join(dir, "1", "zz.png"), "not a png");
    await expect((await DataFolder.open(dir)).forTask(task(image(28, 28, 1)))).rejects.toThrow(
      `${join(dir, "1", "zz.png")}: cannot be decoded (neither a PNG nor a JPEG file (its first bytes are neither's signature)); save it again as PNG or JPEG, or move it out of ${dir}`,
    );
  });

  it("refuses a class folder without images, loose images, both kinds, and an empty folder", async () => {
    const empty = await folder("empty-class");
    await writeDigitFolder(empty, { digits: [4], perClass: 1 });
    await mkdir(join(empty, "5"));
    await writeFile(join(empty, "5", "notes.txt"), "");
    await expect(DataFolder.open(empty)).rejects.toThrow(`${join(empty, "5")} holds no .png, .jpg or .jpeg images: put the images of class '5' in it, or remove the folder`);
    const loose = await folder("loose");
    await writeFile(join(loose, "7_001.png"), "");
    await expect(DataFolder.open(loose)).rejects.toThrow(/7_001\.png: an image directly in the data folder has no class: put it in the folder of its class/);
    const both = await folder("both");
    await writeDigitFolder(both, { digits: [4], perClass: 1 });
    await writeFile(join(both, "a.csv"), "1,2\n");
    await expect(DataFolder.open(both)).rejects.toThrow(/holds both \*\.csv files and images/);
    await expect(DataFolder.open(await folder("nothing"))).rejects.toThrow(/holds no \*\.csv files and no class folders: give <folder>\/<class>\/\*\.png/);
    await expect(DataFolder.open(join(root, "missing"))).rejects.toThrow(/cannot read the data folder .*missing \(ENOENT\)/);
  });
});

describe("a data folder of CSV files", () => {
  it("reads a two-class CSV with the class count of the job's format", async () => {
    const dir = await folder("two-class");
    await writeFile(join(dir, "a.csv"), "label,x0,x1,x2,x3\n1,0,0.5,0.5,1\n0,1,1,0,0\n");
    const data = await DataFolder.open(dir);
    expect(data.summary).toBe("1 CSV file, 2 examples");
    const grey = await data.forTask(task({ kind: "image", width: 2, height: 2, channels: 1, classes: 2 }));
    expect(grey.data).toMatchObject({ count: 2, numClasses: 2, featureShape: [2, 2, 1] });
    expect([...grey.data.y]).toEqual([0, 1, 1, 0]);
  });

  it("takes a tabular job's labels from its label column, and refuses files without it", async () => {
    const dir = await folder("iris");
    await writeFile(join(dir, "iris.csv"), "sepal,species,petal\n0.5,2,0.25\n0.1,0,0.3\n");
    const data = await DataFolder.open(dir);
    const rows = await data.forTask(task({ kind: "tabular", features: 2, classes: 3, labelColumn: "species" }));
    expect([...rows.data.x]).toEqual([0.5, 0.25, Math.fround(0.1), Math.fround(0.3)]);
    expect([...rows.data.y]).toEqual([0, 0, 1, 1, 0, 0]);
    expect(rows.description).toBe("tabular, 2 features, 3 classes, labels in column 'species': 2 examples from 1 CSV file");
    await expect(data.forTask(task({ kind: "tabular", features: 2, classes: 3, labelColumn: "kind" }, "job_t"))).rejects.toThrow(
      `does not fit job job_t (tabular, 2 features, 3 classes, labels in column 'kind'): ${join(dir, "iris.csv")}: the job's labels are in a column named 'kind'`,
    );
  });
});
