/**
 * A JSON preview (an asset's first rows, a run's result) as a table or as text.
 * Values are rendered as text: React escapes them.
 */
import React from 'react';

import { useTrans } from '../i18n';
import { markKey } from '../outputs';
import { IPreview } from '../tokens';
import { formatShape } from '../utils';

/** Floats to 6 significant digits (the full value is in the cell's title). */
function cell(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return String(Number(value.toPrecision(6)));
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

function full(value: unknown): string | undefined {
  return typeof value === 'number' ? String(value) : undefined;
}

export function PreviewTable(props: {
  preview: IPreview;
  testid?: string;
  /** Cells to mark ("row,column" of the data cells -> the rules they fail). */
  marks?: ReadonlyMap<string, string[]>;
  /** Show a table's row labels (a result's: e.g. the groups of a groupby). */
  showIndex?: boolean;
}): JSX.Element {
  const trans = useTrans();
  const { preview } = props;
  const shape = formatShape(preview.shape);
  const table = preview.kind === 'text' ? null : preview;
  const rows = table?.rows ?? [];
  const columns = table?.columns ?? [];
  const isTable = rows.length > 0;
  const index =
    props.showIndex &&
    preview.kind === 'dataframe' &&
    preview.index?.length === rows.length
      ? preview.index
      : null;
  const marks = props.marks;
  return (
    <div
      className="jp-syft-preview"
      data-testid={props.testid ?? 'syft-preview'}
      data-kind={preview.kind}
    >
      {shape && (
        <div className="jp-syft-preview-shape">
          {trans.__('shape %1', shape)}
        </div>
      )}
      {isTable ? (
        <div className="jp-syft-table-scroll">
          <table className="jp-syft-table">
            {columns.length > 0 && (
              <thead>
                <tr>
                  {index && <th className="jp-syft-index" />}
                  {columns.map((column, position) => (
                    <th key={position}>{cell(column)}</th>
                  ))}
                </tr>
              </thead>
            )}
            <tbody>
              {rows.map((row, rowIndex) => (
                <tr key={rowIndex}>
                  {index && (
                    <th className="jp-syft-index" scope="row">
                      {index[rowIndex]}
                    </th>
                  )}
                  {(Array.isArray(row) ? row : [row]).map((value, position) => {
                    const rules = marks?.get(markKey(rowIndex, position));
                    if (!rules) {
                      return (
                        <td key={position} title={full(value)}>
                          {cell(value)}
                        </td>
                      );
                    }
                    const fails = trans.__('fails: %1', rules.join(', '));
                    return (
                      <td
                        key={position}
                        className="jp-syft-cell-fail"
                        data-testid="syft-cell-fail"
                        data-rules={rules.join(' ')}
                        title={`${fails}${full(value) ? ` (${full(value)})` : ''}`}
                        aria-label={`${cell(value)}, ${fails}`}
                      >
                        <span className="jp-syft-cell-fail-mark" aria-hidden>
                          !
                        </span>
                        {cell(value)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <pre className="jp-syft-preview-text">
          {preview.kind === 'text' ? preview.text : ''}
        </pre>
      )}
    </div>
  );
}
