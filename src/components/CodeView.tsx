/**
 * Source code, highlighted by JupyterLab's own editor (read-only CodeMirror). Without an
 * editor factory (tests), plain text.
 */
import React, { useEffect, useRef } from 'react';
import { CodeEditor } from '@jupyterlab/codeeditor';

export function CodeView(props: {
  source: string;
  editorFactory?: CodeEditor.Factory | null;
  mimeType?: string;
  testid?: string;
}): JSX.Element {
  const { editorFactory } = props;
  const source = props.source.replace(/\s+$/, '');
  const mimeType = props.mimeType ?? 'text/x-python';
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const node = host.current;
    if (!editorFactory || !node) {
      return;
    }
    const model = new CodeEditor.Model({ mimeType });
    model.sharedModel.setSource(source);
    const editor = editorFactory({
      host: node,
      model,
      config: { readOnly: true, lineNumbers: true, lineWrap: false }
    });
    return () => {
      editor.dispose();
      model.dispose();
      node.textContent = '';
    };
  }, [source, editorFactory, mimeType]);

  if (!editorFactory) {
    return (
      <pre
        className="jp-syft-code jp-syft-code-plain"
        data-testid={props.testid ?? 'syft-code'}
      >
        {source}
      </pre>
    );
  }
  return (
    <div
      ref={host}
      className="jp-syft-code jp-CodeMirrorEditor jp-Editor"
      data-testid={props.testid ?? 'syft-code'}
    />
  );
}
