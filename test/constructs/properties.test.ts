import { App, Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import * as fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { GangScheduling, ModelInfer, ModelInferProps, WorkloadBackend } from '../../index';
import { MAX_NAME_LENGTH, nameProblem, NameRule } from '../../src';

const label = (max: number) => fc.stringMatching(new RegExp(`^[a-z]([a-z0-9-]{0,${max - 2}}[a-z0-9])?$`));

/** Random valid ModelInfer props: 1-4 uniquely named roles, workers, backends, gang on or off. */
const validProps: fc.Arbitrary<ModelInferProps> = fc.record({
  name: label(10),
  replicas: fc.integer({ min: 0, max: 3 }),
  backend: fc.constantFrom(WorkloadBackend.STATEFUL_SET, WorkloadBackend.LEADER_WORKER_SET),
  gang: fc.boolean(),
  roles: fc.uniqueArray(fc.record({
    name: label(12),
    replicas: fc.integer({ min: 1, max: 3 }),
    workerReplicas: fc.integer({ min: 0, max: 3 }),
    gpus: fc.integer({ min: 0, max: 8 }),
    min: fc.nat(),
  }), { minLength: 1, maxLength: 4, selector: r => r.name }),
}).map(p => ({
  name: p.name,
  replicas: p.replicas,
  backend: p.backend,
  gangScheduling: p.gang
    ? GangScheduling.volcano({ minRoleReplicas: Object.fromEntries(p.roles.map(r => [r.name, r.min % (r.replicas + 1)])) })
    : GangScheduling.none(),
  roles: p.roles.map(r => {
    const template = { spec: { containers: [{ name: 'c', image: 'x', resources: r.gpus > 0 ? { limits: { 'nvidia.com/gpu': k8s.Quantity.fromNumber(r.gpus) } } : undefined }] } };
    const workerTemplate = r.workerReplicas > 0 ? template : undefined;
    return { name: r.name, replicas: r.replicas, workerReplicas: r.workerReplicas, entryTemplate: template, workerTemplate };
  }),
}));

function synthYaml(props: ModelInferProps): string {
  const app = new App({ outdir: Testing.app().outdir });
  const chart = new Chart(app, 'c', { namespace: 'ns' });
  new ModelInfer(chart, 'm', props);
  return app.synthYaml();
}

describe('for any valid ModelInfer', () => {
  test('the output is deterministic: byte-identical YAML twice', () => {
    fc.assert(fc.property(validProps, props => {
      expect(synthYaml(props)).toBe(synthYaml(props));
    }), { numRuns: 60 });
  });

  test('every object name is a DNS label of at most 63 characters', () => {
    fc.assert(fc.property(validProps, props => {
      for (const doc of parseAllDocuments(synthYaml(props)).map(d => d.toJS())) {
        expect(nameProblem(doc.metadata.name, doc.kind === 'Service' ? NameRule.DNS1035_LABEL : NameRule.DNS1123_LABEL, MAX_NAME_LENGTH)).toBeUndefined();
      }
    }), { numRuns: 60 });
  });

  test('each PodGroup\'s minMember is the sum of the gang\'s role instances times their sizes, and one exists per group', () => {
    fc.assert(fc.property(validProps, props => {
      const docs = parseAllDocuments(synthYaml(props)).map(d => d.toJS());
      const groups = docs.filter(d => d.kind === 'PodGroup');
      const gang = props.gangScheduling!.spec;
      if (!gang) {
        expect(groups).toHaveLength(0);
        return;
      }
      const expected = props.roles!.reduce((sum, r) => sum + (gang.minRoleReplicas?.[r.name] ?? r.replicas!) * (1 + r.workerReplicas!), 0);
      expect(groups).toHaveLength(props.replicas!);
      for (const g of groups) expect(g.spec.minMember).toBe(expected);
    }), { numRuns: 60 });
  });
});
