import type { Lang } from './lang.js';

/** The manifest's file name, at the root of an app's repository. */
export const MANIFEST_FILE = 'shipwreck.toml';

/** Larger files are refused unparsed: a manifest is a few hundred bytes, a huge one is a mistake or an attack. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

/** A validated, normalised shipwreck.toml. */
export interface Manifest {
  readonly app: AppSection;
  readonly config: ConfigSection;
}

export interface AppSection {
  /** Lowercased DNS label (1..63 of a-z, 0-9, '-'); part of container and image names. */
  readonly name: string;
  /** Free-form; a TOML number is kept as written (`1.0` -> "1.0"). */
  readonly version: string;
  readonly author?: string;
  /** Path of the app's main page, starting with "/". @default "/" */
  readonly endpoint: string;
}

export interface ConfigSection {
  readonly lang: Lang;
  /**
   * Port the app listens on inside its container. Unset means the app listens on no port (a worker
   * or job) and nothing is published; `static` defaults to 80 (Kraken's file server).
   */
  readonly port?: number;
  /** Command that starts the app; for `static` and `custom` it overrides the image's own command. */
  readonly run?: string;
  /** Command run in the built image before deploying; unset means no test step. */
  readonly test?: string;
  /** `[config.env]` and the original Kraken's `[env-vars]`, merged; values are strings. */
  readonly env: Readonly<Record<string, string>>;
  readonly limits: Limits;
  /** `static` only: folder served, relative to the repository root. @default "." */
  readonly root?: string;
  /** `custom` only: Dockerfile to build, relative to the repository root. @default "Dockerfile" */
  readonly dockerfile?: string;
}

export interface Limits {
  readonly memoryMb?: number;
  readonly cpus?: number;
}
