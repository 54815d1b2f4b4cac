import { Lang } from './lang.js';

/** What `kraken init` writes for a language, and what the validator fills in where a default exists. */
export interface LangDefaults {
  readonly port: number;
  readonly run?: string;
  readonly test?: string;
  /** `static`: the folder served. */
  readonly root?: string;
  /** `custom`: the Dockerfile built. */
  readonly dockerfile?: string;
}

const DEFAULTS: Readonly<Record<Lang, LangDefaults>> = {
  [Lang.Node]: { port: 3000, run: 'npm start', test: 'npm test' },
  [Lang.Python3]: { port: 8000, run: 'python3 app.py' },
  // Kraken's own file server listens on 80 inside the container.
  [Lang.Static]: { port: 80, root: '.' },
  [Lang.Custom]: { port: 8080, dockerfile: 'Dockerfile' },
};

/** The template defaults for `lang` (a fresh copy, safe to modify). */
export function defaultsFor(lang: Lang): LangDefaults {
  return { ...DEFAULTS[lang] };
}
