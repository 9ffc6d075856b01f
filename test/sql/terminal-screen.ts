//! What a terminal shows after the SQL shell's output: the live table redraws by moving the cursor up and clearing below.

/** The screen a terminal shows after `text`: `ESC[nF` moves up n lines, `ESC[0J` clears below. */
export function screen(text: string): string[] {
  const lines: string[] = [''];
  for (const part of text.split(/(\x1b\[\d+F\x1b\[0J)/)) {
    const up = /^\x1b\[(\d+)F\x1b\[0J$/.exec(part);
    if (up !== null) {
      lines.splice(lines.length - 1 - Number(up[1]), Number(up[1]) + 1, '');
      continue;
    }
    const [first, ...rest] = part.split('\n');
    lines[lines.length - 1] += first;
    lines.push(...rest);
  }
  return lines;
}
