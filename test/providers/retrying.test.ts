// Requests retried while the API server is busy or starting, and only then.
import { KubeError, retrying } from '../../providers/_kube';

describe('retrying', () => {
  test('a 429 (a CRD\'s storage still initializing) and a 503 are retried until the request succeeds', async () => {
    const answers = [new KubeError(429, 'storage is (re)initializing', 'list PodGroup'), new KubeError(503, 'unavailable', 'list PodGroup')];
    let calls = 0;
    const result = await retrying(async () => {
      calls++;
      const next = answers.shift();
      if (next) throw next;
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  test('a 404, a 401 or any other error is thrown at once', async () => {
    for (const e of [new KubeError(404, 'not found', 'get x'), new KubeError(401, 'Unauthorized', 'get x'), new Error('no answer in 10000 ms')]) {
      let calls = 0;
      await expect(retrying(async () => { calls++; throw e; })).rejects.toBe(e);
      expect(calls).toBe(1);
    }
  });

  test('a server still busy after the time allowed fails with its last answer', async () => {
    const busy = new KubeError(429, 'busy', 'list x');
    await expect(retrying(async () => { throw busy; }, 300)).rejects.toBe(busy);
  });
});
