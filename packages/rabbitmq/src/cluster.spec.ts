import { isForgottenByCluster } from './cluster.js';

describe('isForgottenByCluster', () => {
  it('recognises only the inconsistent-cluster refusal', () => {
    expect(isForgottenByCluster(new Error("Node 'kraken-a@10.0.0.1' thinks it's clustered with node 'kraken-b@10.0.0.2', but 'kraken-b@10.0.0.2' disagrees"))).toEqual({
      by: 'kraken-b@10.0.0.2',
    });
    expect(isForgottenByCluster(new Error('exited (1) before it was ready'))).toBeUndefined();
  });
});
