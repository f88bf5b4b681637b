/**
 * A line diff against the previous submission of the same function. Changed lines are marked
 * by more than colour: a "+" / "-" gutter, a word for screen readers, and a summary label.
 */
import React from 'react';

import { useTrans } from '../i18n';
import { IDiffLine } from '../tokens';
import { diffCounts } from '../diff';
import { TranslationBundle } from '@jupyterlab/translation';

const MARK: Record<IDiffLine['kind'], string> = {
  same: ' ',
  added: '+',
  removed: '-'
};

export function DiffView(props: { diff: IDiffLine[] }): JSX.Element {
  const trans = useTrans();
  const counts = diffCounts(props.diff);
  const words: Record<IDiffLine['kind'], string> = {
    same: trans.__('unchanged'),
    added: trans.__('added'),
    removed: trans.__('removed')
  };
  const summary = diffSummary(counts, trans);
  return (
    <div className="jp-syft-diff" data-testid="syft-diff">
      <div className="jp-syft-muted" data-testid="syft-diff-summary">
        {summary}
      </div>
      <table aria-label={trans.__('Line diff: %1', summary)}>
        <tbody>
          {props.diff.map((line, index) => (
            <tr
              key={index}
              className={`jp-syft-diff-${line.kind}`}
              data-kind={line.kind}
              title={
                line.kind === 'same'
                  ? undefined
                  : line.kind === 'added'
                    ? trans.__('Added (new line %1)', line.newLine ?? '')
                    : trans.__('Removed (old line %1)', line.oldLine ?? '')
              }
            >
              <td className="jp-syft-diff-num">{line.oldLine ?? ''}</td>
              <td className="jp-syft-diff-num">{line.newLine ?? ''}</td>
              <td className="jp-syft-diff-mark" data-testid="syft-diff-mark">
                <span aria-hidden="true">{MARK[line.kind]}</span>
                {line.kind !== 'same' && (
                  <span className="jp-syft-sr-only">{words[line.kind]}</span>
                )}
              </td>
              <td className="jp-syft-diff-text">{line.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "2 lines added, 1 removed" (plural forms translated). */
export function diffSummary(
  counts: { added: number; removed: number },
  trans: TranslationBundle
): string {
  return trans.__(
    '%1, %2',
    trans._n('%1 line added', '%1 lines added', counts.added),
    trans._n('%1 removed', '%1 removed', counts.removed)
  );
}
