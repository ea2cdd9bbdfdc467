import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The build lands in the Go package that embeds it (internal/api/ui), so
// `go build` on a fresh clone needs no npm. `npm run dev` proxies the API to
// a running `ariadne serve` (ARIADNE_SERVER, default the standard UI port).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../internal/api/ui/dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": process.env.ARIADNE_SERVER ?? "http://127.0.0.1:7070",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
