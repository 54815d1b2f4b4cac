/** The build templates Kraken knows; `custom` builds the repository's own Dockerfile. */
export const Lang = {
  Node: 'node',
  Python3: 'python3',
  Static: 'static',
  Custom: 'custom',
} as const;
export type Lang = (typeof Lang)[keyof typeof Lang];

export const LANGS: readonly Lang[] = Object.values(Lang);

/** Other spellings accepted in `config.lang`, mapped to the canonical value. */
const ALIASES: Readonly<Record<string, Lang>> = { python: Lang.Python3 };

/** How the allowed values read in error messages and docs. */
export const LANG_CHOICES = 'node, python3 (alias python), static, custom';

/** The canonical Lang for a manifest's `lang` value (case and surrounding space ignored), if supported. */
export function normaliseLang(value: string): Lang | undefined {
  const key = value.trim().toLowerCase();
  return (LANGS as readonly string[]).includes(key) ? (key as Lang) : ALIASES[key];
}
