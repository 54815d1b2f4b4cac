// The Getting started page's example manifests, made at build time by the same template as
// `kraken init` (renderManifest of @kraken/shipwreck), so the page cannot drift from what the
// command writes and what the parser accepts. The bundle gets the text only, not the parser.
import { Lang, renderManifest } from '@kraken/shipwreck';
import type { Plugin } from 'vite';

interface ManifestExample {
  key: string;
  label: string;
  toml: string;
}

const examples: readonly { key: string; label: string; lang: Lang; name: string }[] = [
  { key: 'node', label: 'Node.js', lang: Lang.Node, name: 'hello' },
  { key: 'python', label: 'Python', lang: Lang.Python3, name: 'hello' },
  { key: 'static', label: 'Static', lang: Lang.Static, name: 'site' },
  { key: 'custom', label: 'Dockerfile', lang: Lang.Custom, name: 'hello' },
];

function manifestExamples(): ManifestExample[] {
  return examples.map(({ key, label, lang, name }) => ({ key, label, toml: renderManifest({ lang, name }) }));
}

const id = 'virtual:manifest-examples';
// the \0 prefix is Rollup's convention: no other plugin tries to load the module from disk
const resolved = `\0${id}`;

/** Serves `import examples from 'virtual:manifest-examples'` (declared in src/virtual-modules.d.ts). */
export function manifestExamplesPlugin(): Plugin {
  return {
    name: 'kraken-manifest-examples',
    resolveId: (source) => (source === id ? resolved : undefined),
    load: (module) => (module === resolved ? `export default ${JSON.stringify(manifestExamples())};` : undefined),
  };
}
