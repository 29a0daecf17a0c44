import { fitPod, podShape, PoolCapacity } from '../../../src/placement/_capacity';

const shape = (n: number) => podShape([{ count: n, kinds: [0] }]);
const gpus = (n: number, ...nodes: string[]) => ({ pod: shape(n), ...(nodes.length ? { nodes: new Set(nodes) } : {}) });
const placed = (nodes: Array<string | undefined> | undefined) => nodes !== undefined;
const pool = (nodes: number, perNode: number[]) => new PoolCapacity({ name: 'p', nodes, devicesPerNode: [] }, perNode);
const named = (names: string[], perNode: number[]) => new PoolCapacity({ name: 'p', nodes: names.length, devicesPerNode: [], nodeNames: names }, perNode);

describe('free devices node by node', () => {
  test('a gang puts each pod on its own node', () => {
    const p = pool(2, [8]);
    expect(placed(p.placeGang([gpus(4), gpus(4)]))).toBe(true);
    // Each node has 4 left: a pod of 8 no longer fits, though 8 devices are free in all.
    expect(p.freeTotal).toEqual([8]);
    expect(placed(p.placeGang([gpus(8)]))).toBe(false);
    expect(placed(p.placeGang([gpus(4)]))).toBe(true);
  });

  test('pods go to the fullest node that fits (best fit), so whole nodes stay free', () => {
    const p = pool(2, [8]);
    expect(placed(p.placeGang([gpus(3)]))).toBe(true);
    expect(placed(p.placeGang([gpus(3)]))).toBe(true);
    expect(p.nodesWithRoom(shape(8))).toBe(1);
  });

  test('a gang that does not fit changes nothing', () => {
    const p = pool(2, [8]);
    expect(placed(p.placeGang([gpus(8), gpus(8), gpus(8)]))).toBe(false);
    expect(p.freeTotal).toEqual([16]);
    expect(p.nodesWithRoom(shape(8))).toBe(2);
  });

  test('pods that claim nothing need a node but take no devices', () => {
    expect(placed(pool(1, [8]).placeGang([gpus(0)]))).toBe(true);
    expect(placed(pool(0, [8]).placeGang([gpus(0)]))).toBe(false);
  });

  test('held devices sit on one node when they fit one, else are spread over the fullest', () => {
    const p = pool(3, [8]);
    expect(p.hold([6])).toBe(0);
    expect(p.nodesWithRoom(shape(8))).toBe(2);
    expect(p.hold([20])).toBe(2);
    expect(p.freeTotal).toEqual([0]);
  });

  test('snapshot and restore', () => {
    const p = pool(2, [8]);
    const state = p.snapshot();
    p.placeGang([gpus(8)]);
    p.restore(state);
    expect(p.freeTotal).toEqual([16]);
    expect(p.nodesWithRoom(shape(8))).toBe(2);
  });
});

describe('a pool whose nodes are named', () => {
  test('every placed pod\'s node is returned, in the order the pods were given', () => {
    const p = named(['a', 'b'], [8]);
    expect(p.placeGang([gpus(2), gpus(6)])).toEqual(['b', 'a']);
    expect(p.placeGang([gpus(0), gpus(2)])).toEqual([undefined, 'a']);
  });

  test('a pod given nodes goes only there', () => {
    const p = named(['a', 'b'], [8]);
    expect(p.placeGang([gpus(4, 'b')])).toEqual(['b']);
    expect(p.placeGang([gpus(6, 'b')])).toBeUndefined();
    expect(p.freeTotal).toEqual([12]);
  });

  test('devices held on a node are taken from that node, not best fit; the excess is returned', () => {
    const p = named(['a', 'b'], [8]);
    // The scheduler spread 5 and 3 single-GPU pods: no node has room for 8, though 8 are free.
    expect(p.hold([5], 'a')).toBe(0);
    expect(p.hold([3], 'b')).toBe(0);
    expect(p.freeTotal).toEqual([8]);
    expect(p.nodesWithRoom(shape(8))).toBe(0);
    expect(p.hold([6], 'b')).toBe(1);
  });

  test('devices held on a node the pool does not name hold nothing', () => {
    const p = named(['a'], [8]);
    expect(p.hold([8], 'gone')).toBe(0);
    expect(p.freeTotal).toEqual([8]);
  });

  test('devices held without a node fit best, as in an unnamed pool', () => {
    const p = named(['a', 'b'], [8]);
    expect(p.hold([3])).toBe(0);
    expect(p.placeGang([gpus(8)])).toEqual(['b']);
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
