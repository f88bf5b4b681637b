/**
 * Pure helpers of the sidebar model: ordering and filtering requests, finding a function's
 * previous submission, the arguments for a run on mocks, the connection cell's source.
 */
import {
  ICode,
  IRemote,
  IRequest,
  IUser,
  RequestStatus,
  StatusFilter
} from './tokens';

const STATUS_ORDER: Record<RequestStatus, number> = {
  pending: 0,
  approved: 1,
  rejected: 2
};

/** Pending first; within a status, newest first. Does not modify its argument. */
export function sortRequests(requests: readonly IRequest[]): IRequest[] {
  return [...requests].sort((a, b) => {
    const byStatus =
      (STATUS_ORDER[a.status] ?? 3) - (STATUS_ORDER[b.status] ?? 3);
    if (byStatus !== 0) {
      return byStatus;
    }
    return (b.created_at ?? '').localeCompare(a.created_at ?? '');
  });
}

/** The requests with the filter's status ('all' keeps them all). */
export function filterRequests(
  requests: readonly IRequest[],
  filter: StatusFilter
): IRequest[] {
  if (filter === 'all') {
    return [...requests];
  }
  return requests.filter(request => request.status === filter);
}

/** How many requests have each status. */
export function countByStatus(
  requests: readonly IRequest[]
): Record<StatusFilter, number> {
  const counts = { all: requests.length, pending: 0, approved: 0, rejected: 0 };
  for (const request of requests) {
    if (request.status in counts) {
      counts[request.status]++;
    }
  }
  return counts;
}

/** Owners and admins may review requests and read private previews. */
export function isOwnerRole(user: IUser | null | undefined): boolean {
  return !!user && (user.role === 'ADMIN' || user.role === 'DATA_OWNER');
}

/**
 * The same scientist's latest earlier submission of a function with the same name, or null.
 * `codes` is what GET code returns (owners see everyone's, scientists their own).
 */
export function findPreviousSubmission(
  code: ICode,
  codes: readonly ICode[]
): ICode | null {
  const author = code.user?.email ?? null;
  const submitted = code.submit_time ?? '';
  let best: ICode | null = null;
  for (const other of codes) {
    if (
      other.id === code.id ||
      other.service_func_name !== code.service_func_name ||
      (other.user?.email ?? null) !== author
    ) {
      continue;
    }
    const time = other.submit_time ?? '';
    if (time > submitted) {
      continue;
    }
    if (best === null || time >= (best.submit_time ?? '')) {
      best = other;
    }
  }
  return best;
}

/** A Python string literal (JSON's escapes are valid Python). */
export function pythonString(value: string): string {
  return JSON.stringify(value);
}

/** Text safe inside a one-line comment: no line breaks or other control characters. */
function oneLine(text: string): string {
  return Array.from(text ?? '')
    .map(char => {
      const code = char.charCodeAt(0);
      return code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029
        ? ' '
        : char;
    })
    .join('')
    .trim();
}

/** The first cell of a notebook that connects to the Datasite the sidebar shows. */
export function connectionCellSource(remote: IRemote | null): string {
  if (remote === null) {
    return [
      'import jupyter_syft as sy',
      '',
      '# The Datasite this JupyterLab hosts; you are its owner.',
      'client = sy.login_local()',
      'client'
    ].join('\n');
  }
  return [
    'import jupyter_syft as sy',
    '',
    `# ${oneLine(remote.name) || 'Remote Datasite'}: asks for your password (hidden); nothing stores it.`,
    `client = sy.login(url=${pythonString(remote.url)}, email=${pythonString(remote.email)})`,
    'client'
  ].join('\n');
}

/** "3 x 30" for a shape, "" without one. */
export function formatShape(
  shape: readonly number[] | null | undefined
): string {
  return shape && shape.length ? shape.join(' × ') : '';
}
