import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard's build: web/ -> dist/web, served by `amisi serve` (src/http/dashboard.ts).
// Hashed names under assets/ are cached for a year; index.html never is.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything inline-free, so the strict Content-Security-Policy (self only) holds.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8787' } },
});
