import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The example platform page: examples/embed -> dist/examples/embed, served by server.mjs.
// It imports the built package (dist/embed) by its published name, as a platform's app would.
const built = (file: string) => fileURLToPath(new URL(`../../dist/embed/${file}`, import.meta.url));

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  resolve: {
    alias: [
      { find: 'amisi-credits/embed/style.css', replacement: built('amisi-embed.css') },
      { find: 'amisi-credits/embed', replacement: built('amisi-embed.js') },
    ],
  },
  build: {
    outDir: '../../dist/examples/embed',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    assetsInlineLimit: 0,
  },
});
