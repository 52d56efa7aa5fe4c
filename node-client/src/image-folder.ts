import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describeInputFormat, exampleShape, inputSize, type InputFormat } from "@propius/shared";
import { classIndexOf, imageToExample, type Converted, type ImageFormat } from "@propius/edge-runtime/training";

/** One class folder of a data folder: its name (the class) and its image files, sorted. */
export interface ClassFolder {
  name: string;
  images: string[];
}

const isWholeNumber = (name: string) => /^\d+$/.test(name);

/**
 * The class index of each folder in a job's format: its position in the job's `labels` (or a
 * class index, `0`..`classes-1`); without labels, folders named by class index are that class,
 * and other names are matched to classes in sorted order, which needs one folder per class.
 * Throws, naming the folder and the fix, when a folder stands for no class of the job.
 */
export function classOfFolders(dir: string, folders: readonly ClassFolder[], format: ImageFormat): number[] {
  const names = folders.map((f) => f.name);
  const last = format.classes - 1;
  if (format.labels || names.every(isWholeNumber)) {
    return names.map((name) => {
      const index = classIndexOf(name, format);
      if (index !== undefined) return index;
      const fix = format.labels ? `the job's classes are ${format.labels.join(", ")} (or their indexes 0..${last})` : `the job's classes are 0..${last}`;
      throw new Error(`${join(dir, name)}: no class of the job is named '${name}'; ${fix}: rename the folder to one of them, or move it out`);
    });
  }
  if (names.length !== format.classes) {
    throw new Error(
      `the job names no classes (input.labels), so class folders are matched to its ${format.classes} classes in sorted order, one folder per class, ` +
        `and ${dir} has ${names.length} (${names.join(", ")}): give one folder per class, or name the folders by class index (0..${last}) to give only some classes`,
    );
  }
  const sorted = [...names].sort();
  return names.map((name) => sorted.indexOf(name));
}

/**
 * Class folders of PNG and JPEG images as examples of one image job's format: each image decoded,
 * resized to the job's width x height and turned into its channels (`imageToExample`, as the
 * browser tab does), labelled by its folder. Throws, naming the file and the fix, for a tabular
 * job, a folder that is no class of the job, or an image that cannot be decoded.
 */
export async function imageFolderExamples(dir: string, folders: readonly ClassFolder[], format: InputFormat): Promise<Converted> {
  if (format.kind !== "image") throw new Error(`the job takes rows of ${format.features} features, not images: give *.csv files (with a '${format.labelColumn}' column)`);
  const classes = classOfFolders(dir, folders, format);
  const { decodeImage } = await import("./image-decode.js"); // loaded only by devices that read images
  const count = folders.reduce((n, f) => n + f.images.length, 0);
  const size = inputSize(format);
  const x = new Float32Array(count * size);
  const y = new Float32Array(count * format.classes);
  let i = 0;
  for (const [k, folder] of folders.entries()) {
    for (const name of folder.images) {
      const path = join(dir, folder.name, name);
      let image;
      try {
        image = decodeImage(new Uint8Array(await readFile(path)));
      } catch (error) {
        throw new Error(`${path}: cannot be decoded (${(error as Error).message}); save it again as PNG or JPEG, or move it out of ${dir}`);
      }
      x.set(imageToExample(image.rgba, image.width, image.height, format), i * size);
      y[i * format.classes + classes[k]] = 1;
      i += 1;
    }
  }
  const data = { x, y, count, featureShape: exampleShape(format), numClasses: format.classes };
  const described = `${describeInputFormat(format)}: ${count} examples from ${count} images in ${folders.length} class folders, scaled to ${format.width} x ${format.height}`;
  return { data, description: described };
}
