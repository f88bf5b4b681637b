import {
  actionable,
  codeHash,
  groupRequests,
  MAX_SEARCH,
  orderRequests,
  searchRequests,
  searchTerms,
  shortTime,
  triageState,
  versionsOf
} from '../triage';
import { IRequest } from '../tokens';

/** A request with the fields triage reads (typed loosely: no other field matters here). */
function request(
  id: string,
  who: [string, string],
  fn: string,
  project: string | null,
  created: string,
  extra: Partial<IRequest> = {}
): IRequest {
  return {
    id,
    status: 'pending',
    requesting_user_name: who[0],
    requesting_user_email: who[1],
    requesting_user_institution: 'Uni',
    project: project ? { id: `${who[1]}/${project}`, name: project } : null,
    created_at: created,
    code: {
      id: `code-${id}`,
      service_func_name: fn,
      raw_code: `def ${fn}(data):\n    return ${id}\n`,
      submit_time: created
    },
    ...extra
  } as unknown as IRequest;
}

const ADA: [string, string] = ['Ada Lovelace', 'ada@uni.example'];
const BEN: [string, string] = ['Ben Okafor', 'ben@uni.example'];
const CHEN: [string, string] = ['Chen Wei', 'chen@lab.example'];

const r1 = request(
  'r1',
  ADA,
  'mean_radius',
  'Radius study',
  '2026-11-30T10:00:00Z'
);
const r2 = request(
  'r2',
  BEN,
  'texture_hist',
  'Texture study',
  '2026-11-30T11:00:00Z'
);
const r3 = request(
  'r3',
  CHEN,
  'mean_radius',
  'Radius study',
  '2026-11-30T09:00:00Z',
  {
    status: 'approved'
  }
);
const r4 = request(
  'r4',
  ADA,
  'mean_radius',
  'Radius study',
  '2026-11-30T12:00:00Z'
);
const r5 = request('r5', BEN, 'count_rows', null, '2026-11-30T08:00:00Z', {
  status: 'rejected'
});
const ALL = [r1, r2, r3, r4, r5];
const ids = (rows: IRequest[]): string[] => rows.map(r => r.id);

describe('search', () => {
  it('matches function, requester name or email, and project, case-insensitively', () => {
    expect(ids(searchRequests(ALL, 'TEXTURE'))).toEqual(['r2']);
    expect(ids(searchRequests(ALL, 'ada'))).toEqual(['r1', 'r4']);
    expect(ids(searchRequests(ALL, 'lab.example'))).toEqual(['r3']);
    expect(ids(searchRequests(ALL, 'radius study'))).toEqual([
      'r1',
      'r3',
      'r4'
    ]);
  });

  it('needs every word to match, and keeps everything for an empty search', () => {
    expect(ids(searchRequests(ALL, 'mean chen'))).toEqual(['r3']);
    expect(ids(searchRequests(ALL, 'mean nobody'))).toEqual([]);
    expect(ids(searchRequests(ALL, '   '))).toEqual(ids(ALL));
  });

  it('looks at no more than MAX_SEARCH characters', () => {
    const long = 'a'.repeat(MAX_SEARCH) + ' zzz';
    expect(searchTerms(long)).toEqual(['a'.repeat(MAX_SEARCH)]);
  });
});

describe('sort', () => {
  it('orders newest, oldest, by requester, by status', () => {
    expect(ids(orderRequests(ALL, 'newest'))).toEqual([
      'r4',
      'r2',
      'r1',
      'r3',
      'r5'
    ]);
    expect(ids(orderRequests(ALL, 'oldest'))).toEqual([
      'r5',
      'r3',
      'r1',
      'r2',
      'r4'
    ]);
    expect(ids(orderRequests(ALL, 'requester'))).toEqual([
      'r4',
      'r1',
      'r2',
      'r5',
      'r3'
    ]);
    expect(ids(orderRequests(ALL, 'status'))).toEqual([
      'r4',
      'r2',
      'r1',
      'r3',
      'r5'
    ]);
  });

  it('leaves its input alone', () => {
    const copy = [...ALL];
    orderRequests(ALL, 'oldest');
    expect(ALL).toEqual(copy);
  });
});

describe('grouping', () => {
  it('groups by scientist, A to Z, with counts of pending', () => {
    const groups = groupRequests(orderRequests(ALL, 'newest'), 'requester');
    expect(groups.map(g => [g.label, ids(g.requests), g.pending])).toEqual([
      ['Ada Lovelace', ['r4', 'r1'], 2],
      ['Ben Okafor', ['r2', 'r5'], 1],
      ['Chen Wei', ['r3'], 0]
    ]);
  });

  it('groups by project name, those without a project last', () => {
    const groups = groupRequests(orderRequests(ALL, 'newest'), 'project');
    expect(groups.map(g => [g.key, ids(g.requests)])).toEqual([
      ['Radius study', ['r4', 'r1', 'r3']],
      ['Texture study', ['r2']],
      ['', ['r5']]
    ]);
  });

  it("'none' is one group of everything", () => {
    const groups = groupRequests(ALL, 'none');
    expect(groups).toHaveLength(1);
    expect(groups[0].requests).toHaveLength(5);
    expect(groups[0].pending).toBe(3);
  });
});

describe('versions', () => {
  it("numbers one scientist's submissions of one function in submit order", () => {
    const versions = versionsOf(ALL);
    expect(versions.get('r1')).toMatchObject({ version: 1, of: 2 });
    expect(versions.get('r4')).toMatchObject({ version: 2, of: 2 });
    // another scientist's function of the same name is their own family
    expect(versions.get('r3')).toMatchObject({ version: 1, of: 1 });
    expect(versions.get('r2')).toMatchObject({ version: 1, of: 1 });
  });

  it('fingerprints code by its source', () => {
    expect(codeHash('def f(): pass')).toBe(codeHash('def f(): pass'));
    expect(codeHash('def f(): pass')).not.toBe(codeHash('def f(): return 1'));
    expect(codeHash('x')).toMatch(/^[0-9a-f]{7}$/);
    expect(versionsOf(ALL).get('r1')?.hash).not.toBe(
      versionsOf(ALL).get('r4')?.hash
    );
  });
});

describe('times and selection', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  it('says how long ago, and the date after a week', () => {
    expect(shortTime('2026-11-30T11:59:30Z', now)).toBe('just now');
    expect(shortTime('2026-11-30T11:55:00Z', now)).toBe('5 min ago');
    expect(shortTime('2026-11-30T09:00:00Z', now)).toBe('3 h ago');
    expect(shortTime('2026-11-28T12:00:00Z', now)).toBe('2 d ago');
    expect(shortTime('2026-10-01T12:00:00Z', now)).toBe(
      new Date('2026-10-01T12:00:00Z').toLocaleDateString()
    );
    expect(shortTime(null, now)).toBe('');
  });

  it('acts only on selected requests that are shown and pending', () => {
    const selected = new Set(['r1', 'r3', 'r2', 'gone']);
    expect(ids(actionable(selected, [r1, r3, r4]))).toEqual(['r1']);
  });

  it('keeps one view state per model', () => {
    const a = {};
    const b = {};
    triageState(a).search = 'ada';
    expect(triageState(a).search).toBe('ada');
    expect(triageState(b).search).toBe('');
    expect(triageState(a).sort).toBe('status');
  });
});
