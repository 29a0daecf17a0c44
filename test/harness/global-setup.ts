// Jest global setup of the integration suite: one real cluster for every test file.
import { TestCluster } from './cluster';
import { installFixtures } from './fixtures';

export const KUBECONFIG_ENV = 'INFERKIT_TEST_KUBECONFIG';

export default async function setup(): Promise<void> {
  const cluster = await TestCluster.start({ name: 'inferkit-jest' });
  (globalThis as any).__inferkitCluster = cluster;
  const kube = cluster.client();
  try {
    await installFixtures(kube);
  } catch (e) {
    await cluster.stop();
    throw e;
  } finally {
    kube.close();
  }
  // Workers start after global setup and inherit its environment.
  process.env[KUBECONFIG_ENV] = cluster.kubeconfig;
}
