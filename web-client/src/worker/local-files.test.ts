import { describe, expect, it } from "vitest";
import { labelFromName, loadFiles } from "./local-files.js";

const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;

describe("local files", () => {
  it("reads an image's label from the start of its name", () => {
    expect(labelFromName("7.png", 10)).toBe(7);
    expect(labelFromName("digits/3_014.png", 10)).toBe(3);
    expect(() => labelFromName("seven.png", 10)).toThrow(/must start with its label/);
    expect(() => labelFromName("12_a.png", 10)).toThrow(/must start with its label \(0..9\)/);
  });

  it("reads CSV files at the job's input size", async () => {
    const row = (label: number) => [label, ...Array(4).fill(0.5)].join(",");
    const { data, summary } = await loadFiles([{ name: "a.csv", type: "text/csv", bytes: bytes(`label,p0,p1,p2,p3\n${row(1)}\n${row(2)}\n`) }], { features: 4, classes: 3 });
    expect(data.count).toBe(2);
    expect(summary).toMatchObject({ source: "files", examples: 2, features: 4, classes: 3 });
    await expect(loadFiles([{ name: "a.csv", type: "", bytes: bytes(row(1)) }], { features: 784, classes: 3 })).rejects.toThrow(/the job expects 784/);
    await expect(loadFiles([], { features: 4, classes: 3 })).rejects.toThrow("no files given");
  });
});
