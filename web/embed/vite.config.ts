import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The embeddable components as a library: web/embed -> dist/embed/amisi-embed.js (an ES
// module; React stays the platform's own) and dist/embed/amisi-embed.css.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: '../../dist/embed',
    emptyOutDir: false,
    sourcemap: false,
    target: 'es2022',
    lib: {
      entry: 'index.ts',
      formats: ['es'],
      fileName: () => 'amisi-embed.js',
      cssFileName: 'amisi-embed',
    },
    rollupOptions: {
      external: ['react', 'react-dom', 'react/jsx-runtime', 'react-dom/client'],
    },
  },
});
