import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Builds the UI over the fake backend for the browser tests (browser-test/*.test.mjs).
export default defineConfig({
  plugins: [svelte({ compilerOptions: { css: "external" } })],
  root: "browser-test",
  base: "./",
  build: { outDir: "../dist-browser-test", emptyOutDir: true, target: "es2022" },
  logLevel: "warn",
});
