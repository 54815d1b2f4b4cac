import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { manifestExamplesPlugin } from './build/manifest-examples.mjs';

/** Largest chunk allowed, in kB (minified): the build warns above it and the browser test fails. */
export const maxChunkKb = 300;

// Absolute base: the SPA has nested client routes (/deployments/<id>) that must still find /assets.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react(), manifestExamplesPlugin()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: maxChunkKb,
    rolldownOptions: {
      output: {
        // Pages are lazy (app.tsx), so antd's components split along the pages that use them.
        // React and the icons change rarely and every page needs them: their own cacheable chunks.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/, priority: 2 },
            { name: 'icons', test: /node_modules[\\/]@ant-design[\\/]icons(-svg)?[\\/]/, priority: 2 },
          ],
        },
      },
    },
  },
  server: {
    proxy: { '/graphql': { target: process.env['KRAKEN_API'] ?? 'http://127.0.0.1:4000', ws: true } },
  },
});
