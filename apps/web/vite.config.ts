import { defineConfig } from 'vite';

// `pnpm dev`: hot reload on :5173, with the API and WebSocket proxied to a
// running server (CHAT_SERVER, default http://127.0.0.1:8080).
const target = process.env.CHAT_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
  server: {
    proxy: {
      '/api': { target, changeOrigin: false },
      '/ws': { target: target.replace(/^http/, 'ws'), ws: true },
    },
  },
});
