// Public surface of @kraken/shipwreck: the app manifest (shipwreck.toml) parser, validator and
// `kraken init` template generator. Every export is listed by name.
export { Lang, LANGS } from './lang.js';
export { MANIFEST_FILE, MAX_MANIFEST_BYTES } from './manifest.js';
export type { Manifest, AppSection, ConfigSection, Limits } from './manifest.js';
export { ManifestError, formatProblem } from './manifest-error.js';
export type { ManifestProblem } from './manifest-error.js';
export { parseManifest, safeParseManifest } from './parse.js';
export type { ParseManifestOptions } from './parse.js';
export { readManifest } from './read.js';
export { renderManifest, DEFAULT_VERSION } from './template.js';
export type { ManifestTemplateInput } from './template.js';
export { defaultsFor } from './defaults.js';
export type { LangDefaults } from './defaults.js';
export { detectLang } from './detect.js';
