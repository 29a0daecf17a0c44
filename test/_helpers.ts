import { SpecError } from '../src';

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
