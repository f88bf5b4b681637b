/**
 * Triage of the request list (pure logic, no React): search, sort, grouping, the versions of
 * one function, short times, and the list's per-model view state (kept across tab switches).
 */
import { IRequest, RequestStatus } from './tokens';

/** How the request list is ordered. */
export type TriageSort = 'newest' | 'oldest' | 'requester' | 'status';

/** How the request list is grouped. */
export type TriageGroup = 'none' | 'requester' | 'project';

/** Characters of a search the list looks at (what is typed beyond is ignored, and said). */
export const MAX_SEARCH = 200;

/** The list's view state: what the owner typed, chose, collapsed and selected. */
export interface ITriageState {
  search: string;
  sort: TriageSort;
  group: TriageGroup;
  /** Group keys that are collapsed. */
  collapsed: Set<string>;
  /** Selection mode on (checkboxes on pending requests). */
  selecting: boolean;
  /** Selected request ids. */
  selected: Set<string>;
  /**
   * What the Datasite found for `search` while more requests are on it than loaded
   * (`GET requests?q=`): its first page and how many match in all; `error` when the Datasite
   * refused the search (the list then filters the loaded requests only).
   */
  found?: {
    search: string;
    items: IRequest[];
    total: number;
    error?: string;
  };
}

const STATES = new WeakMap<object, ITriageState>();

/** The view state of one model's request list (one per model, created on first use). */
export function triageState(owner: object): ITriageState {
  let state = STATES.get(owner);
  if (!state) {
    state = {
      search: '',
      sort: 'status',
      group: 'none',
      collapsed: new Set(),
      selecting: false,
      selected: new Set()
    };
    STATES.set(owner, state);
  }
  return state;
}

/** Who asked: their name, else their email. */
export function requesterOf(request: IRequest): string {
  return request.requesting_user_name || request.requesting_user_email || '';
}

/** The words of a search (lowercase, cut to MAX_SEARCH characters). */
export function searchTerms(search: string): string[] {
  return (search ?? '')
    .slice(0, MAX_SEARCH)
    .toLowerCase()
    .split(/\s+/)
    .filter(term => term.length > 0);
}

/**
 * The requests every search word is found in: in the function's name, the requester's name
 * or email, or the project's name (case-insensitive). An empty search keeps them all.
 */
export function searchRequests(
  requests: readonly IRequest[],
  search: string
): IRequest[] {
  const terms = searchTerms(search);
  if (!terms.length) {
    return [...requests];
  }
  return requests.filter(request => {
    const haystack = [
      request.code?.service_func_name ?? '',
      request.requesting_user_name ?? '',
      request.requesting_user_email ?? '',
      request.project?.name ?? ''
    ]
      .join('\n')
      .toLowerCase();
    return terms.every(term => haystack.includes(term));
  });
}

const STATUS_RANK: Record<RequestStatus, number> = {
  pending: 0,
  approved: 1,
  rejected: 2
};

function newestFirst(a: IRequest, b: IRequest): number {
  const byTime = (b.created_at ?? '').localeCompare(a.created_at ?? '');
  return byTime !== 0 ? byTime : b.id.localeCompare(a.id);
}

/**
 * The requests in an order (a new array): newest or oldest first; by requester (A to Z, then
 * newest); by status (pending, approved, denied, then newest).
 */
export function orderRequests(
  requests: readonly IRequest[],
  sort: TriageSort
): IRequest[] {
  const rows = [...requests];
  switch (sort) {
    case 'oldest':
      return rows.sort((a, b) => newestFirst(b, a));
    case 'requester':
      return rows.sort(
        (a, b) =>
          requesterOf(a).localeCompare(requesterOf(b), undefined, {
            sensitivity: 'base'
          }) || newestFirst(a, b)
      );
    case 'status':
      return rows.sort(
        (a, b) =>
          (STATUS_RANK[a.status] ?? 3) - (STATUS_RANK[b.status] ?? 3) ||
          newestFirst(a, b)
      );
    case 'newest':
    default:
      return rows.sort(newestFirst);
  }
}

/** One group of the list: its key, its label, its requests (in the list's order). */
export interface IRequestGroup {
  key: string;
  label: string;
  requests: IRequest[];
  pending: number;
}

/** The key of requests without a project when grouping by project. */
export const NO_PROJECT = '';

/**
 * The requests grouped by requester (their email) or by project name, groups A to Z (those
 * without a project last), each group's requests in the order given. Projects belong to one
 * scientist each, so same-named projects of several scientists (a shared study) form one group.
 * 'none' gives one group holding everything.
 */
export function groupRequests(
  requests: readonly IRequest[],
  group: TriageGroup
): IRequestGroup[] {
  if (group === 'none') {
    return [
      {
        key: '*',
        label: '',
        requests: [...requests],
        pending: requests.filter(r => r.status === 'pending').length
      }
    ];
  }
  const groups = new Map<string, IRequestGroup>();
  for (const request of requests) {
    const key =
      group === 'requester'
        ? (request.requesting_user_email || requesterOf(request)).toLowerCase()
        : (request.project?.name ?? NO_PROJECT);
    const label =
      group === 'requester'
        ? requesterOf(request)
        : (request.project?.name ?? '');
    let entry = groups.get(key);
    if (!entry) {
      entry = { key, label, requests: [], pending: 0 };
      groups.set(key, entry);
    }
    entry.requests.push(request);
    if (request.status === 'pending') {
      entry.pending++;
    }
  }
  return [...groups.values()].sort((a, b) => {
    if ((a.key === NO_PROJECT) !== (b.key === NO_PROJECT)) {
      return a.key === NO_PROJECT ? 1 : -1;
    }
    return (
      a.label.localeCompare(b.label, undefined, { sensitivity: 'base' }) ||
      a.key.localeCompare(b.key)
    );
  });
}

/** A short fingerprint of a code's source (FNV-1a, 32 bits, 7 hex digits): not for security. */
export function codeHash(source: string): string {
  let hash = 0x811c9dc5;
  const text = source ?? '';
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0').slice(0, 7);
}

/** Which version of its function a request's code is, among the requests loaded. */
export interface IVersion {
  /** 1 for the first submission loaded, 2 for the next, ... */
  version: number;
  /** How many versions of the function by the same scientist are loaded. */
  of: number;
  /** The code's fingerprint (codeHash of its source). */
  hash: string;
  /** When the code was submitted (ISO). */
  submitted: string;
}

/**
 * The version of each request's code among those loaded: requests by one scientist for one
 * function name, in the order their code was submitted (the same code asked twice is one
 * version). Keyed by request id.
 */
export function versionsOf(
  requests: readonly IRequest[]
): Map<string, IVersion> {
  const families = new Map<string, IRequest[]>();
  for (const request of requests) {
    const key = `${(request.requesting_user_email ?? '').toLowerCase()}\n${
      request.code?.service_func_name ?? ''
    }`;
    const family = families.get(key) ?? [];
    family.push(request);
    families.set(key, family);
  }
  const versions = new Map<string, IVersion>();
  for (const family of families.values()) {
    const submitted = (r: IRequest): string =>
      r.code?.submit_time ?? r.created_at ?? '';
    const codes: string[] = [];
    for (const request of [...family].sort((a, b) =>
      submitted(a).localeCompare(submitted(b))
    )) {
      if (!codes.includes(request.code.id)) {
        codes.push(request.code.id);
      }
    }
    for (const request of family) {
      versions.set(request.id, {
        version: codes.indexOf(request.code.id) + 1,
        of: codes.length,
        hash: codeHash(request.code?.raw_code ?? ''),
        submitted: submitted(request)
      });
    }
  }
  return versions;
}

/**
 * A short time for a row: "just now", "5 min ago", "3 h ago", "2 d ago", else the date. The
 * row's tooltip gives the full time (formatTime).
 */
export function shortTime(
  value: string | null | undefined,
  now: Date = new Date()
): string {
  if (!value) {
    return '';
  }
  const date = new Date(value);
  if (isNaN(date.getTime())) {
    return value;
  }
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  if (seconds < 0) {
    return date.toLocaleDateString();
  }
  if (seconds < 60) {
    return 'just now';
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.floor(seconds / 3600)} h ago`;
  }
  if (seconds < 7 * 86400) {
    return `${Math.floor(seconds / 86400)} d ago`;
  }
  return date.toLocaleDateString();
}

/** The selected ids still shown and still pending (what a bulk action may act on). */
export function actionable(
  selected: ReadonlySet<string>,
  shown: readonly IRequest[]
): IRequest[] {
  return shown.filter(
    request => selected.has(request.id) && request.status === 'pending'
  );
}
