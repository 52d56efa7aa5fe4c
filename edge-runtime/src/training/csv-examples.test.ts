import { describe, expect, it } from "vitest";
import { countCsvExamples, csvExamplesOf, parseCsvExamples } from "./csv-examples.js";

describe("parseCsvExamples", () => {
  it("reads label-first rows across files, skipping a header and blank lines", () => {
    const data = parseCsvExamples(
      [
        { name: "a.csv", text: "label,f1,f2\n1,0.5,0.25\n\n" },
        { name: "b.csv", text: "0,1,2\r\n2,3,4\r\n" },
      ],
      { numClasses: 3 },
    );
    expect(data.count).toBe(3);
    expect(data.featureShape).toEqual([2]);
    expect([...data.x]).toEqual([0.5, 0.25, 1, 2, 3, 4]);
    expect([...data.y]).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 1]);
  });

  it("takes the label from the column a header names 'label'", () => {
    const data = parseCsvExamples([{ name: "a.csv", text: "p0,p1,Label\n0.1,0.2,4\n" }], { numClasses: 10 });
    expect([...data.x]).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    expect(data.y.indexOf(1)).toBe(4);
  });

  it("takes the labels from the column the job names, and refuses a file without it", () => {
    const data = parseCsvExamples([{ name: "a.csv", text: "f1,Species,f2\n0.5,2,0.25\n" }], { numClasses: 3, labelColumn: "species" });
    expect([...data.x]).toEqual([0.5, 0.25]);
    expect([...data.y]).toEqual([0, 0, 1]);
    const refused = "b.csv: the job's labels are in a column named 'species', and this file's first line names no such column";
    expect(() => parseCsvExamples([{ name: "b.csv", text: "label,f1\n1,0.5\n" }], { numClasses: 3, labelColumn: "species" })).toThrow(refused);
    expect(() => parseCsvExamples([{ name: "b.csv", text: "1,0.5\n" }], { numClasses: 3, labelColumn: "species" })).toThrow(refused);
  });

  it("refuses bad cells, labels and row widths with the file and line", () => {
    expect(() => parseCsvExamples([{ name: "a.csv", text: "1,x\n" }], { numClasses: 3 })).toThrow("a.csv:1: every cell must be a number");
    expect(() => parseCsvExamples([{ name: "a.csv", text: "1,2\n7,3\n" }], { numClasses: 3 })).toThrow("a.csv:2: label 7 is not in 0..2");
    expect(() => parseCsvExamples([{ name: "a.csv", text: "1,2,3\n" }], { numClasses: 3, features: 784 })).toThrow("example 1 has 2 features; the job expects 784");
    expect(() => parseCsvExamples([{ name: "a.csv", text: "label,x\n" }], { numClasses: 3 })).toThrow(/hold no examples/);
  });
});

describe("CSV files in a job's format", () => {
  it("counts the examples before any format is known, leaving out headers and blank lines", () => {
    expect(countCsvExamples([{ name: "a.csv", text: "label,a\n1,2\n\n0,3\n" }, { name: "b.csv", text: "1,2\r\n" }])).toBe(3);
  });

  it("reads an image job's height x width x channels values per row, shaped as its examples", () => {
    const rgb = { kind: "image" as const, width: 2, height: 1, channels: 3, classes: 2 };
    const data = csvExamplesOf([{ name: "a.csv", text: "1,0,0,0,1,1,1\n" }], rgb);
    expect(data.featureShape).toEqual([1, 2, 3]);
    expect([...data.y]).toEqual([0, 1]);
    expect(() => csvExamplesOf([{ name: "a.csv", text: "1,0,0\n" }], rgb)).toThrow("example 1 has 2 features; the job expects 6");
  });

  it("takes a tabular job's labels from its label column, and a two-class job's classes from its format", () => {
    const table = { kind: "tabular" as const, features: 2, classes: 2, labelColumn: "y" };
    const data = csvExamplesOf([{ name: "t.csv", text: "a,y,b\n0.5,1,0.25\n0.1,0,0.2\n" }], table);
    expect([...data.x]).toEqual([0.5, 0.25, Math.fround(0.1), Math.fround(0.2)]);
    expect([...data.y]).toEqual([0, 1, 1, 0]);
    expect(() => csvExamplesOf([{ name: "t.csv", text: "a,y,b\n0.5,2,0.25\n" }], table)).toThrow("t.csv:2: label 2 is not in 0..1");
  });
});
