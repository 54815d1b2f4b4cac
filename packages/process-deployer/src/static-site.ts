import { realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { DeployStep, deployError } from '@kraken/runtime';

/**
 * Kraken's file server for `lang = "static"` without Docker, playing the part busybox httpd plays
 * in the static image. It is written next to the deployment and run by node as the supervised
 * process (so it survives agent restarts like any app): `node static-server.mjs <root>`, port from
 * $PORT. Plain ESM with only node built-ins, because it runs outside this package.
 */
const STATIC_SERVER_SOURCE = `// Written by @kraken/process-deployer: serves one folder over HTTP on $PORT.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const root = await realpath(process.argv[2]);
const port = Number(process.env.PORT);
const types = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.ico': 'image/x-icon', '.wasm': 'application/wasm',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.map': 'application/json', '.xml': 'application/xml', '.pdf': 'application/pdf',
};

// Resolves a request path to a file inside root, or undefined: no escaping root through '..' or
// symlinks, and never the repository's .git folder.
async function resolveFile(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\\0') || decoded.split('/').some((part) => part === '.git')) return undefined;
  let file = path.join(root, path.normalize('/' + decoded));
  try {
    file = await realpath(file);
    if (file !== root && !file.startsWith(root + path.sep)) return undefined;
    let info = await stat(file);
    if (info.isDirectory()) {
      file = await realpath(path.join(file, 'index.html'));
      if (!file.startsWith(root + path.sep)) return undefined;
      info = await stat(file);
    }
    return info.isFile() ? { file, size: info.size } : undefined;
  } catch {
    return undefined;
  }
}

const server = http.createServer(async (request, response) => {
  const urlPath = (request.url ?? '/').split('?')[0];
  let status = 200;
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      status = 405;
      response.writeHead(status, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\\n');
      return;
    }
    const found = await resolveFile(urlPath);
    if (found === undefined) {
      status = 404;
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\\n');
      return;
    }
    response.writeHead(status, {
      'content-type': types[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': found.size,
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(found.file).on('error', () => response.destroy()).pipe(response);
  } finally {
    console.log(request.method + ' ' + urlPath + ' ' + status);
  }
});
server.listen(port, () => console.log('serving ' + root + ' on port ' + port));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
`;

export async function writeStaticServer(file: string): Promise<void> {
  await writeFile(file, STATIC_SERVER_SOURCE, { mode: 0o644 });
}

/**
 * The folder a static app serves: the manifest's `root` (default ".", as the static image's
 * SITE_ROOT), which must be a folder inside the checkout.
 */
export async function siteRoot(checkout: string, root: string | undefined, deploymentId: string): Promise<string> {
  const relative = root ?? '.';
  const context = { deploymentId, step: DeployStep.Build, details: { field: 'config.root', root: relative } };
  const resolvedCheckout = await realpath(checkout);
  let folder: string;
  try {
    folder = await realpath(path.resolve(checkout, relative));
  } catch (cause) {
    throw deployError(ErrorCode.InvalidManifest, `config.root ${JSON.stringify(relative)} in shipwreck.toml names no folder of the repository`, { ...context, cause });
  }
  if (folder !== resolvedCheckout && !folder.startsWith(resolvedCheckout + path.sep)) {
    throw deployError(ErrorCode.InvalidManifest, `config.root ${JSON.stringify(relative)} in shipwreck.toml leads outside the repository`, context);
  }
  if (!(await stat(folder)).isDirectory()) {
    throw deployError(ErrorCode.InvalidManifest, `config.root ${JSON.stringify(relative)} in shipwreck.toml is a file; it must name a folder to serve`, context);
  }
  return folder;
}
