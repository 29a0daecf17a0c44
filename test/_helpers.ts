import { App, Chart } from 'cdk8s';
import { GangScheduling, ModelInfer } from '../index';
import { K8sObject, SpecError } from '../src';

/** The rendered objects of a ModelInfer `llm` in namespace `ml`: `replicas` groups of an entry and a worker, image `vllm:v1`. */
export function entryWorkerGroups(replicas = 2): K8sObject[] {
  const chart = new Chart(new App(), 'c', { namespace: 'ml' });
  const template = (name: string) => ({ spec: { containers: [{ name, image: 'vllm:v1' }] } });
  new ModelInfer(chart, 'llm', {
    replicas,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
  });
  return chart.toJson();
}

/** The message of the SpecError `act` throws; fails the test when it throws nothing or something else. */
export function messageOf(act: () => unknown): string {
  try {
    act();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as Error).message;
  }
  throw new Error('expected a SpecError');
}
