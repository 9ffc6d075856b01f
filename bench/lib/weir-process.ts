//! Runs the `weir` command as a child process and kills it with SIGKILL once its run folder holds a checkpoint: whole-process crashes for bench:chaos and the resume tests.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** How a `weir run` process ended. */
export interface WeirProcessOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

const WEIR_BIN = fileURLToPath(new URL('../../bin/weir.js', import.meta.url));

/**
 * Runs `weir <args>`. With `killAfterMs`, it waits until the run folder the command prints
 * (`weir: checkpoints go to …`) holds a first completed `chk-N`, then SIGKILLs the process that
 * long after, so each kill lands mid-stream.
 */
export function runWeirProcess(args: string[], killAfterMs: number | undefined): Promise<WeirProcessOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WEIR_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let poll: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      const folder = /weir: checkpoints go to (\S+)/.exec(stderr)?.[1];
      if (killAfterMs === undefined || folder === undefined || poll !== undefined) return;
      poll = setInterval(() => {
        let names: string[] = [];
        try {
          names = readdirSync(folder);
        } catch {
          return; // not created yet
        }
        if (!names.some((n) => /^chk-\d+$/.test(n))) return;
        clearInterval(poll);
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }, 5);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}
