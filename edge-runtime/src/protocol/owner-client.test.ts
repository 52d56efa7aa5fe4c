import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { PropiusError } from "@propius/shared";
import { OwnerClient } from "./owner-client.js";
import { UnreachableError } from "./unreachable-error.js";

/**
 * The SDK's edges: what it sends and how it reports what comes back, against a loopback server
 * standing in for the control plane. The real routes answer it in test/integration/owner-cli.test.ts.
 */

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function serve(answer: (seen: Seen, response: ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const entry = { method: request.method!, url: request.url!, authorization: request.headers.authorization, body };
      seen.push(entry);
      answer(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json = (response: ServerResponse, status: number, body: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

describe("OwnerClient", () => {
  it("changes a job's demand with PATCH /v1/jobs/:id and the tenant's key", async () => {
    const server = await serve((_seen, response) => json(response, 200, { id: "job_abcdefgh", state: "running" }));
    const client = new OwnerClient({ baseUrl: `${server.url}/`, apiKey: "pk_test" });
    expect(await client.setDemand("job_abcdefgh", 5)).toMatchObject({ id: "job_abcdefgh" });
    expect(server.seen).toEqual([{ method: "PATCH", url: "/v1/jobs/job_abcdefgh", authorization: "Bearer pk_test", body: '{"clientsPerRound":5}' }]);
  });

  it("asks for a job's devices with the limit given, and without one by default", async () => {
    const server = await serve((_seen, response) => json(response, 200, { devices: [] }));
    const client = new OwnerClient({ baseUrl: server.url, apiKey: "pk_test" });
    expect(await client.devices("job_abcdefgh", { limit: 5 })).toEqual({ devices: [] });
    await client.devices("job_abcdefgh");
    expect(server.seen.map((s) => [s.method, s.url, s.authorization])).toEqual([
      ["GET", "/v1/jobs/job_abcdefgh/devices?limit=5", "Bearer pk_test"],
      ["GET", "/v1/jobs/job_abcdefgh/devices", "Bearer pk_test"],
    ]);
  });

  it("throws an error answer as a PropiusError with its code, message, details and HTTP status", async () => {
    const server = await serve((_seen, response) => json(response, 409, { error: { code: "job_not_running", message: "the job has ended", details: { state: "done" } } }));
    const error = await new OwnerClient({ baseUrl: server.url, apiKey: "pk_test" }).cancel("job_abcdefgh").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PropiusError);
    expect(error).toMatchObject({ code: "job_not_running", message: "the job has ended", details: { state: "done" }, status: 409 });
  });

  it("gives an error page without a Propius body the code of its status", async () => {
    const server = await serve((_seen, response) => response.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>"));
    const error = await new OwnerClient({ baseUrl: server.url, apiKey: "pk_test" }).jobs().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "not_found", status: 404, message: "HTTP 404: <h1>Not Found</h1>" });
  });

  it("reads a model's weights by the hash its model.json names, and points the manifest at weights.bin", async () => {
    const hash = "a".repeat(64);
    const server = await serve((seen, response) => {
      if (seen.url.startsWith("/v1/jobs/job_abcdefgh/model/model.json")) {
        json(response, 200, { format: "layers-model", generatedBy: "propius-edge", modelTopology: {}, weightsManifest: [{ paths: [`weights.bin?hash=${hash}`], weights: [{ name: "w", shape: [2], dtype: "float32" }] }], propius: { version: 3, hash } });
      } else {
        response.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.from(new Float32Array([1.5, -2]).buffer));
      }
    });
    const { modelJson, weights } = await new OwnerClient({ baseUrl: server.url, apiKey: "pk_test" }).model("job_abcdefgh");
    expect(server.seen.map((s) => s.url)).toEqual(["/v1/jobs/job_abcdefgh/model/model.json", `/v1/jobs/job_abcdefgh/model/weights.bin?hash=${hash}`]);
    expect(modelJson.weightsManifest).toEqual([{ paths: ["weights.bin"], weights: [{ name: "w", shape: [2], dtype: "float32" }] }]);
    expect([...weights]).toEqual([1.5, -2]);
  });

  it("refuses initial weights of another size than the spec's before sending them", async () => {
    const server = await serve((_seen, response) => json(response, 200, {}));
    const client = new OwnerClient({ baseUrl: server.url, apiKey: "pk_test" });
    const spec = { model: { weightSpecs: [{ name: "w", shape: [2, 3], dtype: "float32" as const }] } };
    await expect(client.setInitialModel("job_abcdefgh", spec, new Float32Array(5))).rejects.toThrow("the weights hold 5 values, but the model's weightSpecs 6");
    expect(server.seen).toEqual([]);
  });

  it("names the URL it could not reach in an UnreachableError", async () => {
    const { url } = await serve(() => undefined);
    await close!();
    close = undefined;
    const error = await new OwnerClient({ baseUrl: url, apiKey: "pk_test", attempts: 1 }).status("job_abcdefgh").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error).toMatchObject({ url: `${url}/v1/jobs/job_abcdefgh`, attempts: 1 });
    expect((error as Error).message).toBe(`could not reach the control plane at ${url}/v1/jobs/job_abcdefgh (connection refused: is the control plane running at that address?; 1 attempt)`);
  });
});
