/**
 * Types shared by the model and the views: the Datasite REST API's JSON (generated from the
 * API's OpenAPI document), plus the sidebar's own state.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import { components } from './api/schema';

/** The left sidebar panel's id (stable: tests and the layout restorer use it). */
export const SIDEBAR_ID = 'jupyter-syft-sidebar';

/** Where the local Datasite (hosted by this JupyterLab) answers, relative to base_url. */
export const LOCAL_API = 'syft/lab/api/v1';

/** The remote-connection routes of the server extension, relative to base_url. */
export const REMOTES_API = 'syft/lab/remotes';

/** Command ids. */
export namespace CommandIDs {
  export const openSidebar = 'jupyter-syft:open-sidebar';
  export const refresh = 'jupyter-syft:refresh';
  export const newConnectionNotebook = 'jupyter-syft:new-connection-notebook';
  export const openRequest = 'jupyter-syft:open-request';
  export const openOutput = 'jupyter-syft:open-output';
  export const reviewNext = 'jupyter-syft:review-next';
  export const openActivity = 'jupyter-syft:open-activity';
  export const openJobs = 'jupyter-syft:open-jobs';
}

/** Roles, highest first (jupyter_syft/roles.py). */
export type Role = 'ADMIN' | 'DATA_OWNER' | 'DATA_SCIENTIST' | 'GUEST';

/**
 * The Datasite API's JSON, generated from its OpenAPI document (`jlpm build:api` writes
 * src/api/schema.ts from specification/datasite-api.json, itself written from
 * jupyter_syft/wire/models.py): never declare a Datasite API shape by hand here. (IRemote
 * below is the server extension's own remotes route, not the Datasite's.)
 */
type Schemas = components['schemas'];

/** Where a request (and its code) stands: one lowercase vocabulary on the wire. */
export type RequestStatus = Schemas['Decision'];

/** A status filter for the request list: one status, or all of them. */
export type StatusFilter = 'all' | RequestStatus;

export type IUser = Schemas['User'];
/** How many notifications the account's inbox holds, and how many are unread. */
export type INotificationCount = Schemas['NotificationCount'];
export type IMetadata = Schemas['Metadata'];
export type IContributor = Schemas['Contributor'];
export type IAsset = Schemas['Asset'];
export type IDataset = Schemas['Dataset'];
export type IProject = Schemas['Project'];
/** One static-analysis finding (jupyter_syft/analysis.py). */
export type IFinding = Schemas['Finding'];
/** One input of an input policy: an asset, a type, or a constant. */
export type IPolicyInput = Schemas['InputPolicy']['inputs'][string];
export type ICode = Schemas['Code'];
export type IRequest = Schemas['Request'];
/** A function a request launches as a nested job: approve_nested approves exactly these. */
export type INestedFunction = Schemas['NestedFunction'];
/** One step of a request's history (from the Datasite's audit log). */
export type ITimelineEntry = Schemas['TimelineEntry'];
/** One run of a code. */
export type IExecution = Schemas['Execution'];
/** A result of a run on private data, for the owners' output review. */
export type IOutput = Schemas['Output'];
/** A scientist's justification of a held output of theirs (what the reviewers read). */
export type IJustification = Schemas['Justification'];
/** One owner's vote on a held output (two-person review). */
export type IOutputVote = Schemas['OutputVote'];
/** Where an output stands: held (waiting for an owner), released or withheld. */
export type ReleaseState = Schemas['ReleaseState'];
/** A state filter for the output list: one state, or all of them. */
export type OutputFilter = 'all' | ReleaseState;
/** The disclosure checks of a result, and one of its checks. */
export type IDisclosureReport = Schemas['DisclosureReport'];
export type IDisclosureCheck = Schemas['DisclosureCheck'];
/** One event of the Datasite's hash-chained audit log (owners). */
export type IAuditEvent = Schemas['AuditEvent'];
/** The audit chain checked on the Datasite: verified, or where it breaks and why. */
export type IAuditVerification = Schemas['AuditVerification'];
/** The audit log's filters: who acted, which object, an action prefix (e.g. `request.`). */
export interface IAuditFilter {
  user?: string;
  object_id?: string;
  object_type?: string;
  action?: string;
}
/** A background run (`blocking=False`): its progress, requester and, once it ran, its run. */
export type IJob = Schemas['Job'];
/** Which jobs: queued or running (`active`), ended (`finished`), or all. */
export type JobState = 'active' | 'finished' | 'all';
/** A JSON preview of a value: an asset's first rows or a run's result. */
export type IPreview =
  | Schemas['DataFramePreview']
  | Schemas['ArrayPreview']
  | Schemas['TextPreview'];

/**
 * One page of a Datasite list route: pass `next_cursor` back as `cursor` for the next page;
 * null when there is none. `total`: rows under the filters. (Every generated `*Page` is this.)
 */
export type IPage<T> = Omit<Schemas['RequestPage'], 'items'> & { items: T[] };

/** The lists the sidebar pages through. */
export type PagedSection = 'datasets' | 'projects' | 'requests' | 'outputs';

/** A remote Datasite this JupyterLab is logged into (never holds a token or password). */
export interface IRemote {
  id: string;
  url: string;
  email: string;
  name: string;
  role: Role | string;
}

/** Which Datasite the sidebar shows: the local one, or a remote connection. */
export type DatasiteRef = { kind: 'local' } | { kind: 'remote'; id: string };

/** One line of a line diff. */
export interface IDiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
  /** 1-based line number in the old text (for 'same' and 'removed'). */
  oldLine?: number;
  /** 1-based line number in the new text (for 'same' and 'added'). */
  newLine?: number;
}

/** Everything the review view shows for one request. */
export interface IRequestDetail {
  request: IRequest;
  /** The same function's previous submission by the same scientist, if any. */
  previous: ICode | null;
  /** Line diff of raw_code against the previous submission (null: none). */
  diff: IDiffLine[] | null;
  /** Earlier runs of this code. */
  executions: IExecution[];
}

/** The result of "Run on mock". */
export interface IMockRun {
  execution: IExecution;
  preview: IPreview | null;
  previewError?: string;
}

/** Everything the output view shows for one output (owners). */
export interface IOutputDetail {
  output: IOutput;
  /** The result's first rows (null: no result, or it could not be previewed). */
  preview: IPreview | null;
  previewError?: string;
  /** True when the preview is the value as computed, before suppression. */
  original?: boolean;
}

/** The sidebar model's public face, for other plugins. */
export interface ISyftModel {
  readonly stateChanged: ISignal<ISyftModel, void>;
  readonly datasite: DatasiteRef;
  readonly me: IUser | null;
  readonly isOwner: boolean;
  refresh(): Promise<void>;
}

export const ISyftModel = new Token<ISyftModel>(
  'jupyter-syft:ISyftModel',
  'The jupyter_syft sidebar model: the Datasite shown, its datasets, projects and requests.'
);
