import path from 'node:path';
import { gitFixtureRepo, manifestToml } from '@kraken/testing';

/**
 * Fixture apps as an author would push them: each prints `marker` when it starts, so a test can
 * find its own line in the logs that came through the broker, and answers GET / with 200.
 */
export type AppKind = 'node' | 'python' | 'static' | 'custom';

export function nodeServer(marker: string): string {
  return `
const http = require('node:http');
const port = Number(process.env.PORT);
http.createServer((req, res) => {
  console.log('request ' + req.method + ' ' + req.url);
  res.end('hello from ${marker}');
}).listen(port, () => console.log('${marker} listening on ' + port));
`;
}

function pythonServer(marker: string): string {
  return `
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from ${marker}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print("request GET " + self.path, flush=True)
    def log_message(self, *args):
        pass
port = int(os.environ["PORT"])
server = http.server.HTTPServer(("0.0.0.0", port), Handler)
print("${marker} listening on " + str(port), flush=True)
server.serve_forever()
`;
}

export function appFiles(kind: AppKind, marker: string): Record<string, string> {
  const name = `e2e-${kind}`;
  switch (kind) {
    case 'node':
      return {
        'shipwreck.toml': manifestToml(
          'lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "node -e \\"console.log(\'fixture tests pass\')\\""',
          name,
        ),
        'server.js': nodeServer(marker),
      };
    case 'python':
      // the original Kraken's spelling: lang = "python3", an empty test (no test step), [env-vars]
      return {
        'shipwreck.toml': `${manifestToml('lang = "python3"\nport = 8000\nrun = "python3 app.py"\ntest = ""', name)}\n[env-vars]\nGREETING = "hi"\n`,
        'app.py': pythonServer(marker),
      };
    case 'static':
      return {
        'shipwreck.toml': manifestToml('lang = "static"\nroot = "public"', name),
        'public/index.html': `<h1>hello from ${marker}</h1>\n`,
      };
    case 'custom':
      return {
        'shipwreck.toml': manifestToml('lang = "custom"\nport = 8080', name),
        Dockerfile: 'FROM kraken-base/node:20\nWORKDIR /app\nCOPY server.js .\nENV PORT=8080\nCMD ["node", "server.js"]\n',
        'server.js': nodeServer(marker),
      };
  }
}

/**
 * A local git repository of a fixture app under `root`; its folder name becomes the readable part
 * of the deployment id (`<repo>-<6 hex>`).
 */
export async function appRepo(root: string, repoName: string, kind: AppKind, marker = repoName): Promise<string> {
  return gitFixtureRepo(path.join(root, repoName), appFiles(kind, marker));
}
