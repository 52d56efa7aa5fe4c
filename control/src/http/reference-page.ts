/**
 * The API reference as one HTML page, rendered from the OpenAPI document: no script, no asset
 * from elsewhere, so it reads the same offline, on `wrangler dev` and on a phone.
 */

interface Schema { $ref?: string; type?: string | string[]; [key: string]: unknown }
interface Parameter { name: string; in: string; required?: boolean; description?: string; schema?: Schema }
interface MediaTypes { [type: string]: { schema?: Schema } }
interface Operation {
  summary?: string; description?: string; tags?: string[]; security?: Record<string, string[]>[];
  parameters?: Parameter[]; requestBody?: { description?: string; content?: MediaTypes };
  responses?: Record<string, { description?: string; content?: MediaTypes }>;
}
export interface ApiDocument {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, { description?: string }> };
}

const escape = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** Backticks as code, the rest escaped: the document's descriptions are short Markdown. */
const prose = (text = "") => escape(text).replace(/`([^`]+)`/g, "<code>$1</code>");
const anchor = (method: string, path: string) => `${method}-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;

function schemaName(schema: Schema | undefined): string {
  if (!schema) return "";
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop() ?? "";
    return `<a href="#schema-${escape(name)}">${escape(name)}</a>`;
  }
  if (schema.type === "array" && schema.items) return `${schemaName(schema.items as Schema)}[]`;
  return escape([schema.type ?? "object"].flat().join(" | ") + (typeof schema.format === "string" ? ` (${schema.format})` : ""));
}

function content(types: MediaTypes | undefined): string {
  if (!types) return "";
  return Object.entries(types).map(([type, { schema }]) => {
    const inline = schema && !schema.$ref && schema.type === "object" && schema.properties ? `<details><summary>schema</summary><pre>${escape(JSON.stringify(schema, null, 2))}</pre></details>` : "";
    return `<div class="media"><code>${escape(type)}</code> ${schemaName(schema)}${inline}</div>`;
  }).join("");
}

function operation(method: string, path: string, op: Operation): string {
  const security = (op.security ?? []).flatMap((s) => Object.keys(s));
  const parameters = op.parameters?.length
    ? `<table><tr><th>parameter</th><th>in</th><th>schema</th><th></th></tr>${op.parameters.map((p) =>
        `<tr><td><code>${escape(p.name)}</code>${p.required ? " *" : ""}</td><td>${escape(p.in)}</td><td>${schemaName(p.schema)}${typeof p.schema?.pattern === "string" ? ` <code>${escape(p.schema.pattern)}</code>` : ""}</td><td>${prose(p.description)}</td></tr>`).join("")}</table>`
    : "";
  const body = op.requestBody ? `<h4>Body</h4><p>${prose(op.requestBody.description)}</p>${content(op.requestBody.content)}` : "";
  const responses = Object.entries(op.responses ?? {}).map(([status, r]) => `<tr><td class="status s${status[0]}">${escape(status)}</td><td>${prose(r.description)}${content(r.content)}</td></tr>`).join("");
  return `<section class="op" id="${anchor(method, path)}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
<p><strong>${prose(op.summary)}</strong>${security.length ? ` <span class="auth">${security.map(escape).join(" or ")}</span>` : ""}</p>
${op.description ? `<p>${prose(op.description)}</p>` : ""}${parameters}${body}
<h4>Answers</h4><table>${responses}</table></section>`;
}

/** The page: operations by tag, then the named schemas and the credentials. */
export function referencePage(document: ApiDocument): string {
  const byTag = new Map<string, [string, string, Operation][]>();
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const tag = op.tags?.[0] ?? "other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), [method, path, op]]);
    }
  }
  const toc = [...byTag].map(([tag, ops]) => `<li>${escape(tag)}<ul>${ops.map(([m, p, op]) => `<li><a href="#${anchor(m, p)}"><span class="method ${m}">${m.toUpperCase()}</span> ${escape(p)}</a> ${prose(op.summary)}</li>`).join("")}</ul></li>`).join("");
  const sections = [...byTag].map(([tag, ops]) => `<h2>${escape(tag)}</h2>${ops.map(([m, p, op]) => operation(m, p, op)).join("")}`).join("");
  const schemas = Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => `<details id="schema-${escape(name)}"><summary><code>${escape(name)}</code></summary><pre>${escape(JSON.stringify(schema, null, 2))}</pre></details>`).join("");
  const credentials = Object.entries(document.components?.securitySchemes ?? {}).map(([name, s]) => `<li><code>${escape(name)}</code>: ${prose(s.description)} Sent as <code>Authorization: Bearer &lt;key&gt;</code>.</li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(document.info.title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1d2433}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f6fa;padding:.6rem;overflow-x:auto;border-radius:4px}
table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}td,th{border-bottom:1px solid #e3e7ef;padding:.3rem .5rem;text-align:left;vertical-align:top}
.op{border:1px solid #e3e7ef;border-radius:6px;padding:.2rem 1rem .8rem;margin:1rem 0}.op h3{overflow-wrap:anywhere}
.method{display:inline-block;min-width:3.6rem;text-align:center;border-radius:3px;color:#fff;font:600 12px ui-monospace,monospace;padding:.1rem .3rem}
.get{background:#2f6fdb}.post{background:#1f9d55}.put{background:#b7791f}.patch{background:#805ad5}.delete{background:#c53030}
.status{font-weight:600}.s2{color:#1f9d55}.s3{color:#2f6fdb}.s4{color:#b7791f}.s5{color:#c53030}.auth{color:#5a6478;font-size:13px}
.media{margin:.2rem 0}ul{padding-left:1.2rem}
</style></head><body>
<h1>${escape(document.info.title)} <small>${escape(document.info.version)}</small></h1>
<p>${prose(document.info.description)} The machine-readable document is <a href="/v1/openapi.json"><code>/v1/openapi.json</code></a>.</p>
<h2>Credentials</h2><ul>${credentials}</ul>
<h2>Routes</h2><ul>${toc}</ul>
${sections}
<h2>Schemas</h2>${schemas}
</body></html>`;
}
