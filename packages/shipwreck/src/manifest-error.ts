import { ErrorCode, KrakenError } from '@kraken/common';
import type { KrakenErrorOptions } from '@kraken/common';

/** One thing wrong with a manifest. */
export interface ManifestProblem {
  /** Dotted key path (`config.port`, `env-vars.API_KEY`); empty for the file as a whole (syntax, size). */
  readonly field: string;
  /** 1-based line in the file, when the problem can be pinned to one. */
  readonly line?: number;
  /** 1-based column; known for TOML syntax errors only. */
  readonly column?: number;
  /** What is wrong and what is allowed. */
  readonly message: string;
  /** The source lines around a syntax error with a caret under it, for terminals. */
  readonly excerpt?: string;
}

/** A manifest that cannot be used; `problems` lists everything found, not only the first. */
export class ManifestError extends KrakenError {
  override readonly name: string = 'ManifestError';
  readonly file: string;
  readonly problems: readonly ManifestProblem[];

  constructor(file: string, problems: readonly ManifestProblem[], options: Omit<KrakenErrorOptions, 'details'> = {}) {
    const sorted = sortProblems(problems);
    super(ErrorCode.InvalidManifest, formatProblems(file, sorted), {
      ...options,
      details: { file, problems: sorted },
    });
    this.file = file;
    this.problems = sorted;
  }
}

/** `file:line: field: message`, the shape editors and terminals turn into links. */
export function formatProblem(file: string, problem: ManifestProblem): string {
  let where = file;
  if (problem.line !== undefined) where += `:${problem.line}`;
  if (problem.line !== undefined && problem.column !== undefined) where += `:${problem.column}`;
  const head = problem.field === '' ? `${where}: ${problem.message}` : `${where}: ${problem.field}: ${problem.message}`;
  if (problem.excerpt === undefined) return head;
  return `${head}\n${indent(problem.excerpt.trimEnd())}`;
}

function formatProblems(file: string, problems: readonly ManifestProblem[]): string {
  if (problems.length === 1 && problems[0]) return formatProblem(file, problems[0]);
  const lines = problems.map((problem) => indent(formatProblem(file, problem)));
  return [`${file} has ${problems.length} problems:`, ...lines].join('\n');
}

/** Whole-file and missing-table problems (no line) first, then in file order. */
function sortProblems(problems: readonly ManifestProblem[]): ManifestProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
