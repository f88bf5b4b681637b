/**
 * Test data shaped like the Datasite's JSON, and a fake server for the model. Typed by the
 * types generated from the API's OpenAPI document: a fixture that drifts fails `tsc`.
 */
import { SyftModel } from '../model';
import { IRequestOptions, SyftRequestError } from '../request';
import {
  ICode,
  IDataset,
  IExecution,
  IOutput,
  IPage,
  IProject,
  IRequest,
  IUser
} from '../tokens';

export const owner: IUser = {
  id: 'u-owner',
  email: 'info@openmined.org',
  name: 'Jane Owner',
  role: 'ADMIN',
  institution: '',
  website: '',
  mock_execution_permission: true,
  disabled: false,
  created_at: '2026-11-22T08:00:00Z'
};

export const scientist: IUser = {
  id: 'u-ds',
  email: 'ds@example.org',
  name: 'Dana Scientist',
  role: 'DATA_SCIENTIST',
  institution: 'Uni',
  website: '',
  mock_execution_permission: false,
  disabled: false,
  created_at: '2026-11-22T08:30:00Z'
};

export function makeCode(overrides: Partial<ICode> = {}): ICode {
  return {
    id: 'c1',
    service_func_name: 'mean_age',
    raw_code:
      '@sy.syft_function_single_use(data=asset)\ndef mean_age(data):\n    return data["age"].mean()\n',
    code: 'def mean_age(data):\n    return data["age"].mean()\n',
    parameters: ['data'],
    input_policy: {
      type: 'ExactMatch',
      inputs: { data: { kind: 'asset', id: 'a1', name: 'table' } }
    },
    output_policy: { type: 'OutputPolicyExecuteOnce', limit: 1 },
    findings: [],
    status: 'pending',
    runs_used: 0,
    share_results_with_owners: false,
    worker_pool_name: 'default-pool',
    environment: '',
    submit_time: '2026-11-22T10:00:00Z',
    user: { name: scientist.name, email: scientist.email },
    ...overrides
  };
}

export function makeRequest(overrides: Partial<IRequest> = {}): IRequest {
  return {
    id: 'r1',
    status: 'pending',
    reason: 'Average age per group',
    deny_reason: '',
    decided_by: null,
    decided_at: null,
    created_at: '2026-11-22T10:00:00Z',
    updated_at: '2026-11-22T10:00:00Z',
    requesting_user_name: scientist.name,
    requesting_user_email: scientist.email,
    requesting_user_institution: 'Uni',
    project: { id: 'p1', name: 'Ages' },
    code: makeCode(),
    nested: [],
    sandbox: 'bwrap',
    ...overrides
  };
}

/** A held output whose disclosure checks fail one cell of a two-row table. */
export function makeOutput(overrides: Partial<IOutput> = {}): IOutput {
  return {
    execution_id: 'e1',
    code_id: 'c1',
    request_id: 'r1',
    service_func_name: 'count_by_ward',
    user: { name: scientist.name, email: scientist.email },
    state: 'held',
    report: {
      outcome: 'fail',
      rules: 'acro',
      rules_digest: 'abc',
      checks: [
        {
          rule: 'threshold',
          outcome: 'fail',
          reason: '1 cell counts fewer than 10',
          cells: [['ward B', 'count']]
        },
        {
          rule: 'dominance',
          outcome: 'pass',
          reason: 'no cell is dominated',
          cells: []
        }
      ]
    },
    has_result: true,
    ok: true,
    created_at: '2026-11-22T12:00:00Z',
    decided_by: null,
    decided_at: null,
    decision_note: '',
    suppressed: false,
    suppressed_cells: 0,
    votes_needed: 1,
    votes_cast: 0,
    my_vote: null,
    votes: [],
    conflict: false,
    justification: '',
    justified_at: null,
    ...overrides
  };
}

/** A run on private data whose output is held. */
export function makeExecution(overrides: Partial<IExecution> = {}): IExecution {
  return {
    id: 'e1',
    code_id: 'c1',
    ok: true,
    on_private_data: true,
    deposited: false,
    error: '',
    error_kind: '',
    sandbox: 'bwrap',
    duration_s: 0.5,
    created_at: '2026-11-22T12:00:00Z',
    has_result: true,
    notice: '',
    release: 'held',
    release_note: '',
    report: makeOutput().report,
    ...overrides
  };
}

export const dataset: IDataset = {
  id: 'd1',
  name: 'Patients',
  summary: 'Ages and scores',
  description: 'Synthetic.',
  citation: '',
  url: '',
  contributors: [{ name: 'Ann', role: 'Curator' }],
  uploader: { name: owner.name, email: owner.email },
  created_at: '2026-11-22T09:00:00Z',
  mb_size: 0.01,
  assets: [
    {
      id: 'a1',
      dataset_id: 'd1',
      name: 'table',
      description: 'One row per patient',
      contributors: [{ name: 'Bob', role: 'Analyst' }],
      shape: [50, 2],
      mock_is_real: false,
      has_mock: true,
      mock_summary: null,
      mock_size: 1024,
      data_type: 'DataFrame',
      can_read_data: true,
      created_at: '2026-11-22T09:00:00Z',
      data_subjects: []
    }
  ]
};

export const project: IProject = {
  id: 'p1',
  name: 'Ages',
  description: 'Study ages',
  created_at: '2026-11-22T09:30:00Z',
  user: { name: scientist.name, email: scientist.email },
  request_ids: ['r1']
};

type Handler = (options: IRequestOptions) => unknown;

/** A list route's answer holding every item on one page (server/services/paging.py). */
export function page<T>(
  items: T[],
  next_cursor: string | null = null
): IPage<T> {
  return { items, next_cursor, total: items.length };
}

/** Answers model calls from a table of "METHOD endpoint" -> handler, and records them. */
export class FakeServer {
  calls: { method: string; endpoint: string; options: IRequestOptions }[] = [];
  routes = new Map<string, Handler>();

  on(method: string, endpoint: string, handler: Handler | unknown): this {
    this.routes.set(
      `${method} ${endpoint}`,
      typeof handler === 'function' ? (handler as Handler) : () => handler
    );
    return this;
  }

  /** The standard local Datasite, seen by its owner. */
  withLocalDatasite(requests: IRequest[] = [makeRequest()]): this {
    const base = 'syft/lab/api/v1';
    return this.on('GET', `${base}/metadata`, { name: 'Test Datasite' })
      .on('GET', `${base}/users/me`, owner)
      .on('GET', `${base}/datasets`, page([dataset]))
      .on('GET', `${base}/projects`, page([project]))
      .on('GET', `${base}/requests`, () => page(requests))
      .on('GET', `${base}/outputs`, page([]));
  }

  request = async <T>(
    endpoint: string,
    options: IRequestOptions = {}
  ): Promise<T> => {
    const method = options.method ?? 'GET';
    this.calls.push({ method, endpoint, options });
    const handler = this.routes.get(`${method} ${endpoint}`);
    if (!handler) {
      throw new SyftRequestError(404, 'not_found', `No route ${endpoint}`);
    }
    return handler(options) as T;
  };

  called(method: string, endpoint: string): IRequestOptions[] {
    return this.calls
      .filter(call => call.method === method && call.endpoint === endpoint)
      .map(call => call.options);
  }
}

const models: SyftModel[] = [];

/** A model calling `server`; disposed by disposeModels() after each test. */
export function newModel(server: FakeServer): { model: SyftModel } {
  const model = new SyftModel({ request: server.request });
  models.push(model);
  return { model };
}

export function disposeModels(): void {
  while (models.length) {
    models.pop()!.dispose();
  }
}
