import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Request, Response, NextFunction, Router } from 'express';

export interface UiMiddlewareOptions {
  /** Folder holding the built bundle (index.html + assets/); defaults to this package's `public/`. */
  root?: string;
}

/** Vite names files under assets/ by content hash, so a URL never changes meaning. */
const immutable = 'public, max-age=31536000, immutable';
/** index.html names the current hashes: browsers must revalidate it every time. */
const revalidate = 'no-cache';

/**
 * `<package>/public`: this file is `src/ui-middleware.ts` in the repository and
 * `dist/ui-middleware.js` when published, both one level below the package root.
 */
export function defaultUiRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'public');
}

/**
 * Serves the built UI: files from `root` with caching headers, and index.html for client routes
 * (any GET that accepts HTML and names no file), so a reload on /deployments/x works.
 * Mount it after the API routes; it only answers GET and HEAD.
 */
export function uiMiddleware(options: UiMiddlewareOptions = {}): Router {
  const root = path.resolve(options.root ?? defaultUiRoot());
  const indexFile = path.join(root, 'index.html');
  const router = express.Router();
  // the original Kraken API answered / with a redirect to /index.html; its clients expect that
  router.get('/', (_req, res) => {
    res.redirect(302, '/index.html');
  });
  router.use(
    express.static(root, {
      index: false,
      redirect: false,
      setHeaders: (res, file) => {
        const relative = path.relative(root, file).split(path.sep);
        res.setHeader('cache-control', relative[0] === 'assets' ? immutable : revalidate);
      },
    }),
  );
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!isClientRoute(req)) {
      next();
      return;
    }
    // Checked per request: a bundle built after start is picked up without a restart.
    if (!fs.existsSync(indexFile)) {
      res.status(503).setHeader('cache-control', 'no-store').type('html').send(missingBundlePage(root));
      return;
    }
    res.setHeader('cache-control', revalidate);
    res.sendFile(indexFile);
  });
  return router;
}

/** A page navigation, not an API call or a missing asset (those should get the real 404). */
function isClientRoute(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (req.path.startsWith('/graphql') || req.path.startsWith('/api/')) return false;
  if (path.posix.extname(req.path) !== '' && req.path !== '/index.html') return false;
  return req.accepts('html') === 'html';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}

function missingBundlePage(root: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kraken UI not built</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>Kraken UI not built</h1>
<p>The UI bundle was not found in <code>${escapeHtml(root)}</code> (no <code>index.html</code>).</p>
<p>Build it with <code>npx nx build ui-host</code> (builds <code>apps/ui</code> and copies its <code>dist</code> here),
or pass the folder of a built bundle as <code>root</code> / <code>--root</code>.</p>
<p>The API itself works: <code>/graphql</code> and the <code>kraken</code> CLI are not affected.</p>
</body></html>`;
}
