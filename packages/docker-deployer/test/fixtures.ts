import { gitFixtureRepo, manifestToml } from '@kraken/testing';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { Label } from '../src/labels.js';

/** The repository's dockerfiles/: the templates' source of truth, so tests never depend on a copy step. */
export const templatesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dockerfiles');

export const docker = new Docker({ socketPath: process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock' });

/** A git repository with `files` committed on `branch`, as an app author would push it. */
export const gitRepo = gitFixtureRepo;

export function manifest(config: string, name = 'fixture-app'): string {
  return manifestToml(config, name);
}

export const nodeServer = `
const http = require('node:http');
const port = Number(process.env.PORT);
http.createServer((req, res) => {
  console.log('request ' + req.method + ' ' + req.url);
  res.end('hello from node ' + (process.env.GREETING || ''));
}).listen(port, () => console.log('listening on ' + port));
`;

export const pythonServer = `
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from python"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
`;

/** Removes every container and image a test run made for `nodeId`, whatever state they are in. */
export async function cleanupNode(nodeId: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${Label.Node}=${nodeId}`] } });
  await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined)));
  const images = await docker.listImages({ filters: { label: [`${Label.Node}=${nodeId}`] } });
  for (const image of images) await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
}

export async function containersOf(nodeId: string, deploymentId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${Label.Node}=${nodeId}`, `${Label.Deployment}=${deploymentId}`] } });
}

export async function httpGet(port: number, pathName = '/'): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${pathName}`);
  return { status: response.status, body: await response.text() };
}

/** Whether the local engine has an image under `tag` (a kept build, a pruned one). */
export async function imageTagExists(tag: string): Promise<boolean> {
  return await docker
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}
