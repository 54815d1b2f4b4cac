import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { KrakenError, hasExited, parseProcStat } from '@kraken/common';
import { gitFixtureRepo, manifestToml } from '@kraken/testing';
import type { ProcessDeployer } from '../src/index.js';

/**
 * A node app that reads $PORT, greets with $GREETING through a local `file:` dependency (so the
 * npm install step has something to do without a registry), and can be told to crash.
 */
export const NODE_SERVER = `
const http = require('node:http');
const greet = require('greet');
console.error('warming up');
const server = http.createServer((request, response) => {
  console.log('request ' + request.url);
  if (request.url === '/pid') return response.end(String(process.pid));
  if (request.url === '/crash') {
    response.end('bye');
    console.error('crashing on purpose');
    setTimeout(() => process.exit(1), 10);
    return;
  }
  response.end(greet(process.env.GREETING || 'nobody'));
});
server.listen(Number(process.env.PORT), () => console.log('listening on ' + process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** A node app with no dependencies (no install to wait for) that says which version it is, and which pid serves at /pid. */
export function versionedServer(version: string): string {
  return `
const http = require('node:http');
const server = http.createServer((request, response) => {
  response.end(request.url === '/pid' ? String(process.pid) : ${JSON.stringify(version)});
});
server.listen(Number(process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
}

export async function nodeAppRepo(dir: string, config: { test?: string; extra?: Record<string, string> } = {}): Promise<string> {
  const test = config.test === undefined ? '' : `test = ${JSON.stringify(config.test)}\n`;
  return gitFixtureRepo(dir, {
    'shipwreck.toml': manifestToml(`lang = "node"\nport = 3000\nrun = "node server.js"\n${test}\n[config.env]\nGREETING = "from the manifest"`, 'hello-node'),
    'package.json': JSON.stringify({ name: 'hello-node', version: '1.0.0', private: true, dependencies: { greet: 'file:greet' } }),
    'greet/package.json': JSON.stringify({ name: 'greet', version: '1.0.0', main: 'index.js' }),
    'greet/index.js': "module.exports = (name) => 'hello ' + name;\n",
    'server.js': NODE_SERVER,
    ...config.extra,
  });
}

/** A node app whose run command is `script` (what it does decides how the deploy goes). */
export async function scriptAppRepo(dir: string, script: string, config = ''): Promise<string> {
  return gitFixtureRepo(dir, {
    'shipwreck.toml': manifestToml(`lang = "node"\nport = 3000\nrun = "node app.js"\n${config}`, 'script-app'),
    'app.js': script,
  });
}

const PYTHON_APP = `
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

try:
    from greeting import greet
except ImportError:
    def greet(name):
        return "hi " + name

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = greet("python").encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

port = int(os.environ["PORT"])
print("python listening on", port)
HTTPServer(("0.0.0.0", port), Handler).serve_forever()
`;

/** A pure-python wheel built on the spot, so pip installs a requirement with no package index. */
export function writeGreetingWheel(dir: string): string {
  const name = 'greeting-1.0-py3-none-any.whl';
  execFileSync(
    'python3',
    [
      '-c',
      `import zipfile
files = {
  'greeting/__init__.py': 'def greet(name):\\n    return "hello " + name + " via a wheel"\\n',
  'greeting-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: greeting\\nVersion: 1.0\\n',
  'greeting-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: kraken-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
}
with zipfile.ZipFile(${JSON.stringify(name)}, 'w') as wheel:
    for path, text in files.items():
        wheel.writestr(path, text)
    wheel.writestr('greeting-1.0.dist-info/RECORD', ''.join(p + ',,\\n' for p in files) + 'greeting-1.0.dist-info/RECORD,,\\n')
`,
    ],
    { cwd: dir },
  );
  return name;
}

export async function pythonAppRepo(dir: string, requirements?: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {
    'shipwreck.toml': manifestToml('lang = "python3"\nport = 8000\nrun = "python3 app.py"', 'hello-python'),
    'app.py': PYTHON_APP,
  };
  if (requirements !== undefined) files['requirements.txt'] = requirements;
  return gitFixtureRepo(dir, files);
}

export async function staticSiteRepo(dir: string): Promise<string> {
  return gitFixtureRepo(dir, {
    'shipwreck.toml': manifestToml('lang = "static"\nroot = "site"', 'hello-static'),
    'site/index.html': '<!doctype html><h1>static hello</h1>\n',
    'site/css/app.css': 'h1 { color: teal; }\n',
    'README.md': 'not served: outside the site root\n',
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
  contentType: string | undefined;
}

export function get(port: number, urlPath = '/'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 5000, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body, contentType: response.headers['content-type'] });
      });
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 5 s')));
    request.on('error', reject);
  });
}

/** Whether a process with this pid exists and has not exited (see hasExited). */
export function processAlive(pid: number): boolean {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat !== undefined && !hasExited(stat);
  } catch {
    return false;
  }
}

export function repoPath(root: string, name: string): string {
  return path.join(root, 'repos', name);
}

/** The KrakenError a deploy must reject with; fails the test if it succeeds or throws anything else. */
export async function deployRejection(deployer: ProcessDeployer, request: Parameters<ProcessDeployer['deploy']>[0]): Promise<KrakenError> {
  try {
    await deployer.deploy(request);
  } catch (error) {
    expect(error).toBeInstanceOf(KrakenError);
    return error as KrakenError;
  }
  throw new Error(`deploy of ${request.deploymentId} succeeded but should have failed`);
}

/** The directories of the pid's control groups that hold `file` (v1: one per hierarchy; v2: the one). */
export async function groupFile(pid: number, file: string): Promise<string> {
  const lines = (await readFile(`/proc/${String(pid)}/cgroup`, 'utf8')).trim().split('\n');
  for (const line of lines) {
    const [, controllers = '', groupPath = ''] = line.split(':');
    const mounts = controllers === '' ? ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'] : controllers.split(',').map((name) => `/sys/fs/cgroup/${name}`);
    for (const mount of mounts) {
      const candidate = path.join(mount, groupPath, file);
      if (await access(candidate).then(() => true, () => false)) return candidate;
    }
  }
  throw new Error(`no ${file} in the control groups of ${String(pid)}: ${lines.join('; ')}`);
}
