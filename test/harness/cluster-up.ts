// `npm run cluster:up`: a test cluster for exploring by hand. Prints the kubeconfig; Ctrl-C stops it.
import { TestCluster } from './cluster';
import { installFixtures } from './fixtures';

async function main(): Promise<void> {
  const cluster = await TestCluster.start({ name: 'inferkit-dev' });
  const kube = cluster.client();
  await installFixtures(kube);
  kube.close();
  process.stdout.write(`Cluster ready at ${cluster.server}\n\n  export KUBECONFIG=${cluster.kubeconfig}\n\nCtrl-C stops it and removes ${cluster.dir}.\n`);
  const stop = () => {
    void cluster.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(e => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
