//! State descriptors: a state's name and defaults, as user code declares them.

/** Declares a keyed value state: one value per key, `defaultValue` when none was set. */
export class ValueStateDescriptor<T> {
  readonly kind = 'value' as const;
  constructor(
    /** Name of the state, unique within its operator. */
    readonly name: string,
    /** What `value()` returns for a key that has no value. */
    readonly defaultValue?: T,
  ) {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('a state descriptor needs a non-empty name');
  }
}

/** Any state descriptor. */
export type StateDescriptor<T = unknown> = ValueStateDescriptor<T>;
