import { fitPod, podShape, PoolCapacity } from '../../../src/placement/_capacity';

const gpus = (n: number) => podShape([{ count: n, kinds: [0] }]);
const pool = (nodes: number, perNode: number[]) => new PoolCapacity({ name: 'p', nodes, devicesPerNode: [] }, perNode);

describe('free devices node by node', () => {
  test('a gang puts each pod on its own node', () => {
    const p = pool(2, [8]);
    expect(p.placeGang([gpus(4), gpus(4)])).toBe(true);
    // Each node has 4 left: a pod of 8 no longer fits, though 8 devices are free in all.
    expect(p.freeTotal).toEqual([8]);
    expect(p.placeGang([gpus(8)])).toBe(false);
    expect(p.placeGang([gpus(4)])).toBe(true);
  });

  test('pods go to the fullest node that fits (best fit), so whole nodes stay free', () => {
    const p = pool(2, [8]);
    expect(p.placeGang([gpus(3)])).toBe(true);
    expect(p.placeGang([gpus(3)])).toBe(true);
    expect(p.nodesWithRoom(gpus(8))).toBe(1);
  });

  test('a gang that does not fit changes nothing', () => {
    const p = pool(2, [8]);
    expect(p.placeGang([gpus(8), gpus(8), gpus(8)])).toBe(false);
    expect(p.freeTotal).toEqual([16]);
    expect(p.nodesWithRoom(gpus(8))).toBe(2);
  });

  test('pods that claim nothing need a node but take no devices', () => {
    expect(pool(1, [8]).placeGang([gpus(0)])).toBe(true);
    expect(pool(0, [8]).placeGang([gpus(0)])).toBe(false);
  });

  test('held devices sit on one node when they fit one, else are spread over the fullest', () => {
    const p = pool(3, [8]);
    expect(p.hold([6])).toBe(0);
    expect(p.nodesWithRoom(gpus(8))).toBe(2);
    expect(p.hold([20])).toBe(2);
    expect(p.freeTotal).toEqual([0]);
  });

  test('snapshot and restore', () => {
    const p = pool(2, [8]);
    const state = p.snapshot();
    p.placeGang([gpus(8)]);
    p.restore(state);
    expect(p.freeTotal).toEqual([16]);
    expect(p.nodesWithRoom(gpus(8))).toBe(2);
  });
});

describe('fitting one pod on one node', () => {
  test.each<[number[], Array<[number, number[]]>, number[] | null]>([
    [[8], [[8, [0]]], [8]],
    [[8], [[9, [0]]], null],
    [[2, 3], [[4, [0, 1]]], [2, 2]],
    // The first request could take either kind; the second only kind 0: the first must leave kind 0 alone.
    [[1, 1], [[1, [0, 1]], [1, [0]]], [1, 1]],
    [[1, 0], [[1, [0, 1]], [1, [0]]], null],
    [[2, 1], [[2, [0, 1]], [1, [0]]], [2, 1]],
  ])('free %j, requests %j: takes %j', (free, requests, taken) => {
    expect(fitPod(free, podShape(requests.map(([count, kinds]) => ({ count, kinds }))))).toEqual(taken);
  });
});
