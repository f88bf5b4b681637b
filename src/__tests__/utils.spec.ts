import {
  connectionCellSource,
  countByStatus,
  filterRequests,
  findPreviousSubmission,
  formatShape,
  isOwnerRole,
  sortRequests
} from '../utils';
import { makeCode, makeRequest, owner, scientist } from './fixtures';

describe('requests ordering and filtering', () => {
  const pendingOld = makeRequest({
    id: 'p-old',
    created_at: '2026-01-01T00:00:00Z'
  });
  const pendingNew = makeRequest({
    id: 'p-new',
    created_at: '2026-02-01T00:00:00Z'
  });
  const approved = makeRequest({
    id: 'ok',
    status: 'approved',
    created_at: '2026-03-01T00:00:00Z'
  });
  const denied = makeRequest({
    id: 'no',
    status: 'rejected',
    created_at: '2026-04-01T00:00:00Z'
  });
  const all = [approved, pendingOld, denied, pendingNew];

  it('puts pending requests first, newest first within a status', () => {
    expect(sortRequests(all).map(r => r.id)).toEqual([
      'p-new',
      'p-old',
      'ok',
      'no'
    ]);
    expect(all[0].id).toBe('ok'); // the input is left alone
  });

  it('filters by status', () => {
    expect(filterRequests(all, 'pending').map(r => r.id)).toEqual([
      'p-old',
      'p-new'
    ]);
    expect(filterRequests(all, 'rejected').map(r => r.id)).toEqual(['no']);
    expect(filterRequests(all, 'all')).toHaveLength(4);
  });

  it('counts by status', () => {
    expect(countByStatus(all)).toEqual({
      all: 4,
      pending: 2,
      approved: 1,
      rejected: 1
    });
  });
});

describe('roles', () => {
  it('treats admins and data owners as owners', () => {
    expect(isOwnerRole(owner)).toBe(true);
    expect(isOwnerRole({ ...owner, role: 'DATA_OWNER' })).toBe(true);
    expect(isOwnerRole(scientist)).toBe(false);
    expect(isOwnerRole(null)).toBe(false);
  });
});

describe('findPreviousSubmission', () => {
  const current = makeCode({ id: 'c3', submit_time: '2026-03-01T00:00:00Z' });

  it("picks the same scientist's latest earlier submission of the function", () => {
    const first = makeCode({ id: 'c1', submit_time: '2026-01-01T00:00:00Z' });
    const second = makeCode({ id: 'c2', submit_time: '2026-02-01T00:00:00Z' });
    const later = makeCode({ id: 'c4', submit_time: '2026-04-01T00:00:00Z' });
    const otherName = makeCode({
      id: 'x',
      service_func_name: 'other',
      submit_time: '2026-02-15T00:00:00Z'
    });
    const otherUser = makeCode({
      id: 'y',
      user: { name: 'Eve', email: 'eve@example.org' },
      submit_time: '2026-02-20T00:00:00Z'
    });
    const previous = findPreviousSubmission(current, [
      first,
      second,
      current,
      later,
      otherName,
      otherUser
    ]);
    expect(previous?.id).toBe('c2');
  });

  it('returns null for a first submission', () => {
    expect(findPreviousSubmission(current, [current])).toBeNull();
  });
});

describe('connectionCellSource', () => {
  it('logs into the local Datasite without any credentials', () => {
    const source = connectionCellSource(null);
    expect(source).toContain('import jupyter_syft as sy');
    expect(source).toContain('sy.login_local()');
  });

  it('asks for the password of a remote Datasite instead of embedding it', () => {
    const source = connectionCellSource({
      id: 'x',
      url: 'http://example.org:8080/',
      email: 'ds@example.org',
      name: 'Remote "one"\nimport os; os.system("rm -rf /")',
      role: 'DATA_SCIENTIST'
    });
    expect(source).toContain(
      'sy.login(url="http://example.org:8080/", email="ds@example.org")'
    );
    expect(source).not.toContain('password=');
    // A hostile name cannot break out of the comment into code.
    const lines = source.split('\n');
    expect(lines.filter(line => line.includes('os.system'))).toHaveLength(1);
    expect(
      lines.find(line => line.includes('os.system'))?.startsWith('#')
    ).toBe(true);
  });

  it('escapes quotes in the URL and email', () => {
    const source = connectionCellSource({
      id: 'x',
      url: 'http://a/"b',
      email: 'x"@y',
      name: '',
      role: 'DATA_SCIENTIST'
    });
    expect(source).toContain('url="http://a/\\"b"');
    expect(source).toContain('email="x\\"@y"');
  });
});

describe('formatShape', () => {
  it('joins dimensions', () => {
    expect(formatShape([569, 30])).toBe('569 × 30');
    expect(formatShape(null)).toBe('');
  });
});
