import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Marks the stand-in page; a real build never contains it. */
export const PLACEHOLDER_MARK = '<meta name="propius-page" content="placeholder">';

/** What the control plane serves at `/` until the contribute page is built. */
export const PLACEHOLDER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${PLACEHOLDER_MARK}
<title>Propius Edge: contribute page not built</title>
</head>
<body>
<h1>The contribute page is not built yet</h1>
<p>The control plane runs, and its API answers under <code>/v1/</code>; the page itself is built
with Vite (about ten seconds on a quiet machine):</p>
<pre>npm run build:web</pre>
<p>A running <code>npm start</code> or <code>wrangler dev</code> serves the page once the build
ends: reload this tab then. <code>npm start -- --tabs 1</code> or <code>--open</code> builds it
by itself.</p>
</body>
</html>
`;

/** Whether `dir` holds the stand-in page rather than a build (a missing page counts as no build either). */
export async function holdsPlaceholder(dir: string): Promise<boolean> {
  const html = await readFile(join(dir, "index.html"), "utf8").catch(() => undefined);
  return html === undefined || html.includes(PLACEHOLDER_MARK);
}

/**
 * Makes sure the assets folder of wrangler.toml exists (wrangler dev refuses to start without it)
 * and has an index.html: a built page is left as it is, otherwise the stand-in is written, which
 * says how to build the page. Written under a temporary name and linked into place, which never
 * replaces a file: launchers starting side by side never see half a file, and a page that a build
 * writes meanwhile is kept.
 * @returns whether the folder holds a built page
 */
export async function ensurePageFolder(dir: string): Promise<"built" | "placeholder"> {
  await mkdir(dir, { recursive: true });
  const index = join(dir, "index.html");
  if (existsSync(index)) return (await holdsPlaceholder(dir)) ? "placeholder" : "built";
  const temporary = `${index}.${randomUUID()}.tmp`;
  await writeFile(temporary, PLACEHOLDER_HTML);
  try {
    await link(temporary, index);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return (await holdsPlaceholder(dir)) ? "placeholder" : "built";
  } finally {
    await unlink(temporary);
  }
  return "placeholder";
}
