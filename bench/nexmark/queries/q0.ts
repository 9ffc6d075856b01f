// Nexmark q0 (pass-through): every bid reaches the sink unchanged.
import { defineJob } from '../../../src/index.ts';
import { bidsOf, finish, nexmarkEventsOf } from '../lib.ts';

/** q0: the bid view, as is. */
export default defineJob((env, params) => {
  finish(bidsOf(nexmarkEventsOf(env, params)), 'q0', params);
});
