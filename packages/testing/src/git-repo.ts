import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A local git repository with `files` committed on `branch`, as an app author would push it. */
export async function gitFixtureRepo(dir: string, files: Record<string, string>, branch = 'main'): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  const git = (...args: string[]): void => {
    execFileSync('git', ['-c', 'user.name=Kraken Test', '-c', 'user.email=test@kraken.invalid', ...args], { cwd: dir, stdio: 'pipe' });
  };
  git('init', '--quiet', '--initial-branch', branch);
  git('add', '--all');
  git('commit', '--quiet', '--message', 'fixture');
  return dir;
}

/** A shipwreck.toml with `config` as the [config] table's body. */
export function manifestToml(config: string, name: string): string {
  return `[app]\nname = "${name}"\nversion = "1.0.0"\nendpoint = "/"\n\n[config]\n${config}\n`;
}
