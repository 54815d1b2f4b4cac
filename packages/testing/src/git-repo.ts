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

/** Commits `files` on top of the repository's branch, as a push of the next version would; returns the new commit. */
export async function commitFiles(repo: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(repo, name)), { recursive: true });
    await writeFile(path.join(repo, name), content);
  }
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=Kraken Test', '-c', 'user.email=test@kraken.invalid', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  git('add', '--all');
  git('commit', '--quiet', '--message', message);
  return git('rev-parse', 'HEAD');
}

/**
 * A node app as people write them (the original Kraken's express sample: `app.listen(7211)` and
 * `port = 7211` in its manifest): it listens on `port` written into its code, never reading
 * $PORT, answers every GET with `hello from <marker>`, has no dependencies and an empty test.
 * Plain node:http stands in for express, which a test machine without a registry cannot install.
 */
export function fixedPortAppFiles(port: number, marker: string, name = 'fixed-port-app'): Record<string, string> {
  return {
    'shipwreck.toml': manifestToml(`lang = "node"\nport = ${port}\nrun = "node server.js"\ntest = ""`, name),
    'server.js': `
const http = require('node:http');
const server = http.createServer((request, response) => {
  console.log('request ' + request.method + ' ' + request.url);
  response.end('hello from ${marker}');
});
server.listen(${port}, () => console.log('${marker} listening on ${port}'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
  };
}
