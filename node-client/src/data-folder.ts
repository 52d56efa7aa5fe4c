import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describeInputFormat, type InputFormat } from "@propius/shared";
import { ConvertedExamples, countCsvExamples, csvExamplesOf, type Converted, type CsvFile } from "@propius/edge-runtime/training";
import { imageFolderExamples, type ClassFolder } from "./image-folder.js";

const IMAGE = /\.(png|jpe?g)$/i;
const CSV = /\.csv$/i;
const LAYOUT = "<folder>/<class>/*.png|*.jpg|*.jpeg (one folder per class) or <folder>/*.csv (label,feature1,feature2,...)";
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A device's data folder: its files as given, turned into each job's examples when its task arrives. */
export class DataFolder extends ConvertedExamples {
  private constructor(
    count: number,
    dir: string,
    convert: (format: InputFormat) => Promise<Converted>,
    /** What the folder holds, for people: `2 class folders (cat, dog), 40 images`. */
    readonly summary: string,
  ) {
    super(count, `the data in ${dir}`, convert);
  }

  /**
   * Reads a data folder's layout (not yet its images: each job's format says how to read them):
   * `<dir>/<class>/*.png|*.jpg|*.jpeg`, one sub-folder per class, or `*.csv` files, one example
   * per line. Throws, naming the folder and the fix, for any other layout.
   */
  static async open(dir: string): Promise<DataFolder> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read the data folder ${dir} (${error.code ?? error.message}): give ${LAYOUT}`);
    });
    const visible = entries.filter((e) => !e.name.startsWith(".")).sort((a, b) => (a.name < b.name ? -1 : 1));
    const csv = visible.filter((e) => e.isFile() && CSV.test(e.name)).map((e) => e.name);
    const folders = await classFolders(dir, visible.filter((e) => e.isDirectory()).map((e) => e.name));
    const loose = visible.filter((e) => e.isFile() && IMAGE.test(e.name)).map((e) => e.name);
    if (csv.length > 0 && (folders.some((f) => f.images.length > 0) || loose.length > 0)) throw new Error(`${dir} holds both *.csv files and images: give either, as ${LAYOUT}`);
    if (csv.length > 0) return DataFolder.csv(dir, csv);
    if (loose.length > 0) throw new Error(`${join(dir, loose[0])}: an image directly in the data folder has no class: put it in the folder of its class (${join(dir, "<class>", loose[0])})`);
    if (folders.length === 0) throw new Error(`${dir} holds no *.csv files and no class folders: give ${LAYOUT}`);
    const empty = folders.find((f) => f.images.length === 0);
    if (empty) throw new Error(`${join(dir, empty.name)} holds no .png, .jpg or .jpeg images: put the images of class '${empty.name}' in it, or remove the folder`);
    const count = folders.reduce((n, f) => n + f.images.length, 0);
    const summary = `${plural(folders.length, "class folder")} (${folders.map((f) => f.name).join(", ")}), ${plural(count, "image")}`;
    return new DataFolder(count, dir, (format) => imageFolderExamples(dir, folders, format), summary);
  }

  private static async csv(dir: string, names: string[]): Promise<DataFolder> {
    const files: CsvFile[] = await Promise.all(names.map(async (name) => ({ name: join(dir, name), text: await readFile(join(dir, name), "utf8") })));
    const count = countCsvExamples(files);
    if (count === 0) throw new Error(`the CSV files in ${dir} (${names.join(", ")}) hold no examples`);
    const convert = async (format: InputFormat): Promise<Converted> => {
      const data = csvExamplesOf(files, format);
      return { data, description: `${describeInputFormat(format)}: ${data.count} examples from ${plural(files.length, "CSV file")}` };
    };
    return new DataFolder(count, dir, convert, `${plural(names.length, "CSV file")}, ${plural(count, "example")}`);
  }
}

/** The image files in each sub-folder, sorted; dot-files and other files are left out. */
async function classFolders(dir: string, names: string[]): Promise<ClassFolder[]> {
  return Promise.all(
    names.map(async (name) => {
      const inside = await readdir(join(dir, name), { withFileTypes: true });
      const images = inside.filter((e) => e.isFile() && !e.name.startsWith(".") && IMAGE.test(e.name)).map((e) => e.name).sort();
      return { name, images };
    }),
  );
}
