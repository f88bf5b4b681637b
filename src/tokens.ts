/**
 * Types shared by the model and the views: the Datasite REST API's JSON, as the
 * services in jupyter_syft/server/services/*.py produce it, plus the sidebar's own state.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

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
}

/** Roles, highest first (jupyter_syft/roles.py). */
export type Role = 'ADMIN' | 'DATA_OWNER' | 'DATA_SCIENTIST' | 'GUEST';

export type RequestStatus = 'PENDING' | 'APPROVED' | 'REJECTED';

/** A status filter for the request list: one status, or all of them. */
export type StatusFilter = 'all' | 'pending' | 'approved' | 'rejected';

export interface IUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  institution?: string;
  website?: string;
  mock_execution_permission?: boolean;
  created_at?: string | null;
}

export interface IMetadata {
  name: string;
  [key: string]: unknown;
}

export interface IContributor {
  name: string;
  email?: string;
  role?: string;
  phone?: string;
  note?: string;
}

export interface IAsset {
  id: string;
  dataset_id: string;
  name: string;
  description: string;
  contributors: IContributor[];
  shape: number[] | null;
  mock_is_real: boolean;
  has_mock: boolean;
  mock_summary?: Record<string, unknown> | null;
  data_type?: string | null;
  /** True for owners: they may preview the private value. */
  can_read_data: boolean;
  created_at?: string | null;
}

export interface IDataset {
  id: string;
  name: string;
  summary: string;
  description: string;
  citation: string;
  url: string;
  contributors: IContributor[];
  uploader: { name: string; email: string } | null;
  created_at: string | null;
  mb_size: number;
  assets: IAsset[];
}

export interface IProject {
  id: string;
  name: string;
  description: string;
  created_at: string | null;
  user: { name: string; email: string } | null;
  request_ids: string[];
}

/** One static-analysis finding (jupyter_syft/analysis.py Finding.to_json). */
export interface IFinding {
  kind: string;
  severity: 'error' | 'warning' | string;
  line: number;
  name: string;
  message: string;
}

/** One input of an input policy. */
export interface IPolicyInput {
  kind: 'asset' | 'type' | 'constant' | string;
  id?: string;
  name?: string;
  type?: string;
  data?: string;
  preview?: string;
}

export interface ICode {
  id: string;
  service_func_name: string;
  raw_code: string;
  code: string;
  parameters: string[];
  input_policy: { type: string; inputs: Record<string, IPolicyInput> };
  output_policy: { type: string; limit: number };
  findings: IFinding[];
  status: string;
  runs_used: number;
  share_results_with_owners?: boolean;
  worker_pool_name?: string;
  submit_time: string | null;
  user: { name: string; email: string } | null;
}

export interface IRequest {
  id: string;
  status: RequestStatus;
  reason: string;
  deny_reason: string;
  created_at: string | null;
  updated_at: string | null;
  requesting_user_name: string;
  requesting_user_email: string;
  requesting_user_institution: string;
  project: { id: string; name: string } | null;
  code: ICode;
  /** The functions this code launches as nested jobs (from its real calls), with their code. */
  nested?: INestedFunction[];
  sandbox?: string;
}

/** A function a request launches as a nested job: approve_nested approves exactly these. */
export interface INestedFunction {
  name: string;
  /** null: its author has not submitted a function of that name. */
  code_id: string | null;
  raw_code: string;
  submit_time: string | null;
  approved_as_nested: boolean;
}

/**
 * One page of a Datasite list route (server/services/paging.py): pass `next_cursor` back as
 * `cursor` for the next page; null when there is none. `total`: rows under the filters.
 */
export interface IPage<T> {
  items: T[];
  next_cursor: string | null;
  total: number;
}

/** The lists the sidebar pages through. */
export type PagedSection = 'datasets' | 'projects' | 'requests';

/** One run of a code (CodeService.execution_view). */
export interface IExecution {
  id: string;
  code_id: string;
  ok: boolean;
  on_private_data: boolean;
  deposited: boolean;
  error: string;
  error_kind: string;
  sandbox: string;
  duration_s: number | null;
  created_at: string | null;
  has_result: boolean;
  notice: string;
  stdout?: string;
  stderr?: string;
}

/** A JSON preview of a value: an asset's first rows or a run's result. */
export interface IPreview {
  kind: 'dataframe' | 'array' | 'text' | string;
  shape?: number[] | null;
  columns?: string[] | null;
  rows?: unknown[][] | null;
  text?: string | null;
}

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
