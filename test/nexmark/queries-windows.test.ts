// Nexmark q5, q7, q8, q11 (windowed) as weir jobs give the hand-written loops' outputs, with window bounds, locally and on two threads.
import { describe, it } from 'vitest';
import { expectSameAsLoop } from './queries-helpers.ts';

describe('Nexmark windowed queries', () => {
  it('q5 hot items (sliding 10 s / 2 s)', async () => {
    await expectSameAsLoop('q5');
  });
  it('q7 highest bid (tumbling 10 s, two phases)', async () => {
    await expectSameAsLoop('q7');
  });
  it('q8 new users (10 s window coGroup)', async () => {
    await expectSameAsLoop('q8');
  });
  it('q11 user sessions (gap 10 s)', async () => {
    await expectSameAsLoop('q11');
  });
});
