/**
 * A line diff against the previous submission of the same function.
 */
import React from 'react';

import { IDiffLine } from '../tokens';

const MARK: Record<IDiffLine['kind'], string> = {
  same: ' ',
  added: '+',
  removed: '-'
};

export function DiffView(props: { diff: IDiffLine[] }): JSX.Element {
  return (
    <div className="jp-syft-diff" data-testid="syft-diff">
      <table>
        <tbody>
          {props.diff.map((line, index) => (
            <tr
              key={index}
              className={`jp-syft-diff-${line.kind}`}
              data-kind={line.kind}
            >
              <td className="jp-syft-diff-num">{line.oldLine ?? ''}</td>
              <td className="jp-syft-diff-num">{line.newLine ?? ''}</td>
              <td className="jp-syft-diff-mark">{MARK[line.kind]}</td>
              <td className="jp-syft-diff-text">{line.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
