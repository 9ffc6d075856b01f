//! SqlSyntaxError: a parse error with its line, column and token (apart from the parser, so importing it does not load chevrotain).

import { ErrorCodes, WeirError } from '../core/errors.ts';

/** A parse error with its place: `syntax error at line 3, column 7: unexpected 'FORM'; expected …`. */
export class SqlSyntaxError extends WeirError {
  constructor(
    message: string,
    /** 1-based line. */
    readonly line: number,
    /** 1-based column. */
    readonly column: number,
    /** The offending token's text ('' at end of input). */
    readonly token: string,
  ) {
    super(`syntax error at line ${line}, column ${column}: ${message}`, { code: ErrorCodes.SQL_PARSE, domain: 'user' });
  }
}
