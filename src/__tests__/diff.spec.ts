import { diffLines, hasChanges } from '../diff';

describe('diffLines', () => {
  it('marks nothing when the texts are equal', () => {
    const diff = diffLines('a\nb\n', 'a\nb\n');
    expect(diff.map(line => line.kind)).toEqual(['same', 'same']);
    expect(hasChanges(diff)).toBe(false);
  });

  it('finds a changed line between common ones, removal first', () => {
    const diff = diffLines(
      'def f(x):\n    return x\n',
      'def f(x):\n    return x + 1\n'
    );
    expect(diff).toEqual([
      { kind: 'same', text: 'def f(x):', oldLine: 1, newLine: 1 },
      { kind: 'removed', text: '    return x', oldLine: 2 },
      { kind: 'added', text: '    return x + 1', newLine: 2 }
    ]);
    expect(hasChanges(diff)).toBe(true);
  });

  it('keeps line numbers of both sides through insertions', () => {
    const diff = diffLines('a\nb\nc', 'a\nx\nb\nc\ny');
    expect(diff).toEqual([
      { kind: 'same', text: 'a', oldLine: 1, newLine: 1 },
      { kind: 'added', text: 'x', newLine: 2 },
      { kind: 'same', text: 'b', oldLine: 2, newLine: 3 },
      { kind: 'same', text: 'c', oldLine: 3, newLine: 4 },
      { kind: 'added', text: 'y', newLine: 5 }
    ]);
  });

  it('handles empty sides and CRLF', () => {
    expect(diffLines('', 'a\r\nb').map(l => l.kind)).toEqual([
      'added',
      'added'
    ]);
    expect(diffLines('a\nb', '').map(l => l.kind)).toEqual([
      'removed',
      'removed'
    ]);
    expect(diffLines('', '')).toEqual([]);
  });

  it('keeps the unchanged lines of a long text in order', () => {
    const old = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    const changed = [...old];
    changed[100] = 'changed';
    const diff = diffLines(old.join('\n'), changed.join('\n'));
    expect(diff.filter(l => l.kind !== 'same')).toEqual([
      { kind: 'removed', text: 'line 100', oldLine: 101 },
      { kind: 'added', text: 'changed', newLine: 101 }
    ]);
    expect(diff).toHaveLength(201);
  });
});
