import { Lang } from './lang.js';

/**
 * Marker files in priority order. Language files win over a Dockerfile: many repositories keep a
 * Dockerfile for other uses, and Kraken's templates build from local base images, while a custom
 * Dockerfile may need a registry the cluster cannot reach. `index.html` alone means a static site.
 */
const MARKERS: readonly (readonly [Lang, readonly string[]])[] = [
  [Lang.Node, ['package.json']],
  [Lang.Python3, ['requirements.txt', 'pyproject.toml', 'pipfile', 'setup.py', 'app.py']],
  [Lang.Custom, ['dockerfile']],
  [Lang.Static, ['index.html', 'index.htm']],
];

/** Guesses the manifest `lang` from a repository's top-level file names, for `kraken init`. */
export function detectLang(files: readonly string[]): Lang | undefined {
  // Case-insensitive because repositories made on macOS and Windows vary (`dockerfile`, `Index.html`).
  const names = new Set(files.filter((file) => !file.replace(/\/+$/, '').includes('/')).map((file) => file.toLowerCase()));
  return MARKERS.find(([, markers]) => markers.some((marker) => names.has(marker)))?.[0];
}
