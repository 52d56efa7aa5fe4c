#!/usr/bin/env node
// The job owner's CLI. Runs the TypeScript through tsx's loader, so the workspace needs no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/owner-cli/main.ts");
