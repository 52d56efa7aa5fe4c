import { describeInputFormat, exampleShape, inputSize, type InputFormat } from "@propius/shared";
import { classIndexOf, countCsvExamples, csvExamplesOf, imageToExample, type LocalData } from "@propius/edge-runtime/training";
import type { DataSummary, FileBytes } from "../contract.js";

const isCsv = (file: FileBytes) => file.name.toLowerCase().endsWith(".csv");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const decoder = new TextDecoder();
const csvTexts = (files: readonly FileBytes[]) => files.map((f) => ({ name: f.name, text: decoder.decode(f.bytes) }));

/**
 * An image's class from the start of its name: a class index (`7.png`, `7_003.png`, `7-a.png`) or,
 * when the job names its classes, a class name (`cat_001.png`).
 */
export function labelFromName(name: string, classes: number, labels?: readonly string[]): number {
  const prefix = /^([^_\-. ]+)(?:[_\-. ]|$)/.exec(name.split("/").pop()!)?.[1] ?? "";
  const label = classIndexOf(prefix, { classes, labels });
  if (label === undefined) {
    const names = labels ? ` or a class name (${labels.join(", ")})` : "";
    throw new Error(`${name}: an image's name must start with its label (0..${classes - 1})${names}, e.g. '${labels?.[0] ?? 7 % classes}_001.png'`);
  }
  return label;
}

/** Checks a file set and counts its examples (rows or images), before any job says their format. */
export function summariseFiles(files: readonly FileBytes[]): DataSummary {
  if (files.length === 0) throw new Error("no files given");
  const csv = files.filter(isCsv);
  if (csv.length > 0 && csv.length < files.length) throw new Error("give either CSV files or images, not both");
  const examples = csv.length > 0 ? countCsvExamples(csvTexts(csv)) : files.length;
  if (examples === 0) throw new Error(`the CSV files (${csv.map((f) => f.name).join(", ")}) hold no examples`);
  const kind = csv.length > 0 ? plural(csv.length, "CSV file") : plural(files.length, "image");
  return { source: "files", description: `your files: ${kind}, ${plural(examples, "example")}`, examples };
}

/**
 * Decodes an image at its own size with the browser's decoder, as 8-bit RGBA. Colour-space
 * conversion is off, so that the values are the file's own, as a Node device's decoder reads them.
 */
async function decodeImage(file: FileBytes): Promise<{ rgba: Uint8ClampedArray; width: number; height: number }> {
  const blob = new Blob([file.bytes], { type: file.type || "image/png" });
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" }).catch(() => {
    throw new Error(`${file.name}: not an image this browser can decode`);
  });
  const { width, height } = bitmap;
  const context = new OffscreenCanvas(width, height).getContext("2d")!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { rgba: context.getImageData(0, 0, width, height).data, width, height };
}

/**
 * The user's files as examples of one job's input format: CSV rows with the format's values per
 * row (a tabular job's rows need its label column), or images named by their class, scaled to the
 * format's width x height and turned into its channels (`imageToExample`, as the Node device does).
 * Throws, saying why, when the files cannot give that format.
 */
export async function examplesOf(files: readonly FileBytes[], format: InputFormat): Promise<{ data: LocalData; description: string }> {
  const described = (data: LocalData, from: string) => ({ data, description: `${describeInputFormat(format)}: ${data.count} examples from ${from}` });
  if (files.every(isCsv)) return described(csvExamplesOf(csvTexts(files), format), plural(files.length, "CSV file"));
  const count = summariseFiles(files).examples; // images: refuses a set mixed with CSV files
  if (format.kind !== "image") throw new Error(`the job takes rows of ${format.features} features, not images: give CSV files`);
  const size = inputSize(format);
  const x = new Float32Array(count * size);
  const y = new Float32Array(count * format.classes);
  for (let i = 0; i < count; i++) {
    y[i * format.classes + labelFromName(files[i].name, format.classes, format.labels)] = 1;
    const image = await decodeImage(files[i]);
    x.set(imageToExample(image.rgba, image.width, image.height, format), i * size);
  }
  const data = { x, y, count, featureShape: exampleShape(format), numClasses: format.classes };
  return described(data, `${plural(count, "image")} scaled to ${format.width} x ${format.height}`);
}
