// Starts a real Kubernetes control plane on 127.0.0.1 from binaries built by test/cluster/build.sh:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK, in a temporary folder that is
// removed with every process when the cluster stops, also when a test fails.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Kube } from './kube';

const REPO = path.resolve(__dirname, '..', '..');

/** Where test/cluster/build.sh put the binaries (it prints the folder; it builds nothing with --print-bin). */
export function binDir(): string {
  const dir = process.env.INFERKIT_CLUSTER_BIN
    ?? execFileSync('bash', [path.join(REPO, 'test', 'cluster', 'build.sh'), '--print-bin'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']) {
    if (!fs.existsSync(path.join(dir, b))) {
      throw new Error(`Unable to start the test cluster: ${path.join(dir, b)} is missing. Build it with \`bash test/cluster/build.sh\`.`);
    }
  }
  return dir;
}

/** A loopback port nothing listens on: taken from the OS, then released (a dead address, or one to listen on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a serving certificate for 127.0.0.1 and a service-account key pair, made with openssl. */
function makePki(dir: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=inferkit-test-ca', '-days', '2');
  fs.writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n');
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver');
  openssl(dir, 'x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.cnf', '-out', 'apiserver.crt');
  openssl(dir, 'genrsa', '-out', 'sa.key', '2048');
  openssl(dir, 'rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
}

export interface ClusterOptions {
  /** Name used in the temp folder and in logs. @default 'inferkit' */
  readonly name?: string;
  /**
   * Run kube-controller-manager and kube-scheduler. A cluster that tests only read from (Nodes, ResourceSlices,
   * workload specs) does without them: two fewer processes on a small machine. KWOK runs either way.
   *
   * @default true
   */
  readonly controllers?: boolean;
  /**
   * Requests per second the controller-manager and the scheduler may send (their defaults are 20 and 50): a benchmark
   * that replaces hundreds of pods at once raises it so that it measures the rollout, not their rate limits.
   *
   * @default - the controller-manager's default
   */
  readonly controllerQps?: number;
  /**
   * Objects the controller-manager's StatefulSet, Deployment and ReplicaSet controllers sync at once (their defaults are
   * 5), and pods KWOK plays at once (its default is 4 for every node together, where a real cluster has a kubelet per
   * node): a benchmark that updates hundreds of StatefulSets in one wave raises it, as large clusters do, so that it
   * measures the rollout, not the simulators' queues.
   *
   * @default - the controller-manager's defaults
   */
  readonly controllerWorkers?: number;
}

interface Proc { readonly name: string; readonly child: ChildProcess; readonly log: string }

/** A running test cluster. Call `stop()` (or rely on the exit hook) to end every process and remove its folder. */
export class TestCluster {
  public static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const bin = binDir();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${options.name ?? 'inferkit'}-cluster-`));
    const cluster = new TestCluster(bin, dir);
    try {
      await cluster.boot(options.controllers ?? true, options.controllerQps, options.controllerWorkers);
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  public readonly kubeconfig: string;
  public readonly token = randomBytes(24).toString('hex');
  public server = '';
  private readonly procs: Proc[] = [];
  private readonly exitHook: () => void;
  private stopped = false;

  private constructor(private readonly bin: string, public readonly dir: string) {
    this.kubeconfig = path.join(dir, 'kubeconfig');
    this.exitHook = () => this.killNow();
    process.on('exit', this.exitHook);
  }

  /** A client for this cluster. */
  public client(): Kube {
    return Kube.fromKubeconfig(this.kubeconfig);
  }

  private spawn(name: string, args: string[]): Proc {
    const log = path.join(this.dir, `${name}.log`);
    const out = fs.openSync(log, 'a');
    // Its own process group, so that stop() ends whatever the binary started too.
    const child = spawn(path.join(this.bin, name), args, { cwd: this.dir, stdio: ['ignore', out, out], detached: true });
    fs.closeSync(out);
    const p = { name, child, log };
    this.procs.push(p);
    return p;
  }

  private tail(p: Proc): string {
    try {
      return fs.readFileSync(p.log, 'utf8').split('\n').slice(-25).join('\n');
    } catch {
      return '';
    }
  }

  private async waitHealthy(p: Proc, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (p.child.exitCode !== null) throw new Error(`${p.name} exited with ${p.child.exitCode}:\n${this.tail(p)}`);
      if (await probe().catch(() => false)) return;
      await new Promise(r => setTimeout(r, 200));
    }
    throw new Error(`${p.name} did not become healthy in ${timeoutMs} ms:\n${this.tail(p)}`);
  }

  private async boot(controllers: boolean, controllerQps?: number, controllerWorkers?: number): Promise<void> {
    const d = this.dir;
    makePki(d);
    fs.writeFileSync(path.join(d, 'tokens.csv'), `${this.token},inferkit-admin,inferkit-admin,"system:masters"\n`);

    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(Array.from({ length: 6 }, freePort));
    const etcd = this.spawn('etcd', [
      '--name=test', `--data-dir=${path.join(d, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=test=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync=true', '--log-level=warn',
    ]);
    await this.waitHealthy(etcd, async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok);

    this.server = `https://127.0.0.1:${apiPort}`;
    fs.writeFileSync(this.kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: inferkit-test',
      'clusters:', '- name: inferkit-test', '  cluster:', `    server: ${this.server}`,
      `    certificate-authority-data: ${fs.readFileSync(path.join(d, 'ca.crt')).toString('base64')}`,
      'users:', '- name: inferkit-admin', '  user:', `    token: ${this.token}`,
      'contexts:', '- name: inferkit-test', '  context: {cluster: inferkit-test, user: inferkit-admin}', '',
    ].join('\n'));

    const api = this.spawn('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      `--tls-cert-file=${path.join(d, 'apiserver.crt')}`, `--tls-private-key-file=${path.join(d, 'apiserver.key')}`,
      `--token-auth-file=${path.join(d, 'tokens.csv')}`, '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${path.join(d, 'sa.pub')}`, `--service-account-signing-key-file=${path.join(d, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16', '--allow-privileged=true', `--cert-dir=${path.join(d, 'certs')}`,
    ]);
    const kube = this.client();
    try {
      await this.waitHealthy(api, async () => (await kube.request('GET', '/readyz')).status === 200);
    } finally {
      kube.close();
    }

    const common = [`--kubeconfig=${this.kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1'];
    const qps = controllerQps ? [`--kube-api-qps=${controllerQps}`, `--kube-api-burst=${2 * controllerQps}`] : [];
    if (controllers) {
      this.spawn('kube-controller-manager', [
        ...common, `--secure-port=${kcmPort}`,
        `--service-account-private-key-file=${path.join(d, 'sa.key')}`, `--root-ca-file=${path.join(d, 'ca.crt')}`,
        '--node-monitor-grace-period=60s',
        ...qps,
        ...(controllerWorkers
          ? [`--concurrent-statefulset-syncs=${controllerWorkers}`, `--concurrent-deployment-syncs=${controllerWorkers}`, `--concurrent-replicaset-syncs=${controllerWorkers}`]
          : []),
      ]);
      this.spawn('kube-scheduler', [...common, `--secure-port=${schedPort}`, ...qps]);
    }
    // KWOK's default stages, with the harness's own pod stages in place of its pod-ready (delayed and failing readiness).
    const own = path.join(__dirname, 'kwok-stages');
    const ownFiles = fs.readdirSync(own).filter(f => f.endsWith('.yaml')).sort();
    const stages = [
      ...fs.readdirSync(path.join(this.bin, 'kwok-stages')).filter(f => f.endsWith('.yaml') && !ownFiles.includes(f)).sort().map(f => path.join(this.bin, 'kwok-stages', f)),
      ...ownFiles.map(f => path.join(own, f)),
    ].map(f => `--config=${f}`);
    if (controllerWorkers) {
      // KWOK plays every node's pods with a few workers in all, where each node has a kubelet of its own. A
      // configuration file is not defaulted: KWOK's other defaults are given too.
      const config = path.join(d, 'kwok.yaml');
      fs.writeFileSync(config, ['apiVersion: config.kwok.x-k8s.io/v1alpha1', 'kind: KwokConfiguration', 'options:',
        `  podPlayStageParallelism: ${controllerWorkers}`, '  nodePlayStageParallelism: 4', '  nodeLeaseParallelism: 4',
        '  podsOnNodeSyncParallelism: 1', '  enablePodsOnNodeSyncListPager: true', ''].join('\n'));
      stages.push(`--config=${config}`);
    }
    this.spawn('kwok', [
      `--kubeconfig=${this.kubeconfig}`, '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.244.0.0/16', '--node-ip=10.240.0.1', '--node-lease-duration-seconds=40', `--server-address=127.0.0.1:${kwokPort}`, ...stages,
    ]);
  }

  private killNow(): void {
    for (const p of [...this.procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid) {
        try { process.kill(-p.child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Ends every process (TERM, then KILL after 5 s) and removes the cluster's folder. */
  public async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of [...this.procs].reverse()) {
      // A process ended by a signal has a null exitCode: waiting for its 'exit' would never return.
      if (p.child.exitCode !== null || p.child.signalCode !== null || !p.child.pid) continue;
      const exited = new Promise(r => p.child.once('exit', r));
      try { process.kill(-p.child.pid, 'SIGTERM'); } catch { continue; }
      const timer = setTimeout(() => {
        try { process.kill(-p.child.pid!, 'SIGKILL'); } catch { /* gone */ }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    process.removeListener('exit', this.exitHook);
  }

  /** Pids of the cluster's processes still running. */
  public running(): number[] {
    return this.procs.filter(p => p.child.exitCode === null && p.child.signalCode === null).map(p => p.child.pid!);
  }
}
