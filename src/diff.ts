/**
 * A small line diff (longest common subsequence), for comparing a code request with the
 * previous submission of the same function. Pure: no DOM, no JupyterLab.
 */
import { IDiffLine } from './tokens';

/** Above this many line pairs, skip the LCS table and show a full replacement. */
const MAX_CELLS = 4_000_000;

function splitLines(text: string): string[] {
  if (text === '') {
    return [];
  }
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') {
    lines.pop(); // a trailing newline is not an extra empty line
  }
  return lines;
}

/** The lines of `newText` against `oldText`, in order: same, removed and added. */
export function diffLines(oldText: string, newText: string): IDiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);

  // Common prefix and suffix are cheap and keep the table small.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) {
    start++;
  }
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }

  const out: IDiffLine[] = [];
  for (let i = 0; i < start; i++) {
    out.push({ kind: 'same', text: a[i], oldLine: i + 1, newLine: i + 1 });
  }

  const n = endA - start;
  const m = endB - start;
  if (n * m > MAX_CELLS) {
    for (let i = start; i < endA; i++) {
      out.push({ kind: 'removed', text: a[i], oldLine: i + 1 });
    }
    for (let j = start; j < endB; j++) {
      out.push({ kind: 'added', text: b[j], newLine: j + 1 });
    }
  } else {
    // lcs[i][j]: length of the LCS of a[start+i..endA) and b[start+j..endB)
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] =
          a[start + i] === b[start + j]
            ? lcs[(i + 1) * width + j + 1] + 1
            : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        out.push({
          kind: 'same',
          text: a[start + i],
          oldLine: start + i + 1,
          newLine: start + j + 1
        });
        i++;
        j++;
      } else if (
        i < n &&
        (j >= m || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])
      ) {
        out.push({
          kind: 'removed',
          text: a[start + i],
          oldLine: start + i + 1
        });
        i++;
      } else {
        out.push({ kind: 'added', text: b[start + j], newLine: start + j + 1 });
        j++;
      }
    }
  }

  for (let k = 0; endA + k < a.length; k++) {
    out.push({
      kind: 'same',
      text: a[endA + k],
      oldLine: endA + k + 1,
      newLine: endB + k + 1
    });
  }
  return out;
}

/** Whether a diff changes anything. */
export function hasChanges(diff: IDiffLine[]): boolean {
  return diff.some(line => line.kind !== 'same');
}

/** How many lines a diff adds and removes. */
export function diffCounts(diff: IDiffLine[]): {
  added: number;
  removed: number;
} {
  let added = 0;
  let removed = 0;
  for (const line of diff) {
    if (line.kind === 'added') {
      added++;
    } else if (line.kind === 'removed') {
      removed++;
    }
  }
  return { added, removed };
}
