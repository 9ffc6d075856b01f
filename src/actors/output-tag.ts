//! OutputTag: names a side output, which a process function writes with `ctx.output(tag, value)`.

/** Names a side output of type T; read it with `stream.getSideOutput(tag)`. */
export class OutputTag<T> {
  /** @internal the record type, for inference only */
  declare readonly __type?: T;
  constructor(
    /** The side output's id, unique within the operator. */
    readonly id: string,
  ) {
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('an OutputTag needs a non-empty id');
  }
}
