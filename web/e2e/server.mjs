// Starts a real Ariadne server for the end-to-end tests: `ariadne demo`
// (the server plus the sample shop's traffic over OTLP/gRPC) on free ports
// with a temporary data directory.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "../..");
export const BIN = process.env.ARIADNE_BIN ?? join(REPO, "bin/ariadne");

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/**
 * Starts `ariadne demo` and resolves once its history is loaded.
 * opts: backfill (Go duration), rate (orders/s).
 */
export async function startDemo({ backfill = "3m", rate = 3, timeoutMs = 180_000 } = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build it with go build -o bin/ariadne ./cmd/ariadne`);
  const dataDir = mkdtempSync(join(tmpdir(), "ariadne-e2e-"));
  const [http, grpc, otlpHttp] = [await freePort(), await freePort(), await freePort()];
  const args = [
    "demo",
    "--app", "synthetic",
    "--data-dir", dataDir,
    "--http-addr", `127.0.0.1:${http}`,
    "--otlp-grpc-addr", `127.0.0.1:${grpc}`,
    "--otlp-http-addr", `127.0.0.1:${otlpHttp}`,
    "--backfill", backfill,
    "--rate", String(rate),
  ];
  const child = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise((res) => child.once("exit", (code, sig) => res({ code, sig })));
  const started = Date.now();
  try {
    for (;;) {
      if (out.includes("Ariadne is running")) break;
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 200))]);
      if (done) throw new Error(`ariadne demo exited (${JSON.stringify(done)}):\n${out}`);
      if (Date.now() - started > timeoutMs) throw new Error(`ariadne demo did not start in ${timeoutMs} ms:\n${out}`);
    }
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    base: `http://127.0.0.1:${http}`,
    otlpHttp: `http://127.0.0.1:${otlpHttp}`,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
