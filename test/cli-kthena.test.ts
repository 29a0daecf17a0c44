import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { main } from '../cli/inferkit';

const manifests = path.join(__dirname, '..', 'examples', 'manifests');

function run(...argv: string[]): { code: number; out: string; err: string; docs: any[] } {
  let out = '';
  let err = '';
  const code = main(argv, s => { out += s; }, s => { err += s; });
  return { code, out, err, docs: code === 0 ? parseAllDocuments(out).map(d => d.toJS()) : [] };
}

/** Runs `synth` on the documents, written to a temporary file. */
function synthDocs(docs: object[], ...flags: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-kthena-'));
  try {
    const file = path.join(dir, 'in.yaml');
    fs.writeFileSync(file, docs.map(d => stringify(d)).join('---\n'));
    const result = run('synth', '-f', file, ...flags);
    return { ...result, err: result.err.split(file).join('in.yaml') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const find = (docs: any[], kind: string, name: string) => docs.find(d => d.kind === kind && d.metadata.name === name);

const backend = (extra: object = {}) => ({
  name: 'vllm',
  type: 'vLLM',
  modelURI: 'hf://Qwen/Qwen2.5-0.5B-Instruct',
  minReplicas: 1,
  maxReplicas: 1,
  workers: [{ type: 'server', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
  ...extra,
});
const model = (spec: object = {}, name = 'qwen') => ({ apiVersion: 'registry.matrixinfer.ai/v1alpha1', kind: 'Model', metadata: { name }, spec: { backends: [backend()], ...spec } });
const booster = (b: object = {}) => ({
  apiVersion: 'workload.serving.volcano.sh/v1alpha1',
  kind: 'ModelBooster',
  metadata: { name: 'ds' },
  spec: { backend: { name: 'vllm', type: 'vLLM', modelURI: 'hf://deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B', replicas: 1, workers: [{ type: 'server' }], ...b } },
});
const server = (spec: object = {}, name = 'qwen-server') => ({
  apiVersion: 'networking.serving.volcano.sh/v1alpha1',
  kind: 'ModelServer',
  metadata: { name, namespace: 'default' },
  spec: { inferenceEngine: 'vLLM', workloadSelector: { matchLabels: { app: 'qwen' } }, workloadPort: { port: 8000 }, ...spec },
});
const route = (spec: object = {}) => ({
  apiVersion: 'networking.serving.volcano.sh/v1alpha1',
  kind: 'ModelRoute',
  metadata: { name: 'qwen-route', namespace: 'default' },
  spec: { modelName: 'qwen', parentRefs: [{ name: 'gw' }], rules: [{ targetModels: [{ modelServerName: 'qwen-server' }] }], ...spec },
});
const policy = (spec: object = {}, apiVersion = 'registry.matrixinfer.ai/v1alpha1') => ({
  apiVersion,
  kind: 'AutoscalingPolicy',
  metadata: { name: 'p' },
  spec: { metrics: [{ [apiVersion.startsWith('registry') ? 'metricName' : 'name']: 'vllm:num_requests_waiting', targetValue: '5' }], ...spec },
});
const binding = (spec: object = {}) => ({
  apiVersion: 'registry.matrixinfer.ai/v1alpha1',
  kind: 'AutoscalingPolicyBinding',
  metadata: { name: 'b' },
  spec: { policyRef: { name: 'p' }, scalingConfiguration: { minReplicas: 1, maxReplicas: 3, target: { targetRef: { kind: 'ModelInfer', name: 'infer' } } }, ...spec },
});
const simpleInfer = (spec: object = {}) => ({
  apiVersion: 'workload.matrixinfer.ai/v1alpha1', kind: 'ModelInfer', metadata: { name: 'infer' }, spec: { modelRef: { name: 'qwen' }, ...spec },
});

describe('inferkit synth -f of Kthena\'s registry, autoscaling and networking kinds', () => {
  test('seed 000: the simple ModelInfer runs its Kthena Model\'s backend, and the bound AutoscalingPolicy\'s panic settings become HPA behavior', () => {
    const { code, err, docs } = run('synth', '-f', path.join(manifests, 'kthena-modelinfer-simple.yaml'));
    expect(code).toBe(0);
    expect(err).toContain("Warning: AutoscalingPolicy/waiting-requests spec.behavior.scaleUp.panicPolicy '500% per 10s past 200%, hold 180s': has no HPA equivalent");
    const deployment = find(docs, 'Deployment', 'llama-7b-vllm');
    // The binding's HPA owns the replicas: the Deployment leaves them unset, so an apply does not reset them.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.template.metadata.labels['modelinfer.matrixinfer.ai/name']).toBe('llama-7b-infer');
    expect(deployment.spec.template.spec.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': 1, 'cpu': '4', 'memory': '16Gi' }, requests: { cpu: '2', memory: '8Gi' } });
    expect(deployment.spec.template.spec.containers[0].args.slice(0, 3)).toEqual(['/models/meta-llama/Llama-2-7b-chat-hf', '--served-model-name', 'llama-7b']);
    const hpa = find(docs, 'HorizontalPodAutoscaler', 'llama-7b-infer');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'llama-7b-vllm' },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ type: 'Pods', pods: { metric: { name: 'vllm:num_requests_waiting' }, target: { type: 'AverageValue', averageValue: '5' } } }],
      behavior: {
        scaleUp: {
          policies: [{ type: 'Pods', value: 2, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Percent', value: 500, periodSeconds: 10 }],
          selectPolicy: 'Max',
        },
        scaleDown: {
          policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }, { type: 'Percent', value: 100, periodSeconds: 30 }],
          selectPolicy: 'Max',
          stabilizationWindowSeconds: 180,
        },
      },
    });
  });

  test('a Model with adapters: each backend loads its adapters with vLLM\'s flags, fetched by init containers, and its own policy scales it', () => {
    const { code, docs } = run('synth', '-f', path.join(manifests, 'kthena-model-lora.yaml'));
    expect(code).toBe(0);
    const a100 = find(docs, 'Deployment', 'qwen-a100').spec.template.spec;
    expect(a100.containers[0].args).toEqual(['/models/Qwen/Qwen2.5-0.5B-Instruct', '--served-model-name', 'qwen', '--host', '0.0.0.0', '--port', '8000', '--enable-lora',
      '--gpu-memory-utilization', '0.9', '--lora-modules', 'sql-lora=/lora/sql-lora', 'chat-lora=/lora/chat-lora', '--max-model-len', '4096']);
    expect(a100.initContainers.map((c: any) => [c.name, c.env.find((e: any) => e.name === 'HF_REPO').value, c.env.find((e: any) => e.name === 'MODEL_DIR').value])).toEqual([
      ['prefetch', 'Qwen/Qwen2.5-0.5B-Instruct', '/models/Qwen/Qwen2.5-0.5B-Instruct'],
      ['lora-sql-lora', 'org/qwen-sql-lora', '/lora/sql-lora'],
      ['lora-chat-lora', 'org/qwen-chat-lora', '/lora/chat-lora'],
    ]);
    expect(a100.containers[0].volumeMounts).toContainEqual({ name: 'lora', mountPath: '/lora' });
    const l4 = find(docs, 'Deployment', 'qwen-l4');
    expect(l4.spec.replicas).toBe(1);
    expect(l4.spec.template.spec.containers[0].args).toContain('sql-lora=/lora/sql-lora');
    expect(find(docs, 'Deployment', 'qwen-a100').spec.replicas).toBeUndefined();
    expect(find(docs, 'HorizontalPodAutoscaler', 'qwen-a100').spec).toMatchObject({ minReplicas: 1, maxReplicas: 3, scaleTargetRef: { name: 'qwen-a100' } });
    expect(find(docs, 'HorizontalPodAutoscaler', 'qwen-l4')).toBeUndefined();
  });

  test('with --gateway, a Model routes by weight: its name to every backend, each adapter to the backends that load it', () => {
    const { code, docs } = run('synth', '-f', path.join(manifests, 'kthena-model-lora.yaml'), '--gateway', 'edge/public');
    expect(code).toBe(0);
    expect(docs.filter(d => d.kind === 'InferencePool').map(d => [d.metadata.name, d.spec.selector.matchLabels])).toEqual([
      ['qwen-a100', { 'model.inferkit.dev/name': 'qwen-a100' }], ['qwen-l4', { 'model.inferkit.dev/name': 'qwen-l4' }],
    ]);
    const httpRoute = find(docs, 'HTTPRoute', 'qwen');
    expect(httpRoute.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'edge' }]);
    expect(httpRoute.spec.rules.map((r: any) => [r.matches.map((m: any) => m.headers[0].value), r.backendRefs.map((b: any) => `${b.name}:${b.weight}`)])).toEqual([
      [['qwen'], ['qwen-a100:80', 'qwen-l4:20']],
      [['sql-lora'], ['qwen-a100:80', 'qwen-l4:20']],
      [['chat-lora'], ['qwen-a100:80']],
    ]);
  });

  test('today\'s API: a ModelBooster, an AutoscalingPolicy on its ModelServing, and a ModelRoute with weights and model-name matching', () => {
    const { code, err, docs } = run('synth', '-f', path.join(manifests, 'kthena-modelbooster.yaml'));
    expect(code).toBe(0);
    expect(err).toBe('');
    const deployment = find(docs, 'Deployment', 'deepseek-vllm');
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({ name: 'HF_HUB_ENABLE_HF_TRANSFER', value: '0' });
    expect(deployment.spec.template.spec.containers[0].args.slice(1, 3)).toEqual(['--served-model-name', 'deepseek-r1-distill']);
    expect(find(docs, 'HorizontalPodAutoscaler', 'deepseek').spec).toMatchObject({ minReplicas: 1, maxReplicas: 2, scaleTargetRef: { kind: 'Deployment', name: 'deepseek-vllm' } });
    expect(find(docs, 'InferencePool', 'deepseek-server').spec.targetPorts).toEqual([{ number: 8000 }]);
    expect(find(docs, 'HTTPRoute', 'deepseek-route').spec.rules).toEqual([{
      name: 'default',
      matches: [{ headers: [{ type: 'Exact', name: 'X-Gateway-Model-Name', value: 'deepseek-r1' }], path: { type: 'PathPrefix', value: '/v1' } }],
      backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'deepseek-server', weight: 100 }],
      timeouts: { request: '60s' },
    }]);
  });

  test('a ModelRoute splits by weight, and matches the rule\'s model, headers and path', () => {
    const { code, err, docs } = synthDocs([server(), server({}, 'qwen-canary'), route({
      loraAdapters: ['sql'],
      rules: [{
        modelMatch: { body: { model: 'qwen' }, headers: { 'x-tier': { prefix: 'gold' }, 'x-team': { exact: 'a.b' } }, uri: { regex: '^/v1/.*' } },
        targetModels: [{ modelServerName: 'qwen-server', weight: 80 }, { modelServerName: 'qwen-canary', weight: 20 }],
      }, { modelMatch: { body: { model: 'sql' } }, targetModels: [{ modelServerName: 'qwen-canary' }] }],
    })]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(find(docs, 'HTTPRoute', 'qwen-route').spec.rules).toEqual([
      {
        matches: [{
          headers: [{ type: 'Exact', name: 'X-Gateway-Model-Name', value: 'qwen' }, { type: 'Exact', name: 'x-team', value: 'a.b' },
            { type: 'RegularExpression', name: 'x-tier', value: '^gold.*' }],
          path: { type: 'RegularExpression', value: '^/v1/.*' },
        }],
        backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'qwen-server', weight: 80 },
          { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'qwen-canary', weight: 20 }],
      },
      {
        matches: [{ headers: [{ type: 'Exact', name: 'X-Gateway-Model-Name', value: 'sql' }], path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'qwen-canary', weight: 100 }],
      },
    ]);
  });

  test('a disaggregated ModelServer fronts its prefill and decode pods with the PD endpoint picker', () => {
    const { code, err, docs } = synthDocs([server({
      workloadSelector: { matchLabels: { app: 'qwen' }, pdGroup: { groupKey: 'group', prefillLabels: { role: 'prefill' }, decodeLabels: { role: 'decode' } } },
    })]);
    expect(code).toBe(0);
    expect(err).toBe("Warning: ModelServer/qwen-server spec.workloadSelector.pdGroup.groupKey 'group': pairs prefill and decode pods of the same group in Kthena's router, "
      + 'but the endpoint picker pairs any prefill pod with any decode pod of the pool. Give each group its own ModelServer to keep pairs within a group.\n');
    expect(find(docs, 'Deployment', 'qwen-server-epp').spec.template.spec.containers[0].image).toBe('ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0');
  });

  test.each<[string, object[], string]>([
    ['ModelServer spec.model', [server({ model: 'Qwen/Qwen2.5' })], "Warning: ModelServer/qwen-server spec.model 'Qwen/Qwen2.5': makes Kthena's router rewrite the requested model, and a Gateway API route cannot rewrite a request body. Serve the model under every name clients ask for (vLLM --served-model-name takes several), and remove spec.model."],
    ['ModelServer retry', [server({ trafficPolicy: { retry: { attempts: 3 } } })], 'Warning: ModelServer/qwen-server spec.trafficPolicy.retry 3: has no HTTPRoute equivalent in the Gateway API standard channel, so requests are not retried. Configure retries on your gateway, or remove the retry policy.'],
    ['ModelServer on SGLang', [server({ inferenceEngine: 'SGLang' })], "Warning: ModelServer/qwen-server spec.inferenceEngine 'SGLang': is scored by the endpoint picker with vLLM's metric names, its default, which SGLang pods do not export, so the picker does not see their queues or cache use. Accept load-blind picking between the pods, or serve the model with vLLM."],
    ['ModelServer kvConnector', [server({ kvConnector: { type: 'nixl' } })], "Warning: ModelServer/qwen-server spec.kvConnector.type 'nixl': tells Kthena's router how to hand the KV cache from prefill to decode; with the endpoint picker, the decode pods' routing sidecar does it. Run llm-d's routing sidecar on the decode pods with the engines' matching KV connector."],
    ['ModelRoute rules in order', [server(), route({ rules: [{ targetModels: [{ modelServerName: 'qwen-server' }] }, { modelMatch: { uri: { prefix: '/v1' } }, targetModels: [{ modelServerName: 'qwen-server' }] }] })],
      "Warning: ModelRoute/qwen-route spec.rules 2: are tried in order by Kthena's router, but a Gateway API route prefers the most specific match (longest path, most headers) whatever the order. Make the rules' matches exclusive, or order-independent."],
    ['ModelRoute timeouts', [server({ trafficPolicy: { timeout: '30s' } }), server({}, 'b'), route({ rules: [{ targetModels: [{ modelServerName: 'qwen-server' }, { modelServerName: 'b' }] }] })],
      "Warning: ModelRoute/qwen-route spec.rules[0].targetModels 'qwen-server, b': have different timeouts (30s, none), and an HTTPRoute rule has one, so the rule sets none. Give the ModelServers of one rule the same timeout."],
    ['Model scalingCost', [model({ backends: [backend({ scalingCost: 3 }), backend({ name: 'b' })] })], "Warning: Model/qwen spec.backends[0].scalingCost 3: weighs backends in Kthena's cost optimizer, and each backend here scales on its own HPA within its range. Size each backend's minReplicas and maxReplicas for its share, or remove scalingCost."],
    ['Model scaleToZeroGracePeriod', [model({ backends: [backend({ scaleToZeroGracePeriod: '5m' })] })], "Warning: Model/qwen spec.backends[0].scaleToZeroGracePeriod '300s': is not honoured: an HPA keeps at least one replica. Remove it, or scale to zero with KEDA."],
    ['Model costExpansionRatePercent', [model({ costExpansionRatePercent: 200 })], "Warning: Model/qwen spec.costExpansionRatePercent 200: tunes Kthena's cost optimizer across backends, and each backend here scales on its own HPA. Remove it."],
    ['Model owner', [model({ owner: 'team-a' })], "Warning: Model/qwen spec.owner 'team-a': is a registry annotation of Kthena with no effect on the served objects; it is kept as the annotation model.inferkit.dev/owner. Remove it, or keep it as documentation."],
    ['Model maxReplicas without a policy', [model({ backends: [backend({ maxReplicas: 3 })] })], 'Warning: Model/qwen spec.backends[0].maxReplicas 3: has no autoscaling policy to use it, so the backend runs minReplicas (1). Give an autoscalingPolicy, or set maxReplicas to minReplicas.'],
    ['Model policy shared by backends', [model({ backends: [backend(), backend({ name: 'b' })], autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }] } })],
      'Warning: Model/qwen spec.autoscalingPolicy: scales the backends together in Kthena (by cost), and here each backend has its own HPA with this policy within its range. Give each backend its own minReplicas and maxReplicas for its share.'],
    ['Model of several backends without a gateway', [model({ backends: [backend(), backend({ name: 'b' })] })], "Warning: Model/qwen spec.gateway: are not given, so no route splits the model's traffic by routeWeight or applies modelMatch: each backend's Service serves on its own. Give the Gateway to route through (inferkit synth --gateway NAMESPACE/NAME)."],
    ['Model cacheURI with a path', [model({ backends: [backend({ cacheURI: 'pvc://models/qwen' })] })], "Warning: Model/qwen spec.backends[0].cacheURI 'pvc://models/qwen': keeps the weights under /qwen in Kthena; inferkit keeps them at the repository's path from the claim's root. Give pvc://models."],
    ['Model cacheURI on the host', [model({ backends: [backend({ cacheURI: 'hostpath://tmp/cache' })] })], "Warning: Model/qwen spec.backends[0].cacheURI 'hostpath://tmp/cache': is a hostPath volume, which PodSecurity restricted forbids, so each pod downloads the weights to an emptyDir. Keep the cache in a PersistentVolumeClaim: pvc://<claim>."],
    ['policy tolerance', [model({ backends: [backend({ autoscalingPolicy: { tolerancePercent: 5, metrics: [{ metricName: 'm', targetValue: '1' }] } })] })], "Warning: Model/qwen spec.backends[0].autoscalingPolicy.tolerancePercent 5: is not 10: the HPA tolerates the cluster's deviation (--horizontal-pod-autoscaler-tolerance, 10% by default), not the policy's. Set the controller manager's tolerance, or remove tolerancePercent."],
    ['policy scale to zero', [model({ backends: [backend({ minReplicas: 0, maxReplicas: 2, autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }] } })] })], 'Warning: Model/qwen spec.backends[0].minReplicas 0: asks to scale to zero, which an HPA does not do (the HPAScaleToZero feature gate is alpha), so at least 1 replica runs. Use minReplicas 1, or scale to zero with KEDA.'],
  ])('warns: %s', (_, docs, warning) => {
    const { code, err } = synthDocs(docs);
    expect(code).toBe(0);
    expect(err.split('\n')).toContain(warning);
  });

  test.each<[string, object[], string, string[]?]>([
    ['a disaggregated backend', [model({ backends: [backend({ type: 'vLLMDisaggregated' })] })], "spec.backends[0].type 'vLLMDisaggregated' is a prefill/decode backend, which inferkit does not compile from a Model. Write its prefill and decode workers as the roles of a ModelServing (or ModelInfer), which inferkit compiles with gang scheduling."],
    ['an engine without an image', [model({ backends: [backend({ type: 'MindIE' })] })], "spec.backends[0].type 'MindIE' is an engine inferkit has no image and flags for. Use vLLM or SGLang."],
    ['no engine', [model({ backends: [backend({ type: undefined })] })], 'spec.backends[0].type is missing. Give the engine: vLLM or SGLang.'],
    ['no backend name', [model({ backends: [backend({ name: undefined })] })], 'spec.backends[0].name is missing. Name the backend such as vllm-a100.'],
    ['a backend name that is no label', [model({ backends: [backend({ name: 'A_1' })] })], "spec.backends[0].name 'A_1' is not a DNS-1123 label. Name the backend such as vllm-a100."],
    ['no modelURI', [model({ backends: [backend({ modelURI: undefined })] })], 'spec.backends[0].modelURI is missing. Give where the weights come from, such as hf://Qwen/Qwen2.5-0.5B-Instruct.'],
    ['an s3 modelURI', [model({ backends: [backend({ modelURI: 's3://bucket/qwen' })] })], "spec.backends[0].modelURI 's3://bucket/qwen' is not an hf:// or pvc:// URI, the sources inferkit fetches or mounts. Copy the weights to the Hugging Face Hub or a PersistentVolumeClaim, and give hf://org/repo or pvc://claim/path."],
    ['two workers', [model({ backends: [backend({ workers: [{ type: 'prefill' }, { type: 'decode' }] })] })], 'spec.backends[0].workers 2 is not one worker: inferkit compiles a backend of one server worker. Give one worker of type server; write several (prefill, decode, coordinator...) as the roles of a ModelServing.'],
    ['a worker that is no server', [model({ backends: [backend({ workers: [{ type: 'decode' }] })] })], "spec.backends[0].workers[0].type 'decode' is not a server worker. Use type server; write prefill and decode workers as the roles of a ModelServing."],
    ['a multi-pod worker', [model({ backends: [backend({ workers: [{ pods: 2 }] })] })], 'spec.backends[0].workers[0].pods 2 spans several pods, which a backend Deployment cannot gang-schedule. Use one pod, or write the backend as a ModelServing role with workerReplicas.'],
    ['worker replicas', [model({ backends: [backend({ workers: [{ replicas: 2 }] })] })], "spec.backends[0].workers[0].replicas 2 is not 1: the backend's replicas count its server pods. Remove it and set the backend's minReplicas and maxReplicas."],
    ['booster worker replicas', [booster({ workers: [{ replicas: 2 }] })], "spec.backend.workers[0].replicas 2 is not 1: the backend's replicas count its server pods. Remove it and set spec.backend.replicas."],
    ['a config that is no mapping', [model({ backends: [backend({ workers: [{ config: ['--x'] }] })] })], 'spec.backends[0].workers[0].config ["--x"] is not an object of engine settings. Write the engine arguments as a mapping, such as max-model-len: 4096.'],
    ['a config flag inferkit sets', [model({ backends: [backend({ workers: [{ config: { 'served-model-name': 'x' } }] })] })], "spec.backends[0].workers[0].config.served-model-name 'x' is set by inferkit from the model name and the LoRA adapters. Remove it."],
    ['an adapter name that is no label', [model({ backends: [backend({ loraAdapters: [{ name: 'SQL', artifactURL: 'hf://a/b' }] })] })], "spec.backends[0].loraAdapters[0].name 'SQL' is not a DNS-1123 label. Name the adapter such as sql-lora."],
    ['an adapter without artifact', [model({ backends: [backend({ loraAdapters: [{ name: 'sql' }] })] })], 'spec.backends[0].loraAdapters[0].artifactURL is missing. Give where the adapter comes from, such as hf://org/adapter.'],
    ['an adapter from s3', [model({ backends: [backend({ loraAdapters: [{ name: 'sql', artifactURL: 's3://b/sql' }] })] })], "spec.backends[0].loraAdapters[0].artifactURL 's3://b/sql' is not an hf:// or pvc:// URI, the sources inferkit fetches or mounts. Copy the adapter to the Hugging Face Hub or a PersistentVolumeClaim."],
    ['an adapter twice', [model({ backends: [backend({ loraAdapters: [{ name: 'sql', artifactURL: 'hf://a/b' }, { name: 'sql', artifactURL: 'hf://a/c' }] })] })], "spec.backends[0].loraAdapters[1].name 'sql' is given twice, or is the model's name. Give each adapter its own name."],
    ['a cacheURI of another scheme', [model({ backends: [backend({ cacheURI: 'pvc:/x' })] })], "spec.backends[0].cacheURI 'pvc:/x' is not a pvc:// or hostpath:// URI. Give pvc://<claim>."],
    ['no minReplicas', [model({ backends: [backend({ minReplicas: undefined })] })], 'spec.backends[0].minReplicas is missing or negative. Give the fewest replicas, 0 or more.'],
    ['maxReplicas below minReplicas', [model({ backends: [backend({ minReplicas: 3, maxReplicas: 2 })] })], 'spec.backends[0].maxReplicas 2 is missing, below 1 or below minReplicas. Give the most replicas, at least minReplicas and 1.'],
    ['a route weight beyond 100', [model({ backends: [backend({ routeWeight: 120 })] })], 'spec.backends[0].routeWeight 120 is not a percentage. Use 0 to 100.'],
    ['booster replicas missing', [booster({ replicas: undefined })], 'spec.backend.replicas is missing. Give the number of replicas.'],
    ['a model name that is no label', [model({ name: 'Qwen 2' })], "spec.name 'Qwen 2' is not a DNS-1123 label. Name the model such as qwen-7b."],
    ['no backends', [model({ backends: [] })], 'spec.backends is missing. Give at least one backend.'],
    ['a backend twice', [model({ backends: [backend(), backend()] })], "spec.backends[1].name 'vllm' is given twice. Give each backend its own name."],
    ['a duration that is none', [model({ backends: [backend({ scaleToZeroGracePeriod: 'soon' })] })], "spec.backends[0].scaleToZeroGracePeriod 'soon' is not a duration. Write it as 15s, 5m or 1h30m."],
    ['two URI matches', [model({ modelMatch: { uri: { exact: '/a', prefix: '/b' } } })], 'spec.modelMatch.uri {"exact":"/a","prefix":"/b"} gives more than one of exact, prefix and regex. Give one of them.'],
    ['a policy without metric name', [model({ autoscalingPolicy: { metrics: [{ targetValue: '1' }] } })], 'spec.autoscalingPolicy.metrics[0].metricName is missing. Name the metric, such as vllm:num_requests_waiting.'],
    ['a target value that is no quantity', [model({ autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: 'lots' }] } })], "spec.autoscalingPolicy.metrics[0].targetValue 'lots' is not a quantity. Write the target value per pod, such as 10 or 500m."],
    ['a policy without metrics', [model({ autoscalingPolicy: { metrics: [] } })], 'spec.autoscalingPolicy.metrics [] is empty. Give at least one metric and its target value.'],
    ['a select policy', [model({ autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }], behavior: { scaleDown: { selectPolicy: 'Xor' } } } })], "spec.autoscalingPolicy.behavior.scaleDown.selectPolicy 'Xor' is not Or or And. Write Or or And."],
    ['a policy period beyond the HPA\'s', [model({ autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }], behavior: { scaleDown: { period: '1h' } } } })], "spec.autoscalingPolicy.behavior.scaleDown.period '3600s' is outside the 1s to 30m an HPA policy period may be. Give a period from 1s to 30m."],
    ['a stabilization window beyond the HPA\'s', [model({ autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }], behavior: { scaleDown: { stabilizationWindow: '2h' } } } })], "spec.autoscalingPolicy.behavior.scaleDown.stabilizationWindow '7200s' is more than the hour an HPA stabilization window may be. Give at most 1h."],
    ['a panic period beyond the HPA\'s', [model({ autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }], behavior: { scaleUp: { panicPolicy: { period: '31m' } } } } })], "spec.autoscalingPolicy.behavior.scaleUp.panicPolicy.period '1860s' is outside the 1s to 30m an HPA policy period may be. Give a period from 1s to 30m."],
    ['a panic rate of zero', [model({ autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }], behavior: { scaleUp: { panicPolicy: { percent: 0 } } } } })], 'spec.autoscalingPolicy.behavior.scaleUp.panicPolicy.percent 0 is not a percentage. Use 1 or more.'],
    ['a metric the HPA cannot name', [model({ autoscalingPolicy: { metrics: [{ metricName: 'a/b', targetValue: '1' }] } })], "spec.autoscalingPolicy.metrics[0].metricName 'a/b' is not a metric name the HPA accepts (no / or %). Use the name your metrics adapter serves, such as vllm:num_requests_waiting."],
    ['a heterogeneous target', [policy({ heterogeneousTarget: { params: [] } }, 'workload.serving.volcano.sh/v1alpha1')], "spec.heterogeneousTarget '(set)' asks Kthena's optimizer to split replicas across several ModelServings by cost, which no Kubernetes autoscaler does. Give each ModelServing (or Model backend) its own homogeneousTarget policy, with the replica range it may use."],
    ['a disaggregated target', [policy({ disaggregatedTarget: { roles: {} } }, 'workload.serving.volcano.sh/v1alpha1')], "spec.disaggregatedTarget '(set)' scales the prefill and decode roles of one ModelServing together by a ratio, and a role of a group is not a scalable object outside Kthena's controller. Remove it; set the roles' replicas in the ModelServing, or scale whole groups with a new synth."],
    ['a policy of today without target', [policy({}, 'workload.serving.volcano.sh/v1alpha1')], 'spec.homogeneousTarget is missing, so the policy scales nothing. Give homogeneousTarget with the targetRef and replica range.'],
    ['a target with metric sources', [policy({ homogeneousTarget: { minReplicas: 1, maxReplicas: 2, target: { targetRef: { name: 'x' }, metricSources: {} } } }, 'workload.serving.volcano.sh/v1alpha1')],
      "spec.homogeneousTarget.target.metricSources {} tells Kthena's autoscaler where to scrape pods, but the HPA inferkit writes reads metrics from the cluster's custom metrics API. Remove it, and have your metrics adapter (such as prometheus-adapter) serve the policy's metrics for the pods."],
    ['a target without name', [policy({ homogeneousTarget: { minReplicas: 1, maxReplicas: 2, target: { targetRef: { kind: 'ModelServing' } } } }, 'workload.serving.volcano.sh/v1alpha1')], 'spec.homogeneousTarget.target.targetRef.name is missing. Name the object to scale.'],
    ['a target without minReplicas', [policy({ homogeneousTarget: { maxReplicas: 2, target: { targetRef: { name: 'x' } } } }, 'workload.serving.volcano.sh/v1alpha1')], 'spec.homogeneousTarget.minReplicas is missing or negative. Give the fewest replicas.'],
    ['a target with maxReplicas below minReplicas', [policy({ homogeneousTarget: { minReplicas: 3, maxReplicas: 2, target: { targetRef: { name: 'x' } } } }, 'workload.serving.volcano.sh/v1alpha1')], 'spec.homogeneousTarget.maxReplicas 2 is missing, below 1 or below minReplicas. Give the most replicas, at least minReplicas.'],
    ['a binding without policy', [binding({ policyRef: {} })], 'spec.policyRef.name is missing. Name the AutoscalingPolicy to apply.'],
    ['an optimizer binding', [binding({ scalingConfiguration: undefined, optimizerConfiguration: { params: [] } })], "spec.optimizerConfiguration '(set)' asks Kthena's optimizer to split replicas across several ModelInfers by cost, which no Kubernetes autoscaler does. Bind the policy to each ModelInfer with its own scalingConfiguration and replica range."],
    ['a binding without configuration', [binding({ scalingConfiguration: undefined })], 'spec.scalingConfiguration is missing. Give scalingConfiguration with the target and its replica range.'],
    ['a binding to a policy not given', [model(), simpleInfer(), binding()], "Unable to synthesize AutoscalingPolicyBinding/b: spec.policyRef 'p' names no AutoscalingPolicy in the given files. Add the registry.matrixinfer.ai/v1alpha1 AutoscalingPolicy (in namespace default) to the input."],
    ['a binding to a ModelInfer not given', [policy(), binding()], "Unable to synthesize AutoscalingPolicyBinding/b: its target ModelInfer 'infer' is none of the ModelInfers, ModelServings or Kthena Model backends in the given files. Add the ModelInfer (in namespace default) to the input, or name one that is."],
    ['a binding to an autoscaled ModelInfer', [model(), simpleInfer({ autoscaling: { maxReplicas: 3 } }), policy(), binding()], "Unable to synthesize AutoscalingPolicyBinding/b: its target ModelInfer 'infer' has autoscaling, which makes its own HPA. Remove one of the two autoscalers."],
    ['a binding to a roles-form ModelInfer', [policy(), binding(), { apiVersion: 'workload.matrixinfer.ai/v1alpha1', kind: 'ModelInfer', metadata: { name: 'infer' }, spec: { schedulerName: 'volcano', template: { roles: [{ name: 'r', workerReplicas: 0, entryTemplate: { spec: { containers: [{ name: 'c', image: 'x' }] } } }] } } }],
      "Unable to synthesize AutoscalingPolicyBinding/b: its target ModelInfer 'infer' runs its groups as workloads fixed at synth, which no autoscaler can scale. Scale it by its replicas in a new synth, or autoscale a simple-form ModelInfer."],
    ['a ModelInfer bound twice', [model(), simpleInfer(), policy(), binding(), { ...binding(), metadata: { name: 'b2' } }],
      "Unable to synthesize AutoscalingPolicyBinding/b2: its target ModelInfer 'infer' is scaled by AutoscalingPolicyBinding/b already. Scale it from one place."],
    ['a policy on an autoscaled backend', [model({ backends: [backend({ maxReplicas: 2, autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }] } })] }), policy(),
      binding({ scalingConfiguration: { minReplicas: 1, maxReplicas: 3, target: { targetRef: { kind: 'ModelInfer', name: 'qwen-vllm' } } } })],
    "Unable to synthesize AutoscalingPolicyBinding/b: its target ModelInfer 'qwen-vllm' is scaled by its Model's own autoscalingPolicy. Remove one of the two policies."],
    ['a simple ModelInfer of a Model of two backends', [model({ backends: [backend(), backend({ name: 'b' })] }), simpleInfer()], "Unable to synthesize ModelInfer/infer: spec.modelRef 'qwen' has 2 backends (vllm, b), and a simple-form ModelInfer runs one. Reference a Model with one backend, or let the Model run its backends itself."],
    ['a simple ModelInfer of an autoscaled Model', [model({ backends: [backend({ maxReplicas: 2, autoscalingPolicy: { metrics: [{ metricName: 'm', targetValue: '1' }] } })] }), simpleInfer()], "Unable to synthesize ModelInfer/infer: spec.modelRef 'qwen' is scaled by its own autoscaling policy, so the ModelInfer cannot set its replicas. Remove the Model's autoscalingPolicy, or use the Model alone."],
    ['a ModelServer engine', [server({ inferenceEngine: 'TGI' })], "spec.inferenceEngine 'TGI' is not vLLM or SGLang. Write vLLM or SGLang."],
    ['a ModelServer selecting everything', [server({ workloadSelector: { matchLabels: {} } })], "spec.workloadSelector.matchLabels is empty, so it would select every pod of the namespace. Give the labels of the model's pods."],
    ['a ModelServer port', [server({ workloadPort: { port: 0 } })], "spec.workloadPort.port 0 is not a port. Give the engine's port, such as 8000."],
    ['a ModelServer timeout', [server({ trafficPolicy: { timeout: 'long' } })], "spec.trafficPolicy.timeout 'long' is not a duration. Write it as 30s or 5m."],
    ['a ModelServer over https', [server({ workloadPort: { port: 8443, protocol: 'https' } })], "spec.workloadPort.protocol 'https' is not http: the endpoint picker sends plain HTTP to the pods. Serve plain HTTP inside the cluster (the gateway terminates TLS)."],
    ['a PD group of several labels', [server({ workloadSelector: { matchLabels: { app: 'q' }, pdGroup: { groupKey: 'g', prefillLabels: { a: 'p', b: 'x' }, decodeLabels: { a: 'd' } } } })], 'spec.workloadSelector.pdGroup {"prefillLabels":{"a":"p","b":"x"},"decodeLabels":{"a":"d"}} does not tell prefill from decode pods by one label with two values, which is what the endpoint picker filters on. Label prefill and decode pods with one key, such as modelserving.volcano.sh/role: prefill | decode.'],
    ['a route with no name to match', [route({ modelName: '' })], "spec.modelName '' is empty and no loraAdapters are given, so the route matches no request. Give the model name clients ask for, or the LoRA adapter names."],
    ['a rate limit', [route({ rateLimit: { unit: 'second', inputTokensPerUnit: 100 } })], "spec.rateLimit '(set)' limits tokens per unit of time, which Kthena's router counts and no Gateway API object can express. Remove it, and limit requests with your gateway's own policy (such as an Envoy Gateway BackendTrafficPolicy)."],
    ['an external provider', [route({ rules: [{ targetModels: [{ externalModelProviderName: 'openai' }] }] })], "spec.rules[0].targetModels[0].externalModelProviderName 'openai' sends requests to a hosted provider through Kthena's protocol adapters, which a Gateway API route cannot do. Remove the target, or front the provider with a Service your gateway can reach and route to it with your own HTTPRoute."],
    ['a target without server', [route({ rules: [{ targetModels: [{ weight: 5 }] }] })], 'spec.rules[0].targetModels[0].modelServerName is missing. Name the ModelServer to send requests to.'],
    ['a target weight beyond 100', [route({ rules: [{ targetModels: [{ modelServerName: 'qwen-server', weight: 101 }] }] })], 'spec.rules[0].targetModels[0].weight 101 is not a percentage. Use 0 to 100.'],
    ['a rule without targets', [route({ rules: [{ targetModels: [] }] })], 'spec.rules[0].targetModels is empty. Give at least one target ModelServer.'],
    ['a route without rules', [route({ rules: [] })], 'spec.rules is empty. Give at least one rule.'],
    ['a parent that is no Gateway', [route({ parentRefs: [{ kind: 'Service', name: 'x' }] })], "spec.parentRefs[0].kind 'gateway.networking.k8s.io/Service' is not a Gateway. Attach the route to a gateway.networking.k8s.io Gateway."],
    ['a parent by port', [route({ parentRefs: [{ name: 'gw', port: 80 }] })], 'spec.parentRefs[0].port 80 selects a Gateway listener by port, which inferkit does not carry to the HTTPRoute. Select the listener by its name with sectionName.'],
    ['a target field path', [policy({ homogeneousTarget: { minReplicas: 1, maxReplicas: 2, target: { targetRef: { name: 'x', fieldPath: 'spec.x' } } } }, 'workload.serving.volcano.sh/v1alpha1')],
      "spec.homogeneousTarget.target.targetRef.fieldPath 'spec.x' points into the object, and an HPA scales whole objects. Remove fieldPath."],
    ['a rule name that is no subdomain', [server(), route({ rules: [{ name: 'Default Rule', targetModels: [{ modelServerName: 'qwen-server' }] }] })], "spec.rules[0].name 'Default Rule' "],
    ['a parent without name', [route({ parentRefs: [{ namespace: 'x' }] })], 'spec.parentRefs[0].name is missing. Name the Gateway.'],
    ['a route to a ModelServer not given', [route()], "Unable to synthesize ModelRoute/qwen-route: spec.rules[0].targetModels[0].modelServerName 'qwen-server' names no ModelServer in the given files. Add the ModelServer qwen-server (namespace default) to the input."],
    ['a ModelServer without namespace', [{ ...server(), metadata: { name: 'qwen-server' } }], "Unable to synthesize ModelServer/qwen-server: metadata.namespace is not set, and the endpoint picker's RoleBinding is bound to its namespace. Give the ModelServer its namespace."],
    ['a routed Model without namespace', [model({ backends: [backend(), backend({ name: 'b' })] })], "Unable to synthesize Model/qwen: metadata.namespace is not set, and the endpoint pickers of the route's ModelServers are bound to their namespace. Set the namespace (metadata.namespace), or give the chart one.", ['--gateway', 'edge/public']],
    ['a route without gateway', [server(), route({ parentRefs: undefined })], 'Unable to synthesize ModelRoute/qwen-route: spec.parentRefs is empty: Kthena attaches the route to every Gateway of its namespace, and an HTTPRoute names its Gateways. Name the Gateway in spec.parentRefs, or give it with --gateway NAMESPACE/NAME.'],
    ['a rule for a model the route does not serve', [server(), route({ rules: [{ modelMatch: { body: { model: 'other' } }, targetModels: [{ modelServerName: 'qwen-server' }] }] })], "spec.rules[0].modelMatch.body.model 'other' is none of the route's names (qwen), so the rule never matches. Match one of the route's model or LoRA adapter names."],
  ])('refuses %s', (_, docs, message, flags = []) => {
    const { code, err } = synthDocs(docs, ...flags);
    expect(code).toBe(1);
    expect(err).toContain(message);
  });
});

describe('inferkit synth -f of HPAs and KEDA ScaledObjects that scale a seed kind', () => {
  const triggers = [{ type: 'prometheus', metadata: { serverAddress: 'http://prometheus.monitoring.svc:9090', query: 'sum(x)', threshold: '100' } }];
  const scaler = (scaleTargetRef: object) => ({
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: 's', namespace: 'default' },
    spec: { scaleTargetRef, minReplicaCount: 1, maxReplicaCount: 10, triggers },
  });
  const servingRef = (name: string) => ({ apiVersion: 'workload.serving.volcano.sh/v1alpha1', kind: 'ModelServing', name });

  test('one that scales the ModelServing of a ModelBooster scales the Deployment inferkit renders for it, given before or after it', () => {
    const ds = booster({ workers: [{ type: 'server', image: 'vllm/vllm-openai:v0.11.0' }] });
    for (const docs of [[scaler(servingRef('ds-vllm')), ds], [ds, scaler(servingRef('ds-vllm'))]]) {
      const result = synthDocs(docs);
      expect(result.err).toBe('');
      expect(find(result.docs, 'ScaledObject', 's').spec).toEqual({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ds-vllm' }, minReplicaCount: 1, maxReplicaCount: 10, triggers,
      });
      expect(find(result.docs, 'Deployment', 'ds-vllm').spec.replicas).toBeUndefined();
    }
  });

  test('one that scales a Deployment passes through unchanged', () => {
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 },
    };
    const result = synthDocs([hpa]);
    expect(result.code).toBe(0);
    expect(result.docs).toEqual([hpa]);
  });

  test.each([
    // volcano-sh/kthena examples/model-serving/autoscaling-with-keda.yaml (placeholders filled in, workerReplicas added as the CRD requires).
    ['a ModelServing of roles (Kthena\'s KEDA example)', () => [{
      apiVersion: 'workload.serving.volcano.sh/v1alpha1',
      kind: 'ModelServing',
      metadata: { name: 'deepseek-r1', namespace: 'default' },
      spec: {
        schedulerName: 'volcano',
        replicas: 1,
        template: {
          restartGracePeriodSeconds: 60,
          roles: ['prefill', 'decode'].map(name => ({
            name,
            replicas: 2,
            workerReplicas: 0,
            entryTemplate: { metadata: { labels: { 'model-name': 'deepseek-r1' } }, spec: { containers: [{ name: 'leader', image: 'nginx', ports: [{ containerPort: 8080 }] }] } },
          })),
        },
      },
    }, scaler(servingRef('deepseek-r1'))], "Unable to synthesize ScaledObject/s: spec.scaleTargetRef ModelServing 'deepseek-r1' (workload.serving.volcano.sh/v1alpha1) "
      + 'runs its groups as workloads fixed at synth, which no autoscaler can scale. Scale it by its replicas in a new synth, or autoscale a simple-form ModelInfer.'],
    ['a ModelServing not in the files', () => [scaler(servingRef('gone'))], "Unable to synthesize ScaledObject/s: spec.scaleTargetRef ModelServing 'gone' "
      + '(workload.serving.volcano.sh/v1alpha1) is none of the ModelInfers, ModelServings or Kthena Model backends in the given files, and inferkit compiles '
      + 'Kthena kinds into plain Kubernetes objects: nothing of that kind would exist to scale. Add the ModelServing (in namespace default) to the input, or scale a workload that exists.'],
    // The ScaledObject claims the ModelInfer first (autoscalers load before bindings); the binding is refused.
    ['a ModelInfer that an AutoscalingPolicyBinding scales too', () => [model(), simpleInfer(), policy(), binding(), scaler({ apiVersion: 'workload.matrixinfer.ai/v1alpha1', kind: 'ModelInfer', name: 'infer' })],
      "Unable to synthesize AutoscalingPolicyBinding/b: its target ModelInfer 'infer' is scaled by ScaledObject/s already. Scale it from one place."],
  ])('one that scales %s is refused', (_, docs, message) => {
    const result = synthDocs(docs());
    expect(result.code).toBe(1);
    expect(result.err).toContain(message);
  });
});
