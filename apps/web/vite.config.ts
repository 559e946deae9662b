import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The node serves dist/ at `/` (apps/server/src/http/web-app.ts). `npm run dev -w @vytis/web`
// proxies the API to a node on 127.0.0.1:8080.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No data: URIs for fonts or images: everything is a file the node serves.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
