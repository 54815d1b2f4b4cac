// Modules the Vite build makes (vite.config.mts); their makers are in build/.

declare module 'virtual:manifest-examples' {
  /** shipwreck.toml per language, as `kraken init` writes it (build/manifest-examples.mts). */
  const examples: readonly { key: string; label: string; toml: string }[];
  export default examples;
}
