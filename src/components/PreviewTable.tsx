/**
 * A JSON preview (an asset's first rows, a run's result) as a table or as text.
 * Values are rendered as text: React escapes them.
 */
import React from 'react';

import { useTrans } from '../i18n';
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
}): JSX.Element {
  const trans = useTrans();
  const { preview } = props;
  const shape = formatShape(preview.shape);
  const table = preview.kind === 'text' ? null : preview;
  const rows = table?.rows ?? [];
  const columns = table?.columns ?? [];
  const isTable = rows.length > 0;
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
                  {columns.map((column, index) => (
                    <th key={index}>{cell(column)}</th>
                  ))}
                </tr>
              </thead>
            )}
            <tbody>
              {rows.map((row, rowIndex) => (
                <tr key={rowIndex}>
                  {(Array.isArray(row) ? row : [row]).map((value, index) => (
                    <td key={index} title={full(value)}>
                      {cell(value)}
                    </td>
                  ))}
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
