// Every published package must work for someone who installs it from a tarball into an empty
// project: the right files, ESM and CommonJS entry points, and types that resolve.
// Child output is printed with String(): under Nx, FORCE_COLOR makes console.log colour numbers.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
// the dependency closure of the packages checked here, in install order
const packages = ['common', 'messages', 'broker'] as const;
const checked = ['messages', 'broker'] as const;

let work: string;
const tarballs = new Map<string, string>();

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'kraken-pack-'));
  for (const name of packages) {
    const out = run('npm', ['pack', '--json', '--pack-destination', work], path.join(root, 'packages', name));
    const [info] = JSON.parse(out) as [{ filename: string; files: { path: string }[] }];
    tarballs.set(name, path.join(work, info.filename));
    writeFileSync(path.join(work, `${name}.files.json`), JSON.stringify(info.files.map((file) => file.path)));
  }
  const consumer = path.join(work, 'consumer');
  run('mkdir', ['-p', consumer], work);
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', ...packages.map((name) => tarballs.get(name) ?? '')], consumer);
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe.each(checked)('@kraken/%s packed tarball', (name) => {
  const consumer = () => path.join(work, 'consumer');

  it('contains the built entry points and types, and no sources or tests', () => {
    const files = JSON.parse(execFileSync('cat', [path.join(work, `${name}.files.json`)], { encoding: 'utf8' })) as string[];
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']));
    expect(files.filter((file) => file.startsWith('src/') || /\.spec\.|tsbuildinfo/.test(file))).toEqual([]);
  });

  it('installs into an empty project and imports as ESM', () => {
    const out = run('node', ['--input-type=module', '-e', `import * as pkg from '@kraken/${name}'; console.log(Object.keys(pkg).sort().join(','))`], consumer());
    expect(out.trim().split(',').length).toBeGreaterThan(3);
  });

  it('loads with require() from CommonJS', () => {
    const out = run('node', ['-e', `const pkg = require('@kraken/${name}'); console.log(String(Object.keys(pkg).length))`], consumer());
    expect(Number(out.trim())).toBeGreaterThan(3);
  });
});

describe('installed packages work together', () => {
  it('round-trips a message through a MemoryBroker using only the published packages', () => {
    const script = `
      import { MemoryBroker } from '@kraken/broker';
      import { createMessage, decode, encode } from '@kraken/messages';
      const message = createMessage('deploy.cancel', { deploymentId: 'dep-1' }, { from: 'node-a' });
      const decoded = decode(encode(message));
      if (!decoded.ok) throw decoded.error;
      const broker = new MemoryBroker();
      await broker.declareQueue('q');
      const got = new Promise((resolve) => broker.consume('q', (d) => resolve(d.message.id)));
      await broker.publish('q', message);
      console.log((await got) === message.id ? 'ok' : 'mismatch');
      await broker.close();`;
    expect(run('node', ['--input-type=module', '-e', script], path.join(work, 'consumer')).trim()).toBe('ok');
  });

  it('gives TypeScript consumers the declared types (NodeNext resolution)', () => {
    const consumer = path.join(work, 'consumer');
    writeFileSync(
      path.join(consumer, 'check.mts'),
      `import { createMessage, type Message } from '@kraken/messages';
       import { MemoryBroker, type Broker } from '@kraken/broker';
       const message: Message = createMessage('deploy.stop', { deploymentId: 'dep-1' }, { from: 'node-a' });
       const broker: Broker = new MemoryBroker();
       void broker.publish('q', message);
       // @ts-expect-error: unknown message types are rejected by the compiler
       createMessage('deploy.nonsense', {}, { from: 'node-a' });
       export {};`,
    );
    const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
    expect(() =>
      run(tsc, ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), 'check.mts'], consumer),
    ).not.toThrow();
    expect(readdirSync(consumer)).toContain('check.mts');
  });
});
