//! The SQL shell's history file: lines entered in earlier sessions come back with the up arrow, as in Flink's SQL client.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Lines kept, in the file and in a session. */
export const HISTORY_SIZE = 1000;

/** The default history file: `$XDG_STATE_HOME/weir/sql-history`, else `~/.local/state/weir/sql-history`. */
export function defaultHistoryFile(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== '' ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'weir', 'sql-history');
}

/**
 * The lines of a history file, newest first (the order node:readline takes); none when the file
 * does not exist yet. Any other read error is thrown: a shell that silently forgot its history
 * would be a surprise later.
 */
export function loadHistory(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-HISTORY_SIZE)
    .reverse();
}

/** Writes the history (newest first, as readline keeps it) oldest line first, readable by the user only; replaces the file atomically. */
export function saveHistory(file: string, newestFirst: readonly string[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(
    temp,
    newestFirst
      .slice(0, HISTORY_SIZE)
      .reverse()
      .map((l) => `${l}\n`)
      .join(''),
    { mode: 0o600 },
  );
  renameSync(temp, file);
}
