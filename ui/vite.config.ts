import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The app's CSP forbids inline scripts and styles: Svelte's CSS is emitted as a file.
export default defineConfig({
  plugins: [svelte({ compilerOptions: { css: "external" } })],
  clearScreen: false,
  build: {
    target: "safari15",
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
