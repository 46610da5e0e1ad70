import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run build:dashboard` (run by `npm ci`) writes dist/, which the server serves on --http-port.
// `npx vite packages/dashboard` serves it with hot reload; calls go to a server on 8080 (PONY_DASHBOARD_API).
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: {
      "/littlehorse.LittleHorse": process.env.PONY_DASHBOARD_API ?? "http://localhost:8080",
      "/healthz": process.env.PONY_DASHBOARD_API ?? "http://localhost:8080",
    },
  },
});
