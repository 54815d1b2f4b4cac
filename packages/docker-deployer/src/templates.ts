import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { Lang } from '@kraken/shipwreck';
import { DeployStep, deployError } from '@kraken/runtime';

export type TemplateLang = 'node' | 'python3' | 'static';

/** Folder of each language's template, as in the repository's dockerfiles/ (python3 lives in `python/`). */
const templateFolder: Readonly<Record<TemplateLang, string>> = { node: 'node', python3: 'python', static: 'static' };

export function isTemplateLang(lang: Lang): lang is TemplateLang {
  return lang !== Lang.Custom;
}

export async function readTemplate(templatesDir: string, lang: TemplateLang, deploymentId: string): Promise<string> {
  const file = path.join(templatesDir, templateFolder[lang], 'Dockerfile');
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw deployError(
      ErrorCode.Internal,
      `the ${lang} build template is missing (${file}); build the package (its copy-templates step fills templates/) or set the templatesDir option`,
      { deploymentId, step: DeployStep.Build, cause, details: { file } },
    );
  }
}
