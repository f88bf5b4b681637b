/**
 * Pure helpers of the output review: which preview cells a disclosure report's failing
 * checks name, and short summaries of an output.
 *
 * A report's check names cells by `[row label, column label]` (jupyter_syft/disclosure/
 * report.py `label()`: whitespace collapsed, cut to 40 characters, a MultiIndex joined by
 * " / "). A table preview carries its rows' labels in `index` (written by the same function)
 * and its columns as text; an array's rows and columns are numbered from 0.
 */
import { IDisclosureReport, IOutput, IPreview } from './tokens';

/** Characters of a label the checks keep (report.py MAX_LABEL). */
const MAX_LABEL = 40;

/** A label as the checks write it. */
export function normalizeLabel(value: unknown): string {
  const text = String(value ?? '')
    .split(/\s+/)
    .filter(part => part.length > 0)
    .join(' ');
  return text.length <= MAX_LABEL ? text : text.slice(0, MAX_LABEL - 1) + '…';
}

function key(row: string, column: string): string {
  return `${row}\u0000${column}`;
}

/** The cells failing checks name: `[row, column]` label -> the rules that fail it. */
export function failingCells(
  report: IDisclosureReport | null | undefined
): Map<string, { row: string; column: string; rules: string[] }> {
  const cells = new Map<
    string,
    { row: string; column: string; rules: string[] }
  >();
  for (const check of report?.checks ?? []) {
    if (check.outcome !== 'fail') {
      continue;
    }
    for (const cell of check.cells ?? []) {
      if (!Array.isArray(cell) || cell.length < 2) {
        continue;
      }
      const row = String(cell[0]);
      const column = String(cell[1]);
      const found = cells.get(key(row, column));
      if (found) {
        if (!found.rules.includes(check.rule)) {
          found.rules.push(check.rule);
        }
      } else {
        cells.set(key(row, column), { row, column, rules: [check.rule] });
      }
    }
  }
  return cells;
}

/** Where failing cells fall in a preview: `marks` by "rowIndex,columnIndex" -> rules. */
export interface ICellMarks {
  marks: Map<string, string[]>;
  /** Failing cells the preview does not show (rows beyond it, or not a table). */
  outside: number;
  /** All the cells failing checks name. */
  total: number;
}

/** The preview cell at row `r`, column `c` (0-based, data cells only). */
export function markKey(r: number, c: number): string {
  return `${r},${c}`;
}

/** Map the report's failing cells onto the preview's rows and columns. */
export function markCells(
  preview: IPreview | null | undefined,
  report: IDisclosureReport | null | undefined
): ICellMarks {
  const failing = failingCells(report);
  const marks = new Map<string, string[]>();
  if (!preview || preview.kind === 'text' || failing.size === 0) {
    return { marks, outside: failing.size, total: failing.size };
  }
  const rowCount = preview.rows.length;
  const index =
    preview.kind === 'dataframe' && preview.index && preview.index.length
      ? preview.index.map(normalizeLabel)
      : Array.from({ length: rowCount }, (_, i) => String(i));
  const columns = preview.columns.map(normalizeLabel);
  const rowsByLabel = new Map<string, number[]>();
  index.forEach((label, i) => {
    rowsByLabel.set(label, [...(rowsByLabel.get(label) ?? []), i]);
  });
  let outside = 0;
  for (const cell of failing.values()) {
    const rows = rowsByLabel.get(normalizeLabel(cell.row)) ?? [];
    let column = columns.indexOf(normalizeLabel(cell.column));
    // A Series is checked as a one-column table whose column the preview may name otherwise.
    if (column < 0 && columns.length === 1) {
      column = 0;
    }
    if (!rows.length || column < 0) {
      outside++;
      continue;
    }
    for (const r of rows) {
      marks.set(markKey(r, column), cell.rules);
    }
  }
  return { marks, outside, total: failing.size };
}

/** A person as "Name <email>" (or whichever is known). */
export function personLabel(
  person: { name: string; email: string } | null | undefined
): string {
  if (!person) {
    return '';
  }
  if (person.name && person.email) {
    return `${person.name} <${person.email}>`;
  }
  return person.name || person.email;
}

/** The order the output list shows states in: what waits for a decision first. */
const STATE_ORDER: Record<string, number> = {
  held: 0,
  withheld: 1,
  released: 2
};

/** Held first, then withheld, then released; within a state, newest first. */
export function sortOutputs(outputs: readonly IOutput[]): IOutput[] {
  return [...outputs].sort((a, b) => {
    const byState = (STATE_ORDER[a.state] ?? 3) - (STATE_ORDER[b.state] ?? 3);
    if (byState !== 0) {
      return byState;
    }
    return (b.created_at ?? '').localeCompare(a.created_at ?? '');
  });
}
