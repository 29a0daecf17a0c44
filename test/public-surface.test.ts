// The public surface of both entry points, pinned: widening or narrowing it is a visible decision, made here.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');

/** The names an entry point exports, values and types alike, sorted. */
function exportedNames(program: ts.Program, file: string): string[] {
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(path.join(ROOT, file))!)!;
  return checker.getExportsOfModule(module).map(s => s.name).sort();
}

describe('the public surface', () => {
  const program = ts.createProgram([path.join(ROOT, 'index.ts'), path.join(ROOT, 'providers/index.ts')], {
    module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true, skipLibCheck: true, noEmit: true,
  });

  test('inferkit exports the constructs, their props and value types, the solver and the manifest kinds, nothing else', () => {
    expect(exportedNames(program, 'index.ts')).toEqual([
      'AUTOSCALING_POLICY_BINDING_KIND', 'AUTOSCALING_POLICY_KINDS', 'Accelerator', 'AssignmentState', 'AutoscalingPolicy',
      'AutoscalingPolicyManifestOptions', 'AutoscalingPolicyProps', 'AutoscalingRulesProps', 'BatchingProps', 'CacheMountOptions',
      'CacheSecretRef', 'CacheStrategy', 'ClusterSelector', 'ClusterSelectorRequirement', 'ClusterTaint', 'ClusterToleration',
      'DeploymentDeviceRequestProps', 'DeploymentEngineProps', 'DeploymentMemberProps', 'DeviceAttributeValue', 'DeviceRequestDemand',
      'DeviceRequestProps', 'EngineDemand', 'EngineMemberProps', 'EnginePhase', 'EngineProps', 'FLEXINFER_MODEL_KIND', 'FleetCluster',
      'FleetDevice', 'FleetInventory', 'FleetNodePool', 'FromManifestOptions', 'GangScheduling', 'GangSpec', 'GatewayParentProps', 'GatewayRef',
      'GpuVendor', 'GpuVendorChoice', 'INFERENCE_CLASS_KIND', 'INFERENCE_CLUSTER_KIND', 'INFERENCE_KIND', 'InferenceLabels',
      'InferenceManifestOptions', 'InferencePool', 'InferencePoolLabels', 'InferencePoolProps', 'InferenceService', 'InferenceServiceProps',
      'KTHENA_MODEL_KIND', 'KthenaApi', 'KthenaBackendProps', 'KthenaEngine', 'KthenaModel', 'KthenaModelProps', 'KubernetesVersion',
      'LORA_MOUNT_PATH', 'LedgerEntry', 'LedgerLabels', 'LiteLlmProps', 'LoadedModelVersion', 'LoraAdapterProps', 'LoraLoading',
      'MODEL_BOOSTER_KIND', 'MODEL_CACHE_KIND', 'MODEL_DEPLOYMENT_KIND', 'MODEL_INFER_KINDS', 'MODEL_NAME_HEADER', 'MODEL_REPLICA_KIND',
      'MODEL_ROUTE_KINDS', 'MODEL_SERVER_KINDS', 'MODEL_VERSION_KIND', 'Manifest', 'MemberAssignment', 'MemberDemand', 'MemberRole', 'Model',
      'ModelCache', 'ModelCacheProps', 'ModelCapabilitiesProps', 'ModelDeployment', 'ModelDeploymentFleetManifests', 'ModelDeploymentProps',
      'ModelFileCacheProps', 'ModelGpuProps', 'ModelImageProps', 'ModelInfer', 'ModelInferAutoscalingProps', 'ModelInferLabels',
      'ModelInferProps', 'ModelLabels', 'ModelMatchProps', 'ModelProps', 'ModelReplica', 'ModelReplicaLabels', 'ModelReplicaManifestOptions',
      'ModelReplicaProps', 'ModelRoute', 'ModelRouteProps', 'ModelRouteRuleProps', 'ModelServer', 'ModelServerProps', 'ModelServingLabels',
      'ModelSizingProps', 'ModelSource', 'ModelWorkload', 'NODE_POOL_LABEL', 'NetworkTopology', 'NetworkTopologyMode', 'NetworkTopologySpec',
      'ObjectMetadataProps', 'PanicPolicyProps', 'Placement', 'PlacementDemand', 'PlacementRejection', 'PlacementResult', 'PodDefaults',
      'PolicyMetricProps', 'PredictorAutoScaleProps', 'PredictorProps', 'PrefillDecodeProps', 'PrometheusSource', 'RecoveryPolicy',
      'RejectionReason', 'RenderedReplica', 'ReplicaAssignment', 'ResolvedModelInfer', 'ResolvedRole', 'ResolvedRollout', 'RoleEnv', 'RoleProps',
      'RolloutLevel', 'RolloutStrategyProps', 'RouteTargetProps', 'ScaleTarget', 'ScalingRateProps', 'ScalingSelect', 'SchedulingMode', 'SecretKeyRef', 'ServerlessProps',
      'ServingMode', 'ServingProps', 'SourceKind', 'SpecError', 'SpecIssue', 'StringMatch', 'TaintEffect', 'UnplacedReplica',
      'VolcanoGangOptions', 'Warnings', 'WorkloadBackend', 'isSimpleModelInfer', 'place',
    ]);
  });

  test('inferkit/pulumi exports the components, the Placement, Rollout and WorkloadStatus resources and their args, nothing else', () => {
    expect(exportedNames(program, 'providers/index.ts')).toEqual([
      'ClusterConnection', 'ClusterRolloutArgs', 'Condition', 'FleetClusterArgs', 'InferenceService', 'InferenceServiceArgs', 'K8sObject', 'LiveCluster', 'Model',
      'ModelArgs', 'ModelDeployment', 'ModelDeploymentArgs', 'ModelInfer', 'ModelInferArgs', 'ObservedStatus', 'OnFailure', 'Placement', 'PlacementArgs',
      'PlacementCluster', 'ReplicaOutput', 'ReplicaStatus', 'Rollout', 'RolloutArgs', 'RolloutError', 'RolloutResult', 'RolloutSet', 'RolloutStrategy',
      'RolloutUnit', 'SeedKind', 'WorkloadRef', 'WorkloadStatus', 'WorkloadStatusArgs',
    ]);
  });

  test('a cdk8s pipeline loads inferkit without loading Pulumi (inferkit/pulumi does)', () => {
    const loads = (entry: string) => {
      let loaded = false;
      jest.isolateModules(() => {
        jest.doMock('@pulumi/pulumi', () => {
          loaded = true;
          return jest.requireActual('@pulumi/pulumi');
        });
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading is what is measured
        require(entry);
      });
      return loaded;
    };
    expect(loads('../index')).toBe(false);
    expect(loads('../providers')).toBe(true);
  });
});

// The layers of docs/ARCHITECTURE.md: imports point down only.
describe('the layers', () => {
  /** Every module specifier a folder's files import, by file. */
  function importsOf(dir: string): Array<{ file: string; spec: string; local: boolean }> {
    const files = (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]).filter(f => f.endsWith('.ts'));
    return files.flatMap(f => {
      const text = fs.readFileSync(path.join(ROOT, dir, f), 'utf8');
      const specs = ts.preProcessFile(text, true, true).importedFiles.map(m => m.fileName);
      return specs.map(spec => {
        const local = spec.startsWith('.');
        return { file: path.join(dir, f), spec: local ? path.relative(ROOT, path.join(ROOT, dir, path.dirname(f), spec)) : spec, local };
      });
    });
  }
  const outside = (imports: ReturnType<typeof importsOf>, allowed: RegExp) => imports.filter(i => !allowed.test(i.spec));

  test('src/ imports nothing of ours above it, and neither cdk8s nor Pulumi', () => {
    expect(outside(importsOf('src'), /^(src(\/|$)|yaml$|re2js$|@marcbachmann\/cel-js$|fs$|path$|crypto$|zlib$)/)).toEqual([]);
  });

  test('constructs/ import the core, the generated imports and cdk8s, never providers/ or Pulumi', () => {
    expect(outside(importsOf('constructs'), /^(src(\/|$)|imports(\/|$)|constructs(\/|$)|cdk8s$|cdk8s-plus-34$|constructs$|yaml$|fs$|path$|zlib$)/)).toEqual([]);
  });

  test('examples import the public entry points only (index.ts, providers/index.ts)', () => {
    const ours = importsOf('examples').filter(i => i.local && !i.spec.startsWith('examples/'));
    expect(ours.filter(i => !['index', 'providers', 'providers/index'].includes(i.spec))).toEqual([]);
  });

  test('the CLI takes from providers/ only the Kubernetes client, the live reading and the rollout executor, which do not load Pulumi', () => {
    const fromProviders = importsOf('cli').filter(i => i.spec.startsWith('providers'));
    expect([...new Set(fromProviders.map(i => i.spec))].sort()).toEqual(['providers/_kube', 'providers/observe', 'providers/rollout-executor']);
    expect(importsOf('providers').filter(i => /^providers\/(_kube|observe|rollout-executor)\.ts$/.test(i.file) && i.spec.startsWith('@pulumi'))).toEqual([]);
  });
});
