import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { validate } from "@readme/openapi-parser";
import { createApp } from "../app.js";

type Document = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>; components: { schemas: Record<string, unknown> } };

async function openapiDocument(): Promise<Document> {
  const response = await SELF.fetch("http://control/v1/openapi.json");
  expect(response.status).toBe(200);
  return response.json();
}

describe("GET /v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const document = await openapiDocument();
    expect(document.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it("declares every route the app serves, by method and path", async () => {
    const document = await openapiDocument();
    const served = new Set(createApp().routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${r.path.replaceAll(/:([^/]+)/g, "{$1}")}`));
    const declared = new Set(Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`)));
    expect([...served].filter((route) => !declared.has(route))).toEqual([]);
    expect([...declared].filter((route) => !served.has(route))).toEqual([]);
    expect(served.size).toBeGreaterThan(20);
  });

  it("names the schemas of job owners' answers and every route's error codes", async () => {
    const document = await openapiDocument();
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(["JobSpec", "JobStatus", "RoundRecord", "CheckInReply", "Error"]));
    const create = document.paths["/v1/jobs"].post;
    expect(create.security).toEqual([{ apiKey: [] }]);
    expect(create.responses).toMatchObject({ 201: expect.anything(), 400: { description: expect.stringContaining("`validation_failed`") }, 401: expect.anything() });
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) expect(Object.keys(operation.responses).length, `${method} ${path}`).toBeGreaterThan(0);
    }
  });
});

describe("GET /v1/reference", () => {
  it("is a page that reads the document", async () => {
    const response = await SELF.fetch("http://control/v1/reference");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const page = await response.text();
    expect(page).toContain('href="/v1/openapi.json"');
    // Every operation has its section, with its answers' codes.
    for (const [path, operations] of Object.entries((await openapiDocument()).paths)) {
      for (const method of Object.keys(operations)) expect(page).toContain(`<span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code>`);
    }
    expect(page).toContain("<code>job_not_found</code>");
    expect(page).not.toMatch(/<script/i);
  });
});
