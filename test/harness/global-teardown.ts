// Jest global teardown: every process of the cluster ends and its folder is removed, pass or fail.
import type { TestCluster } from './cluster';

export default async function teardown(): Promise<void> {
  const cluster = (globalThis as any).__inferkitCluster as TestCluster | undefined;
  await cluster?.stop();
}
