import * as fs from 'fs';
import { TestCluster } from '../harness/cluster';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the test cluster harness', () => {
  test('starts a control plane that answers, and stop() leaves no process and no folder behind', async () => {
    const cluster = await TestCluster.start({ name: 'inferkit-harness' });
    const pids = cluster.running();
    try {
      expect(pids).toHaveLength(5);
      const kube = cluster.client();
      const version = await kube.request('GET', '/version');
      kube.close();
      expect(version.body.gitVersion).toBe('v1.36.3');
      expect(fs.existsSync(cluster.kubeconfig)).toBe(true);
    } finally {
      await cluster.stop();
    }
    expect(pids.filter(alive)).toEqual([]);
    expect(fs.existsSync(cluster.dir)).toBe(false);
  });
});
