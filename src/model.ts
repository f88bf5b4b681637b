/**
 * The sidebar's state and the only caller of the server extension's API. Views read its
 * properties and listen to `stateChanged`; they change it only through its methods.
 */
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { diffLines } from './diff';
import {
  IEventStream,
  IPushEvent,
  IPushEvents,
  PushChannel,
  PushState,
  PushTopic
} from './push';
import {
  IRequestOptions,
  openEventStream,
  requestAPI,
  SyftRequestError
} from './request';
import {
  DatasiteRef,
  IAuditEvent,
  IAuditFilter,
  IAuditVerification,
  IJob,
  JobState,
  ICode,
  INotificationCount,
  IDataset,
  IExecution,
  IJustification,
  IMetadata,
  IMockRun,
  IOutput,
  IOutputDetail,
  IPage,
  IPreview,
  IProject,
  IRemote,
  IRequest,
  IRequestDetail,
  ISyftModel,
  ITimelineEntry,
  IUser,
  LOCAL_API,
  OutputFilter,
  PagedSection,
  REMOTES_API,
  StatusFilter
} from './tokens';
import {
  connectionCellSource,
  countByStatus,
  filterRequests,
  findPreviousSubmission,
  isOwnerRole,
  sortRequests
} from './utils';

/** The request function the model calls (requestAPI; tests pass a fake). */
export type RequestFunction = <T>(
  endpoint: string,
  options?: IRequestOptions,
  settings?: ServerConnection.ISettings
) => Promise<T>;

/** The stream function the model opens the push channel with (openEventStream; tests fake it). */
export type StreamFunction = (
  endpoint: string,
  lastEventId: string | null,
  settings?: ServerConnection.ISettings
) => Promise<IEventStream>;

/** When to count the inbox again after a push (its entries are written just after). */
const UNREAD_RECHECK = 2000;

/** Rows per page the sidebar asks for: small enough to show at once on a large Datasite. */
export const PAGE_SIZE = 100;

/**
 * The order each paged list is read in: the catalogue oldest first, as uploaded; projects and
 * requests newest first, so the first page holds what just arrived (what the poll looks for).
 */
const ORDER: Record<PagedSection, 'oldest' | 'newest'> = {
  datasets: 'oldest',
  projects: 'newest',
  requests: 'newest',
  outputs: 'newest'
};

/** Output states: held ones wait for an owner. */
const OUTPUT_STATES = ['held', 'released', 'withheld'] as const;

/** Audit events per page in the activity view. */
export const AUDIT_PAGE_SIZE = 50;

/** Characters of a release comment or withhold reason the Datasite keeps. */
export const MAX_NOTE = 2000;

/** Characters of a justification the Datasite keeps. */
export const MAX_JUSTIFICATION = 4000;

/** Parts of the Datasite the sidebar loads; each may fail on its own (e.g. for guests). */
type Section =
  'metadata' | 'me' | 'datasets' | 'projects' | 'requests' | 'outputs';

export class SyftModel implements ISyftModel, IDisposable {
  constructor(options: SyftModel.IOptions = {}) {
    this._request = options.request ?? requestAPI;
    this._settings = options.serverSettings;
    this._pollInterval = options.pollInterval ?? 5000;
    this._stream = options.stream ?? openEventStream;
    this._pushOptions = options.push ?? {};
  }

  // --- state ---------------------------------------------------------------------------------
  /** Emitted whenever anything the views show changes. */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /** Emitted with the requests that appeared since the previous load (not on the first). */
  get newRequests(): ISignal<this, IRequest[]> {
    return this._newRequests;
  }

  /** Emitted after a request was approved or denied here. */
  /** Another Datasite is shown: what was opened for the previous one no longer applies. */
  get datasiteChanged(): ISignal<this, DatasiteRef> {
    return this._datasiteChanged;
  }

  /** Emitted after an output was released or withheld (or voted on) here. */
  get outputDecided(): ISignal<this, IOutput> {
    return this._outputDecided;
  }

  get requestDecided(): ISignal<this, IRequest> {
    return this._requestDecided;
  }

  /** Emitted with the push channel's events once the lists they name are reloaded. */
  get pushed(): ISignal<this, IPushEvent[]> {
    return this._pushed;
  }

  /**
   * How often to look for changes where the push channel cannot stream, ms (the plugin's
   * `pollInterval` setting; applies at once, also to a running channel or poll).
   */
  get pollInterval(): number {
    return this._pollInterval;
  }

  set pollInterval(ms: number) {
    if (!(ms > 0) || ms === this._pollInterval) {
      return;
    }
    this._pollInterval = ms;
    if (this._push && this._pushOptions.pollInterval === undefined) {
      this._push.pollInterval = ms;
    }
    if (this._poll) {
      this._poll.frequency = { ...this._poll.frequency, interval: ms };
    }
    this._stateChanged.emit();
  }

  /** Where the push channel stands ('stopped' when not started). */
  get pushState(): PushState {
    return this._push?.state ?? 'stopped';
  }

  /** Unread notifications in the account's inbox (0 where the Datasite has none). */
  get unreadCount(): number {
    return this._unread;
  }

  /** Pending requests (the badge on the sidebar's icon). */
  get pendingCount(): number {
    return this.requestCounts.pending;
  }

  get datasite(): DatasiteRef {
    return this._datasite;
  }

  /** The remote connection shown, or null when the local Datasite is shown. */
  get currentRemote(): IRemote | null {
    const ref = this._datasite;
    if (ref.kind !== 'remote') {
      return null;
    }
    return this._remotes.find(remote => remote.id === ref.id) ?? null;
  }

  get remotes(): readonly IRemote[] {
    return this._remotes;
  }

  get metadata(): IMetadata | null {
    return this._metadata;
  }

  get me(): IUser | null {
    return this._me;
  }

  get isOwner(): boolean {
    return isOwnerRole(this._me);
  }

  get datasets(): readonly IDataset[] {
    return this._datasets;
  }

  get projects(): readonly IProject[] {
    return this._projects;
  }

  /** The requests loaded so far (pages, newest first; see `remaining`). */
  get requests(): readonly IRequest[] {
    return this._requests;
  }

  get statusFilter(): StatusFilter {
    return this._statusFilter;
  }

  set statusFilter(value: StatusFilter) {
    if (value !== this._statusFilter) {
      this._statusFilter = value;
      this._stateChanged.emit();
    }
  }

  /** The requests to list: the filter's status, pending first, newest first. */
  get visibleRequests(): IRequest[] {
    return sortRequests(filterRequests(this._requests, this._statusFilter));
  }

  /** Requests per status: on the Datasite while not all are loaded, else of those loaded. */
  get requestCounts(): Record<StatusFilter, number> {
    return this._statusCounts ?? countByStatus(this._requests);
  }

  /** A project's requests, pending first. */
  requestsOf(project: IProject): IRequest[] {
    const ids = new Set(project.request_ids);
    return sortRequests(this._requests.filter(request => ids.has(request.id)));
  }

  /** Outputs of runs on private data loaded so far (owners; the filter's state, newest first). */
  get outputs(): readonly IOutput[] {
    return this._outputs;
  }

  get outputFilter(): OutputFilter {
    return this._outputFilter;
  }

  /** Outputs per state on the Datasite (owners; zeros for others). */
  get outputCounts(): Record<OutputFilter, number> {
    return this._outputCounts;
  }

  /** Show another state's outputs: loads its first page (the list is paged per state). */
  async setOutputFilter(value: OutputFilter): Promise<void> {
    if (value === this._outputFilter) {
      return;
    }
    this._outputFilter = value;
    this._outputs = [];
    this._firstPage('outputs', null);
    this._stateChanged.emit();
    await this.refreshOutputs();
  }

  getOutput(executionId: string): IOutput | null {
    return (
      this._outputs.find(output => output.execution_id === executionId) ?? null
    );
  }

  getRequest(id: string): IRequest | null {
    return this._requests.find(request => request.id === id) ?? null;
  }

  /** How many rows a list has on the Datasite, loaded or not. */
  count(section: PagedSection): number {
    return Math.max(this._totals[section], this[section].length);
  }

  /** How many rows of a list are on the Datasite but not loaded yet ("N more"). */
  remaining(section: PagedSection): number {
    if (this._cursors[section] === null) {
      return 0;
    }
    return Math.max(this._totals[section] - this[section].length, 1);
  }

  /** Load the next page of a list (the views' "Load more"); no-op when all is loaded. */
  async loadMore(section: PagedSection): Promise<void> {
    const cursor = this._cursors[section];
    if (cursor === null) {
      return;
    }
    const generation = this._generation;
    const page = await this._page<object>(section, cursor);
    if (generation !== this._generation || this._isDisposed) {
      return;
    }
    if (this._cursors[section] !== cursor) {
      return; // a refresh or another "load more" got there first
    }
    const loaded = this[section] as readonly object[];
    const known = new Set(loaded.map(rowId));
    const rows = [
      ...loaded,
      ...page.items.filter(row => !known.has(rowId(row)))
    ];
    this._cursors[section] = page.next_cursor;
    this._totals[section] = page.total;
    if (section === 'requests') {
      this._setRequests(rows as IRequest[], false);
      if (page.next_cursor === null) {
        this._statusCounts = null; // all loaded: count them here
      }
    } else if (section === 'projects') {
      this._projects = rows as IProject[];
    } else if (section === 'outputs') {
      this._outputs = rows as IOutput[];
    } else {
      this._datasets = rows as IDataset[];
    }
    this._stateChanged.emit();
  }

  /** True while a full load is under way. */
  get loading(): boolean {
    return this._loading;
  }

  /** What went wrong in the last load, per part (messages for the user). */
  get errors(): Readonly<Partial<Record<Section, string>>> {
    return this._errors;
  }

  /** The Datasite's display name. */
  get datasiteName(): string {
    return (
      this._metadata?.name ||
      this.currentRemote?.name ||
      (this._datasite.kind === 'local' ? 'This JupyterLab' : 'Remote Datasite')
    );
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  // --- loading -------------------------------------------------------------------------------
  /** The endpoint of a Datasite API path for the Datasite shown. */
  apiPath(path: string): string {
    const ref = this._datasite;
    const base =
      ref.kind === 'local'
        ? LOCAL_API
        : `${REMOTES_API}/${encodeURIComponent(ref.id)}/api/v1`;
    return `${base}/${path}`;
  }

  /** Load everything the sidebar shows for the Datasite shown. */
  async refresh(): Promise<void> {
    const generation = ++this._generation;
    this._loading = true;
    this._stateChanged.emit();
    const errors: Partial<Record<Section, string>> = {};
    const load = async <T>(
      section: Section,
      fetch: () => Promise<T>
    ): Promise<T | null> => {
      try {
        return await fetch();
      } catch (error) {
        errors[section] = messageOf(error);
        return null;
      }
    };
    const [metadata, me, datasets, projects, requests] = await Promise.all([
      load('metadata', () => this._api<IMetadata>('metadata')),
      load('me', () => this._api<IUser | null>('users/me')),
      load('datasets', () => this._page<IDataset>('datasets')),
      load('projects', () => this._page<IProject>('projects')),
      load('requests', () => this._page<IRequest>('requests'))
    ]);
    if (generation !== this._generation || this._isDisposed) {
      return; // the user switched Datasite meanwhile
    }
    this._metadata = metadata;
    this._me = me;
    this._datasets = this._firstPage('datasets', datasets);
    this._projects = this._firstPage('projects', projects);
    if (requests !== null) {
      this._setRequests(this._firstPage('requests', requests), false);
    } else {
      this._firstPage('requests', null);
      this._requests = [];
    }
    const counts = await this._countStatuses().catch(() => null);
    if (generation !== this._generation || this._isDisposed) {
      return;
    }
    this._statusCounts = counts;
    // Output review is the owners' (the route refuses others): never asked for anyone else.
    if (isOwnerRole(me)) {
      const outputs = await load('outputs', () =>
        Promise.all([this._page<IOutput>('outputs'), this._countOutputs()])
      );
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._outputs = this._firstPage('outputs', outputs?.[0] ?? null);
      this._outputCounts = outputs?.[1] ?? noOutputs();
    } else {
      this._outputs = [];
      this._firstPage('outputs', null);
      this._outputCounts = noOutputs();
    }
    this._errors = errors;
    this._loading = false;
    this._stateChanged.emit();
    void this._loadUnread();
  }

  /**
   * Reload requests and projects only (what changes while the owner watches): new requests
   * appear without a reload. Called by the poll; returns the requests that are new.
   */
  async refreshRequests(): Promise<IRequest[]> {
    const generation = this._generation;
    const [requests, projects] = await Promise.all([
      this._page<IRequest>('requests'),
      this._page<IProject>('projects').catch(() => null)
    ]);
    if (generation !== this._generation || this._isDisposed) {
      return [];
    }
    const added = this._setRequests(
      this._mergeFirstPage('requests', this._requests, requests),
      true
    );
    if (projects !== null) {
      this._projects = this._mergeFirstPage(
        'projects',
        this._projects,
        projects
      );
    }
    const counts = await this._countStatuses().catch(() => this._statusCounts);
    if (generation !== this._generation || this._isDisposed) {
      return [];
    }
    this._statusCounts = counts;
    if (this._errors.requests) {
      this._errors = { ...this._errors, requests: undefined };
    }
    if (this.isOwner) {
      await this.refreshOutputs().catch(() => undefined);
      if (generation !== this._generation || this._isDisposed) {
        return [];
      }
    }
    this._stateChanged.emit();
    if (added.length) {
      this._newRequests.emit(added);
    }
    return added;
  }

  /**
   * The oldest pending request of the Datasite shown (asked of the Datasite, not read from the
   * pages loaded), or null when none waits.
   */
  async oldestPending(): Promise<IRequest | null> {
    const page = await this._api<IPage<IRequest>>('requests', {
      query: { status: 'pending', order: 'oldest', limit: 1 }
    });
    return page.items[0] ?? null;
  }

  /**
   * The requests in which every word of `q` is found in the function's name, the requester's
   * name or email, or the project's name, searched on the Datasite (newest first, one page):
   * for lists longer than what is loaded.
   */
  async searchRequests(q: string, limit = 100): Promise<IPage<IRequest>> {
    return this._api<IPage<IRequest>>('requests', {
      query: { q: q.trim().slice(0, 200), order: 'newest', limit }
    });
  }

  /** Reload requests every `pollInterval` ms while the page is visible. */
  startPolling(): void {
    if (this._poll || this._isDisposed) {
      return;
    }
    this._poll = new Poll({
      factory: async () => {
        await this.refreshRequests();
      },
      frequency: { interval: this._pollInterval, backoff: true, max: 60_000 },
      name: 'jupyter-syft:requests',
      standby: 'when-hidden'
    });
  }

  stopPolling(): void {
    this._poll?.dispose();
    this._poll = null;
  }

  /**
   * Listen to the Datasite's push channel: each change reloads only the lists it names. When
   * the stream drops, the channel polls with backoff and reconnects, resuming from the last
   * event id; too much missed (or a restarted Datasite) reloads everything.
   */
  startPush(): void {
    if (this._isDisposed) {
      return;
    }
    this.stopPolling();
    this._push?.stop();
    this._push = new PushChannel({
      ...this._pushOptions,
      pollInterval: this._pushOptions.pollInterval ?? this._pollInterval,
      stream: lastEventId =>
        this._stream(this.apiPath('events'), lastEventId, this._settings),
      poll: lastEventId =>
        this._api<IPushEvents>('events', {
          query: { last_event_id: lastEventId ?? undefined }
        }),
      onEvents: events => this._onPushed(events),
      onReset: () => void this.refresh().catch(() => undefined),
      onState: () => this._stateChanged.emit()
    });
    this._push.start();
  }

  stopPush(): void {
    this._push?.stop();
    this._push = null;
  }

  /** Reload the lists of `topics` only (what the push channel says changed). */
  async refreshTopics(topics: ReadonlySet<PushTopic>): Promise<IRequest[]> {
    const generation = this._generation;
    const work: Promise<unknown>[] = [];
    let added: IRequest[] = [];
    if (topics.has('requests')) {
      work.push(
        this._reloadRequests().then(found => {
          added = found;
        })
      );
    }
    if (topics.has('projects')) {
      work.push(this._reloadList<IProject>('projects'));
    }
    if (topics.has('datasets')) {
      work.push(this._reloadList<IDataset>('datasets'));
    }
    if ((topics.has('outputs') || topics.has('jobs')) && this.isOwner) {
      work.push(this.refreshOutputs());
    }
    if (topics.has('users')) {
      work.push(
        this._api<IUser | null>('users/me').then(me => {
          if (generation === this._generation) {
            this._me = me;
          }
        })
      );
    }
    await Promise.all(work.map(job => job.catch(() => undefined)));
    if (generation !== this._generation || this._isDisposed) {
      return [];
    }
    this._stateChanged.emit();
    if (added.length) {
      this._newRequests.emit(added);
    }
    return added;
  }

  private _onPushed(events: IPushEvent[]): void {
    const generation = this._generation;
    this._pendingEvents.push(...events);
    if (this._draining) {
      return; // the reload under way picks these up after it
    }
    this._draining = true;
    void (async () => {
      try {
        while (this._pendingEvents.length && generation === this._generation) {
          const batch = this._pendingEvents.splice(0);
          await this.refreshTopics(new Set(batch.map(event => event.topic)));
          if (generation === this._generation && !this._isDisposed) {
            this._pushed.emit(batch);
            // The inbox is written just after the change: count now, and once more later.
            void this._loadUnread();
            setTimeout(() => void this._loadUnread(), UNREAD_RECHECK);
          }
        }
      } finally {
        this._draining = false;
        if (generation !== this._generation) {
          this._pendingEvents = [];
        }
      }
    })();
  }

  /** The inbox's unread count (notifications/count); 0 where the route is missing. */
  private async _loadUnread(): Promise<void> {
    if (this._isDisposed || !this._me) {
      return;
    }
    const generation = this._generation;
    let unread = 0;
    try {
      unread = (await this._api<INotificationCount>('notifications/count'))
        .unread;
    } catch {
      unread = 0; // an older Datasite: no inbox
    }
    if (
      generation === this._generation &&
      !this._isDisposed &&
      unread !== this._unread
    ) {
      this._unread = unread;
      this._stateChanged.emit();
    }
  }

  /** The requests' first page merged in, and the counts; returns the new ones. */
  private async _reloadRequests(): Promise<IRequest[]> {
    const generation = this._generation;
    const requests = await this._page<IRequest>('requests');
    if (generation !== this._generation || this._isDisposed) {
      return [];
    }
    const added = this._setRequests(
      this._mergeFirstPage('requests', this._requests, requests),
      true
    );
    const counts = await this._countStatuses().catch(() => this._statusCounts);
    if (generation === this._generation) {
      this._statusCounts = counts;
      if (this._errors.requests) {
        this._errors = { ...this._errors, requests: undefined };
      }
    }
    return added;
  }

  /** A list's first page merged into what is loaded (datasets, projects). */
  private async _reloadList<T extends object>(
    section: 'datasets' | 'projects'
  ): Promise<void> {
    const generation = this._generation;
    const page = await this._page<T>(section);
    if (generation !== this._generation || this._isDisposed) {
      return;
    }
    const merged = this._mergeFirstPage(
      section,
      this[section] as readonly T[],
      page
    );
    if (section === 'datasets') {
      this._datasets = merged as unknown as IDataset[];
    } else {
      this._projects = merged as unknown as IProject[];
    }
  }

  // --- datasets ------------------------------------------------------------------------------
  /** The first rows of an asset's mock, or (owners only) of its private value. */
  assetPreview(
    assetId: string,
    which: 'mock' | 'data',
    rows = 5
  ): Promise<IPreview> {
    return this._api<IPreview>(
      `assets/${encodeURIComponent(assetId)}/${which}/preview`,
      { query: { rows } }
    );
  }

  // --- requests ------------------------------------------------------------------------------
  /** A request with what its review shows: previous submission, diff and earlier runs. */
  async requestDetail(id: string): Promise<IRequestDetail> {
    const request = await this._api<IRequest>(
      `requests/${encodeURIComponent(id)}`
    );
    this._replaceRequest(request);
    // Only its function's versions (filtered on the Datasite), and its latest runs.
    const [codes, executions] = await Promise.all([
      this._api<IPage<ICode>>('code', {
        query: {
          name: request.code.service_func_name,
          limit: 500,
          order: 'newest'
        }
      })
        .then(page => page.items)
        .catch(() => [] as ICode[]),
      this._api<IPage<IExecution>>(
        `code/${encodeURIComponent(request.code.id)}/executions`,
        { query: { limit: PAGE_SIZE, order: 'newest' } }
      )
        .then(page => page.items.reverse())
        .catch(() => [] as IExecution[])
    ]);
    const previous = findPreviousSubmission(request.code, codes);
    return {
      request,
      previous,
      diff: previous
        ? diffLines(previous.raw_code, request.code.raw_code)
        : null,
      executions
    };
  }

  /**
   * Approve a request (owners). With `nestedCodeIds` (the ids of the nested functions the
   * owner was shown), also approve those, for this request only; the Datasite refuses if
   * they are not what the request launches now.
   */
  async approve(id: string, nestedCodeIds?: string[]): Promise<IRequest> {
    const body = nestedCodeIds
      ? { approve_nested: true, nested_code_ids: nestedCodeIds }
      : { approve_nested: false };
    const request = await this._api<IRequest>(
      `requests/${encodeURIComponent(id)}/approve`,
      { method: 'POST', body }
    );
    this._decided(request);
    return request;
  }

  /** Deny a request (owners); the scientist reads the reason, so one is required. */
  async deny(id: string, reason: string): Promise<IRequest> {
    if (!reason || !reason.trim()) {
      throw new SyftRequestError(
        400,
        'bad_request',
        'Say why you deny it: the scientist sees the reason.'
      );
    }
    const request = await this._api<IRequest>(
      `requests/${encodeURIComponent(id)}/deny`,
      { method: 'POST', body: { reason: reason.trim() } }
    );
    this._decided(request);
    return request;
  }

  /**
   * Revoke an approval (owners): the Datasite records it as a denial of an approved request,
   * so the scientist can no longer run the code; they read the reason.
   */
  async revoke(id: string, reason: string): Promise<IRequest> {
    const current = this.getRequest(id);
    if (current && current.status !== 'approved') {
      throw new SyftRequestError(
        409,
        'not_approved',
        `This request is ${current.status}, not approved: there is no approval to revoke.`
      );
    }
    return this.deny(id, reason);
  }

  /** One request as the Datasite has it now (a 404 SyftRequestError: it does not exist). */
  async fetchRequest(id: string): Promise<IRequest> {
    const request = await this._api<IRequest>(
      `requests/${encodeURIComponent(id)}`
    );
    this._replaceRequest(request);
    return request;
  }

  /**
   * A request's history, oldest first (submitted, decided, runs, output reviews, by whom),
   * one page at a time: pass the answer's `next_cursor` back as `cursor` for the next one.
   */
  requestTimeline(
    id: string,
    cursor?: string,
    limit = PAGE_SIZE
  ): Promise<IPage<ITimelineEntry>> {
    return this._api<IPage<ITimelineEntry>>(
      `requests/${encodeURIComponent(id)}/timeline`,
      { query: { limit, order: 'oldest', cursor } }
    );
  }

  /**
   * Run a pending request's code on the mocks of the assets its input policy names, and
   * preview the result. Approved code would run on private data, so it is refused here.
   */
  async runOnMock(request: IRequest): Promise<IMockRun> {
    if (request.status !== 'pending' || request.code.status !== 'pending') {
      throw new SyftRequestError(
        409,
        'not_pending',
        'Only pending requests run on mocks here: decided code runs on private data or not at all.'
      );
    }
    const execution = await this.runOnMocks(request.code.id);
    if (!execution.ok || !execution.has_result) {
      return { execution, preview: null };
    }
    try {
      const preview = await this.executionPreview(execution.id);
      return { execution, preview };
    } catch (error) {
      return { execution, preview: null, previewError: messageOf(error) };
    }
  }

  /**
   * Run a code on the mocks of the assets its input policy names. The Datasite binds each
   * asset to its mock, and says why when it cannot (no mock, a value only a notebook can give).
   */
  runOnMocks(codeId: string): Promise<IExecution> {
    return this._api<IExecution>(
      `code/${encodeURIComponent(codeId)}/run-on-mocks`,
      { method: 'POST' }
    );
  }

  executionPreview(executionId: string): Promise<IPreview> {
    return this._api<IPreview>(
      `executions/${encodeURIComponent(executionId)}/preview`
    );
  }

  // --- outputs (owners) ---------------------------------------------------------------------
  /** Reload the outputs' first page and counts (owners; the poll calls it too). */
  async refreshOutputs(): Promise<void> {
    if (!this.isOwner) {
      return;
    }
    const generation = this._generation;
    const filter = this._outputFilter;
    try {
      const [first, counts] = await Promise.all([
        this._page<IOutput>('outputs'),
        this._countOutputs()
      ]);
      if (
        generation !== this._generation ||
        this._isDisposed ||
        filter !== this._outputFilter
      ) {
        return;
      }
      // A row decided since it was loaded leaves its state's list.
      this._outputs = this._mergeFirstPage(
        'outputs',
        this._outputs,
        first
      ).filter(output => filter === 'all' || output.state === filter);
      this._outputCounts = counts;
      if (this._errors.outputs) {
        this._errors = { ...this._errors, outputs: undefined };
      }
    } catch (error) {
      this._errors = { ...this._errors, outputs: messageOf(error) };
    }
    this._stateChanged.emit();
  }

  /** One output (owners): where it stands, its report, its votes. */
  async output(executionId: string): Promise<IOutput> {
    const output = await this._api<IOutput>(
      `outputs/${encodeURIComponent(executionId)}`
    );
    this._replaceOutput(output, false);
    return output;
  }

  /**
   * What the output view shows (owners): the output and its result's first rows. Released
   * with suppression, the preview is the value as computed (what the checks ran on).
   */
  async outputDetail(executionId: string): Promise<IOutputDetail> {
    const output = await this.output(executionId);
    if (!output.has_result) {
      return { output, preview: null };
    }
    const id = encodeURIComponent(executionId);
    if (output.suppressed) {
      try {
        const preview = await this._api<IPreview>(
          `outputs/${id}/original/preview`,
          { query: { rows: 50 } }
        );
        return { output, preview, original: true };
      } catch {
        // fall back to the result as released
      }
    }
    try {
      return { output, preview: await this.executionPreview(executionId) };
    } catch (error) {
      return { output, preview: null, previewError: messageOf(error) };
    }
  }

  /**
   * Release a held output to its requester (owners), with a comment they read; `suppress`:
   * with the cells its checks failed suppressed. With two reviewers, this is your vote.
   */
  async releaseOutput(
    executionId: string,
    comment: string,
    suppress = false
  ): Promise<IOutput> {
    const text = comment.trim();
    if (text.length > MAX_NOTE) {
      throw new SyftRequestError(
        400,
        'bad_request',
        `The comment is ${text.length} characters long: keep it to ${MAX_NOTE}.`
      );
    }
    const output = await this._api<IOutput>(
      `outputs/${encodeURIComponent(executionId)}/release`,
      { method: 'POST', body: { comment: text || null, suppress } }
    );
    this._replaceOutput(output, true);
    return output;
  }

  /** Withhold a held output (owners); its requester reads the reason, so one is required. */
  async withholdOutput(executionId: string, reason: string): Promise<IOutput> {
    const text = reason.trim();
    if (!text) {
      throw new SyftRequestError(
        400,
        'bad_request',
        'Say why you withhold it: the scientist reads the reason.'
      );
    }
    if (text.length > MAX_NOTE) {
      throw new SyftRequestError(
        400,
        'bad_request',
        `The reason is ${text.length} characters long: keep it to ${MAX_NOTE}.`
      );
    }
    const output = await this._api<IOutput>(
      `outputs/${encodeURIComponent(executionId)}/withhold`,
      { method: 'POST', body: { reason: text } }
    );
    this._replaceOutput(output, true);
    return output;
  }

  /**
   * Say why a held output of yours should be released (the scientist who asked for it); its
   * reviewers read it. A new justification replaces the last.
   */
  async justifyOutput(
    executionId: string,
    text: string
  ): Promise<IJustification> {
    const body = text.trim();
    if (!body) {
      throw new SyftRequestError(
        400,
        'bad_request',
        'Say why it should be released: the reviewers read it.'
      );
    }
    if (body.length > MAX_JUSTIFICATION) {
      throw new SyftRequestError(
        400,
        'bad_request',
        `The justification is ${body.length} characters long: keep it to ${MAX_JUSTIFICATION}.`
      );
    }
    return this._api<IJustification>(
      `outputs/${encodeURIComponent(executionId)}/justification`,
      { method: 'POST', body: { text: body } }
    );
  }

  // --- Datasites -----------------------------------------------------------------------------
  /** Show another Datasite (the local one, or a remote connection) and load it. */
  async setDatasite(ref: DatasiteRef): Promise<void> {
    const changed = !sameDatasite(ref, this._datasite);
    this._datasite = ref;
    this._metadata = null;
    this._me = null;
    this._datasets = [];
    this._projects = [];
    this._requests = [];
    this._knownRequestIds = null;
    this._outputs = [];
    this._outputCounts = noOutputs();
    this._cursors = {
      datasets: null,
      projects: null,
      requests: null,
      outputs: null
    };
    this._totals = { datasets: 0, projects: 0, requests: 0, outputs: 0 };
    this._statusCounts = null;
    this._errors = {};
    this._unread = 0;
    this._stateChanged.emit();
    if (changed) {
      this._datasiteChanged.emit(ref);
    }
    if (this._push) {
      this.startPush(); // another Datasite: its own channel, from now
    }
    await this.refresh();
  }

  /** The remote Datasites the server is logged into. */
  async loadRemotes(): Promise<readonly IRemote[]> {
    this._remotes = await this._request<IRemote[]>(
      REMOTES_API,
      {},
      this._settings
    );
    const ref = this._datasite;
    if (ref.kind === 'remote' && !this._remotes.some(r => r.id === ref.id)) {
      await this.setDatasite({ kind: 'local' });
    }
    this._stateChanged.emit();
    return this._remotes;
  }

  /**
   * Log into a remote Datasite as a scientist. The server keeps the Datasite's token; the
   * password goes out in this one call and is kept nowhere here.
   */
  async connectRemote(
    url: string,
    email: string,
    password: string
  ): Promise<IRemote> {
    const remote = await this._request<IRemote>(
      REMOTES_API,
      { method: 'POST', body: { url, email, password } },
      this._settings
    );
    this._remotes = [
      ...this._remotes.filter(other => other.id !== remote.id),
      remote
    ];
    await this.setDatasite({ kind: 'remote', id: remote.id });
    return remote;
  }

  /** Log out of a remote Datasite and forget it. */
  async disconnectRemote(id: string): Promise<void> {
    await this._request<unknown>(
      `${REMOTES_API}/${encodeURIComponent(id)}`,
      { method: 'DELETE' },
      this._settings
    );
    this._remotes = this._remotes.filter(remote => remote.id !== id);
    if (this._datasite.kind === 'remote' && this._datasite.id === id) {
      await this.setDatasite({ kind: 'local' });
    } else {
      this._stateChanged.emit();
    }
  }

  // --- activity and jobs (src/activity.ts) ---------------------------------------------------
  /**
   * One page of the audit log, newest first (owners; nothing is asked of the Datasite for
   * anyone else). Filters are trimmed; empty ones are left out.
   */
  async auditEvents(
    filter: IAuditFilter = {},
    cursor?: string | null,
    limit: number = AUDIT_PAGE_SIZE
  ): Promise<IPage<IAuditEvent>> {
    this._ownersOnly('read the activity log');
    const query: Record<string, string | number | undefined> = {
      limit,
      order: 'newest',
      cursor: cursor || undefined
    };
    for (const key of ['user', 'object_id', 'object_type', 'action'] as const) {
      const value = (filter[key] ?? '').trim();
      query[key] = value || undefined;
    }
    return this._api<IPage<IAuditEvent>>('audit/events', { query });
  }

  /** The audit chain checked on the Datasite (owners). */
  async auditVerification(): Promise<IAuditVerification> {
    this._ownersOnly('check the activity log');
    return this._api<IAuditVerification>('audit/verify');
  }

  /**
   * One page of the jobs the account may see (owners: everyone's; others: their own), newest
   * first; `state` active (queued or running), finished, or all.
   */
  jobs(
    state: JobState = 'active',
    cursor?: string | null,
    limit: number = PAGE_SIZE
  ): Promise<IPage<IJob>> {
    return this._api<IPage<IJob>>('jobs', {
      query: {
        limit,
        order: 'newest',
        cursor: cursor || undefined,
        state: state === 'all' ? undefined : state
      }
    });
  }

  /** One job and its progress. */
  job(id: string): Promise<IJob> {
    return this._api<IJob>(`jobs/${encodeURIComponent(id)}`);
  }

  /** Stop a running job, or cancel a queued one (owners, or the job's requester). */
  killJob(id: string): Promise<IJob> {
    return this._api<IJob>(`jobs/${encodeURIComponent(id)}/kill`, {
      method: 'POST'
    });
  }

  /** Refuse, without a request, what only owners may do. */
  private _ownersOnly(what: string): void {
    if (!this.isOwner) {
      throw new SyftRequestError(
        403,
        'forbidden',
        `Only the Datasite's owners ${what}.`
      );
    }
  }

  /** The first cell of a notebook connecting to the Datasite shown. */
  connectionCell(): string {
    return connectionCellSource(this.currentRemote);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stopPolling();
    this.stopPush();
    Signal.clearData(this);
  }

  // --- internals -----------------------------------------------------------------------------
  private _api<T>(path: string, options: IRequestOptions = {}): Promise<T> {
    return this._request<T>(this.apiPath(path), options, this._settings);
  }

  /** The first page (or the page after `cursor`) of a list, in the list's order. */
  private _page<T>(section: PagedSection, cursor?: string): Promise<IPage<T>> {
    const state =
      section === 'outputs' && this._outputFilter !== 'all'
        ? this._outputFilter
        : undefined;
    return this._api<IPage<T>>(section, {
      query: { limit: PAGE_SIZE, order: ORDER[section], cursor, state }
    });
  }

  /** Outputs per state on the Datasite (a page of one row each: its `total`). */
  private async _countOutputs(): Promise<Record<OutputFilter, number>> {
    const totals = await Promise.all(
      OUTPUT_STATES.map(state =>
        this._api<IPage<IOutput>>('outputs', {
          query: { state, limit: 1 }
        }).then(page => page.total)
      )
    );
    return {
      all: totals[0] + totals[1] + totals[2],
      held: totals[0],
      released: totals[1],
      withheld: totals[2]
    };
  }

  /** Keep a fresh copy of an output; after a decision, recount the states. */
  private _replaceOutput(output: IOutput, decided: boolean): void {
    const index = this._outputs.findIndex(
      other => other.execution_id === output.execution_id
    );
    if (index >= 0) {
      this._outputs = [
        ...this._outputs.slice(0, index),
        output,
        ...this._outputs.slice(index + 1)
      ];
    }
    if (decided) {
      this._outputDecided.emit(output);
      void this.refreshOutputs().catch(() => undefined);
    }
    this._stateChanged.emit();
  }

  /**
   * While not every request is loaded, the Datasite's count per status (a page of one row
   * each: its `total`), so the pending badge never counts only what is loaded; else null.
   */
  private async _countStatuses(): Promise<Record<StatusFilter, number> | null> {
    if (this._cursors.requests === null) {
      return null;
    }
    const statuses = ['pending', 'approved', 'rejected'] as const;
    const totals = await Promise.all(
      statuses.map(status =>
        this._api<IPage<IRequest>>('requests', {
          query: { status, limit: 1 }
        }).then(page => page.total)
      )
    );
    return {
      all: this._totals.requests,
      pending: totals[0],
      approved: totals[1],
      rejected: totals[2]
    };
  }

  /** Keep a first page's cursor and total; its rows ([] if it failed). */
  private _firstPage<T>(section: PagedSection, page: IPage<T> | null): T[] {
    this._cursors[section] = page?.next_cursor ?? null;
    this._totals[section] = page?.total ?? 0;
    return page?.items ?? [];
  }

  /**
   * A fresh first page, merged into what is loaded: its rows replace their older copies and
   * new ones join at the front; pages loaded with "Load more" stay. If more rows arrived than
   * a page holds (no overlap with what is loaded), start again from this page.
   */
  private _mergeFirstPage<T extends object>(
    section: PagedSection,
    loaded: readonly T[],
    page: IPage<T>
  ): T[] {
    const fresh = new Set(page.items.map(rowId));
    const overlaps = loaded.some(row => fresh.has(rowId(row)));
    this._totals[section] = page.total;
    if (page.next_cursor === null || !overlaps) {
      this._cursors[section] = page.next_cursor; // it holds everything, or starts over
      return page.items;
    }
    return [...page.items, ...loaded.filter(row => !fresh.has(rowId(row)))];
  }

  /** Store the requests; returns those not seen before (none on a Datasite's first load). */
  private _setRequests(requests: IRequest[], announce: boolean): IRequest[] {
    const known = this._knownRequestIds;
    const added =
      known === null || !announce
        ? []
        : requests.filter(request => !known.has(request.id));
    this._requests = requests;
    this._knownRequestIds = new Set([
      ...(known ?? []),
      ...requests.map(request => request.id)
    ]);
    return added;
  }

  private _replaceRequest(request: IRequest): void {
    const index = this._requests.findIndex(other => other.id === request.id);
    if (index >= 0) {
      const changed = this._requests[index].status !== request.status;
      this._requests = [
        ...this._requests.slice(0, index),
        request,
        ...this._requests.slice(index + 1)
      ];
      if (changed) {
        this._stateChanged.emit();
      }
    }
  }

  private _decided(request: IRequest): void {
    const index = this._requests.findIndex(other => other.id === request.id);
    this._requests =
      index >= 0
        ? [
            ...this._requests.slice(0, index),
            request,
            ...this._requests.slice(index + 1)
          ]
        : [...this._requests, request];
    this._stateChanged.emit();
    this._requestDecided.emit(request);
  }

  private _request: RequestFunction;
  private _settings: ServerConnection.ISettings | undefined;
  private _pollInterval: number;
  private _poll: Poll | null = null;
  private _stream: StreamFunction;
  private _pushOptions: Partial<PushChannel.IOptions>;
  private _push: PushChannel | null = null;
  private _pendingEvents: IPushEvent[] = [];
  private _draining = false;
  private _unread = 0;
  private _pushed = new Signal<this, IPushEvent[]>(this);
  private _generation = 0;
  private _isDisposed = false;
  private _loading = false;
  private _datasite: DatasiteRef = { kind: 'local' };
  private _remotes: IRemote[] = [];
  private _metadata: IMetadata | null = null;
  private _me: IUser | null = null;
  private _datasets: IDataset[] = [];
  private _projects: IProject[] = [];
  private _requests: IRequest[] = [];
  private _knownRequestIds: Set<string> | null = null;
  private _outputs: IOutput[] = [];
  private _outputFilter: OutputFilter = 'held';
  private _outputCounts: Record<OutputFilter, number> = noOutputs();
  private _cursors: Record<PagedSection, string | null> = {
    datasets: null,
    projects: null,
    requests: null,
    outputs: null
  };
  private _totals: Record<PagedSection, number> = {
    datasets: 0,
    projects: 0,
    requests: 0,
    outputs: 0
  };
  private _statusCounts: Record<StatusFilter, number> | null = null;
  private _statusFilter: StatusFilter = 'all';
  private _errors: Partial<Record<Section, string>> = {};
  private _stateChanged = new Signal<this, void>(this);
  private _newRequests = new Signal<this, IRequest[]>(this);
  private _requestDecided = new Signal<this, IRequest>(this);
  private _datasiteChanged = new Signal<this, DatasiteRef>(this);
  private _outputDecided = new Signal<this, IOutput>(this);
}

export namespace SyftModel {
  export interface IOptions {
    /** Server settings (default: ServerConnection.makeSettings()). */
    serverSettings?: ServerConnection.ISettings;
    /** How often to look for new requests, in ms (default 5000). */
    pollInterval?: number;
    /** The request function (default: requestAPI). */
    request?: RequestFunction;
    /** The stream function (default: openEventStream). */
    stream?: StreamFunction;
    /** The push channel's timing (tests: a fake sleep and clock). */
    push?: Partial<PushChannel.IOptions>;
  }
}

/** No outputs (not an owner, or none loaded yet). */
function noOutputs(): Record<OutputFilter, number> {
  return { all: 0, held: 0, released: 0, withheld: 0 };
}

/** A list row's id: an output is known by its run's id. */
function rowId(row: object): string {
  const value = row as { id?: string; execution_id?: string };
  return value.id ?? value.execution_id ?? '';
}

/** A message for the user from any error. */
export function messageOf(error: unknown): string {
  if (error instanceof SyftRequestError) {
    return error.detail;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** True when two references name the same Datasite. */
export function sameDatasite(a: DatasiteRef, b: DatasiteRef): boolean {
  if (a.kind === 'local' || b.kind === 'local') {
    return a.kind === b.kind;
  }
  return a.id === b.id;
}
