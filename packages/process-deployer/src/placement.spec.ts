import { parseManifest } from '@kraken/shipwreck';
import { manifestToml } from '@kraken/testing';
import { deploymentPaths } from './layout.js';
import { placeVersion } from './placement.js';
import type { Serving } from './placement.js';

const paths = deploymentPaths('/data', 'app-1');
const request = { deploymentId: 'app-1', url: 'https://example.org/app.git', branch: 'main' };

function manifest(port: number): ReturnType<typeof parseManifest> {
  return parseManifest(manifestToml(`lang = "node"\nport = ${String(port)}\nrun = "node server.js"`, 'app'));
}

/** A serving version on `port` that counts the calls asking it to stop. */
function servingOn(port: number): Serving & { stops: number } {
  const serving = {
    port,
    stops: 0,
    makeRoom: () => {
      serving.stops += 1;
      return Promise.resolve();
    },
  };
  return serving;
}

describe('placeVersion', () => {
  it('places a first version in the state file, on the port asked for', async () => {
    await expect(placeVersion(paths, { ...request, hostPort: 8080 }, manifest(3000), undefined)).resolves.toEqual({ stateFile: paths.state, hostPort: 8080, beside: false });
  });

  it('starts a new version beside the serving one, on a port of its own when the request names the port it serves on', async () => {
    const serving = servingOn(8080);
    // with a control group of its own, so that the two are not held to one limit
    const cgroup = expect.stringMatching(/^app-1\.[0-9a-f]{8}$/) as unknown;
    await expect(placeVersion(paths, { ...request, hostPort: 8080 }, manifest(3000), serving)).resolves.toEqual({ stateFile: paths.candidateState, hostPort: undefined, beside: true, cgroup });
    await expect(placeVersion(paths, { ...request, hostPort: 9090 }, manifest(3000), serving)).resolves.toEqual({ stateFile: paths.candidateState, hostPort: 9090, beside: true, cgroup });
    expect(serving.stops).toBe(0);
  });

  it('stops the serving version first when the new manifest names the port it listens on (fixed in its code)', async () => {
    const serving = servingOn(8080);
    await expect(placeVersion(paths, { ...request, hostPort: 8080 }, manifest(8080), serving)).resolves.toEqual({ stateFile: paths.state, hostPort: 8080, beside: false });
    expect(serving.stops).toBe(1);
  });
});
