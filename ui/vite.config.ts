import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The app's CSP forbids inline scripts and styles: Svelte's CSS is emitted as a file.
// Two entries: index.html, the desktop app (Tauri), and web.html, the web surface the
// hosted service serves to browsers.
export default defineConfig({
  plugins: [svelte({ compilerOptions: { css: "external" } })],
  clearScreen: false,
  build: {
    target: "safari15",
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        web: fileURLToPath(new URL("web.html", import.meta.url)),
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
