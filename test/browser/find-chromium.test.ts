import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PropiusError } from "@propius/shared";
import { locateChromium } from "../../scripts/lib/find-chromium.js";

describe("finding the Chromium the browser tests drive", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "propius-find-chromium-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("takes CHROMIUM_PATH first and reports the version the binary prints", async () => {
    const fake = join(dir, "fake-chromium");
    await writeFile(fake, "#!/bin/sh\necho 'Chromium 999.0.1.2 built for a test'\n");
    await chmod(fake, 0o755);
    expect(await locateChromium({ CHROMIUM_PATH: fake })).toEqual({ path: fake, source: "CHROMIUM_PATH", version: "Chromium 999.0.1.2 built for a test" });
  });

  it("unpacks the Chromium shipped in @sparticuz/chromium when asked by the package's name, and it runs", async () => {
    const found = await locateChromium({ CHROMIUM_PATH: "@sparticuz/chromium" });
    expect(found.source).toBe("npm");
    const packageMajor = /^propius-npm-chromium-(\d+)\.\d+\.\d+\/chromium$/.exec(relative(tmpdir(), found.path))?.[1];
    expect(packageMajor, found.path).toBeDefined();
    // The version the binary itself printed: the package's major version is Chromium's.
    expect(found.version).toMatch(new RegExp(`^Chromium ${packageMajor}\\.\\d+\\.\\d+\\.\\d+$`));
  });

  it("refuses a CHROMIUM_PATH that does not run rather than quietly using another browser", async () => {
    const notExecutable = join(dir, "not-executable");
    await writeFile(notExecutable, "#!/bin/sh\necho Chromium 1\n");
    for (const path of [notExecutable, join(dir, "missing")]) {
      const error = await locateChromium({ CHROMIUM_PATH: path }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PropiusError);
      expect((error as PropiusError).code).toBe("not_configured");
      expect((error as PropiusError).message).toContain(`CHROMIUM_PATH=${path} is not a Chromium that runs`);
    }
  });
});
