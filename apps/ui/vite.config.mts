import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Absolute base: the SPA has nested client routes (/deployments/<id>) that must still find /assets.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // antd is large; one vendor chunk keeps the app chunk small and separately cacheable
    chunkSizeWarningLimit: 2000,
    rolldownOptions: {
      output: {
        codeSplitting: { groups: [{ name: 'vendor', test: /node_modules/ }] },
      },
    },
  },
  server: {
    proxy: { '/graphql': { target: process.env['KRAKEN_API'] ?? 'http://127.0.0.1:4000', ws: true } },
  },
});
