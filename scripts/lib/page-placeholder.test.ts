import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensurePageFolder, holdsPlaceholder, PLACEHOLDER_HTML } from "./page-placeholder.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "propius-page-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("the assets folder before the page is built", () => {
  it("is created with a stand-in page that says how to build the real one", async () => {
    const dir = join(root, "dist/web-client");
    expect(await ensurePageFolder(dir)).toBe("placeholder");
    const html = await readFile(join(dir, "index.html"), "utf8");
    expect(html).toContain("npm run build:web");
    expect(await holdsPlaceholder(dir)).toBe(true);
  });

  it("leaves a built page as it is", async () => {
    const built = "<!doctype html><title>Contribute</title>";
    await writeFile(join(root, "index.html"), built);
    expect(await ensurePageFolder(root)).toBe("built");
    expect(await readFile(join(root, "index.html"), "utf8")).toBe(built);
    expect(await holdsPlaceholder(root)).toBe(false);
  });

  it("gets the stand-in when a build left files but no index.html", async () => {
    await writeFile(join(root, "app.js"), "export {};");
    expect(await ensurePageFolder(root)).toBe("placeholder");
    expect(await readFile(join(root, "app.js"), "utf8")).toBe("export {};");
  });

  it("counts a folder without index.html as holding no build", async () => {
    expect(await holdsPlaceholder(root)).toBe(true);
  });

  it("ends with one whole page, and no leftovers, when launchers start side by side", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => ensurePageFolder(root)));
    expect(results.every((r) => r === "placeholder")).toBe(true);
    expect(await readFile(join(root, "index.html"), "utf8")).toBe(PLACEHOLDER_HTML);
    expect(await readdir(root)).toEqual(["index.html"]);
  });
});
