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

/** Python type names of single values: shown as a value, not as a repr. */
const SCALAR_TYPES = new Set([
  'int',
  'float',
  'bool',
  'str',
  'complex',
  'NoneType',
  'Decimal',
  'Fraction',
  'datetime',
  'date',
  'Timestamp',
  'Timedelta',
  'timedelta',
  'bool_',
  'float16',
  'float32',
  'float64',
  'longdouble',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'str_'
]);

/** True when a preview is one value (a number, a string, a date...). */
export function isScalarPreview(preview: IPreview): boolean {
  return preview.kind === 'text' && SCALAR_TYPES.has(preview.type);
}

/**
 * A preview's shape in words: "50 rows × 3 columns", "7 values", with how many rows are shown
 * when not all are.
 */
export function describeShape(
  preview: IPreview,
  trans: ReturnType<typeof useTrans>
): string {
  const shape = preview.shape ?? [];
  if (!shape.length) {
    return '';
  }
  const parts: string[] = [];
  if (shape.length === 1) {
    parts.push(trans._n('%1 value', '%1 values', shape[0]));
  } else if (shape.length === 2) {
    parts.push(
      trans._n('%1 row', '%1 rows', shape[0]) +
        ' × ' +
        trans._n('%1 column', '%1 columns', shape[1])
    );
  } else {
    parts.push(trans.__('shape %1', formatShape(shape)));
  }
  if (preview.kind === 'array' && preview.dtype) {
    parts.push(preview.dtype);
  }
  const shown = preview.kind === 'text' ? null : preview.rows.length;
  if (shown !== null && shape[0] > shown) {
    parts.push(trans.__('first %1 shown', shown));
  }
  const columns = preview.kind === 'text' ? 0 : preview.columns.length;
  if (shape.length === 2 && columns && shape[1] > columns) {
    parts.push(trans.__('first %1 columns shown', columns));
  }
  return parts.join(' · ');
}

/**
 * A run's result: a table with its shape in words, a single value as a value with its type,
 * anything else as the text the Datasite made of it (labelled with its type).
 */
export function ResultView(props: {
  preview: IPreview;
  testid?: string;
  marks?: ReadonlyMap<string, string[]>;
}): JSX.Element {
  const trans = useTrans();
  const { preview } = props;
  const testid = props.testid ?? 'syft-result-preview';
  if (preview.kind === 'text') {
    const scalar = isScalarPreview(preview);
    return (
      <div
        className={
          'jp-syft-preview ' + (scalar ? 'jp-syft-scalar' : 'jp-syft-repr')
        }
        data-testid={testid}
        data-kind={scalar ? 'scalar' : 'text'}
        data-type={preview.type}
      >
        <div className="jp-syft-preview-shape" data-testid="syft-result-shape">
          {scalar
            ? trans.__('a single %1', preview.type)
            : trans.__('a %1, shown as text', preview.type) +
              (preview.shape?.length
                ? ' · ' + trans.__('shape %1', formatShape(preview.shape))
                : '')}
        </div>
        {scalar ? (
          <div className="jp-syft-scalar-value jp-syft-mono">
            {preview.text}
          </div>
        ) : (
          <pre className="jp-syft-preview-text">{preview.text}</pre>
        )}
      </div>
    );
  }
  return (
    <PreviewTable
      preview={preview}
      testid={testid}
      marks={props.marks}
      showIndex
      describe
    />
  );
}

export function PreviewTable(props: {
  preview: IPreview;
  testid?: string;
  /** Cells to mark ("row,column" of the data cells -> the rules they fail). */
  marks?: ReadonlyMap<string, string[]>;
  /** Show a table's row labels (a result's: e.g. the groups of a groupby). */
  showIndex?: boolean;
  /** Say the shape in words ("50 rows × 3 columns · first 20 shown"). */
  describe?: boolean;
}): JSX.Element {
  const trans = useTrans();
  const { preview } = props;
  const shape = formatShape(preview.shape);
  const shapeText = props.describe
    ? describeShape(preview, trans)
    : shape && trans.__('shape %1', shape);
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
      {shapeText && (
        <div className="jp-syft-preview-shape" data-testid="syft-result-shape">
          {shapeText}
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
