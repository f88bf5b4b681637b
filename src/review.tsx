/**
 * A request's review tab: a MainAreaWidget (so closing it disposes it, and a click in the
 * sidebar opens it again) with a toolbar of labelled commands (Refresh, Run on mock, Open in
 * notebook); one tab per request, restored after a reload only while its request exists.
 */
import React from 'react';
import { JupyterFrontEnd, ILayoutRestorer } from '@jupyterlab/application';
import {
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import {
  CommandToolbarButton,
  ReactWidget,
  refreshIcon,
  runIcon,
  notebookIcon
} from '@jupyterlab/ui-components';

import {
  RequestReview,
  ReviewActions,
  runSnippet
} from './components/RequestReview';
import { DOMAIN, TranslationContext } from './i18n';
import { messageOf, SyftModel } from './model';
import { SyftRequestError } from './request';
import { CommandIDs, IRequest } from './tokens';
import { syftIcon } from './widgets';

/** The review tab's own commands (its toolbar's buttons; also in the palette). */
export namespace ReviewCommandIDs {
  export const refresh = 'jupyter-syft:review-refresh';
  export const runOnMock = 'jupyter-syft:review-run-on-mock';
  export const openInNotebook = 'jupyter-syft:review-open-in-notebook';
}

/** The main-area id of a request's review (one tab per request). */
export function reviewWidgetId(requestId: string): string {
  return `jupyter-syft-request-${requestId}`;
}

/** The React view inside the tab. */
class RequestReviewContent extends ReactWidget {
  constructor(
    private _options: RequestReviewWidget.IOptions & {
      actions: ReviewActions;
      onLoaded: (request: IRequest) => void;
      trans: TranslationBundle;
    }
  ) {
    super();
    this.addClass('jp-syft-review-widget');
  }

  protected render(): JSX.Element {
    const options = this._options;
    return (
      <TranslationContext.Provider value={options.trans}>
        <RequestReview
          model={options.model}
          requestId={options.requestId}
          editorFactory={options.editorFactory}
          onOpenOutput={options.onOpenOutput}
          onOpenNotebook={options.onOpenNotebook}
          onLoaded={options.onLoaded}
          actions={options.actions}
        />
      </TranslationContext.Provider>
    );
  }
}

export class RequestReviewWidget extends MainAreaWidget<ReactWidget> {
  constructor(options: RequestReviewWidget.IOptions) {
    const trans = options.trans ?? nullTranslator.load(DOMAIN);
    const actions = new ReviewActions();
    const holder: { widget: RequestReviewWidget | null } = { widget: null };
    const content = new RequestReviewContent({
      ...options,
      actions,
      trans,
      onLoaded: request => holder.widget?._onLoaded(request)
    });
    super({ content });
    holder.widget = this;
    this._trans = trans;
    this._requestId = options.requestId;
    this.actions = actions;
    this.id = reviewWidgetId(options.requestId);
    this.addClass('jp-syft-review-main');
    this.title.icon = syftIcon;
    this.title.label = options.label ?? trans.__('Code request');
    this.title.caption = trans.__('Code request %1', options.requestId);
    this.title.closable = true;
    this.toolbar.node.setAttribute(
      'aria-label',
      trans.__('Code request actions')
    );
    if (options.commands) {
      const args = { id: options.requestId };
      for (const [name, id, icon] of [
        ['refresh', ReviewCommandIDs.refresh, refreshIcon],
        ['run-on-mock', ReviewCommandIDs.runOnMock, runIcon],
        ['open-in-notebook', ReviewCommandIDs.openInNotebook, notebookIcon]
      ] as const) {
        this.toolbar.addItem(
          name,
          new CommandToolbarButton({
            commands: options.commands,
            id,
            args,
            icon,
            label: options.commands.label(id, args)
          })
        );
      }
    }
  }

  /** The toolbar's requests, and the review's state for its buttons. */
  readonly actions: ReviewActions;

  get requestId(): string {
    return this._requestId;
  }

  private _onLoaded(request: IRequest): void {
    this.title.label = this._trans.__(
      'Request: %1',
      request.code.service_func_name
    );
  }

  private _requestId: string;
  private _trans: TranslationBundle;
}

export namespace RequestReviewWidget {
  export interface IOptions {
    model: SyftModel;
    requestId: string;
    label?: string;
    editorFactory?: CodeEditor.Factory | null;
    onOpenOutput?: (executionId: string) => void;
    onOpenNotebook?: (source: string) => void;
    /** The application's commands: the toolbar's buttons run the review commands. */
    commands?: JupyterFrontEnd['commands'];
    trans?: TranslationBundle;
  }
}

/**
 * Register the review tabs: the open-request command (one tab per request), the toolbar's
 * commands, the tracker and the layout restorer. Returns a function opening a request's tab.
 */
export function registerReviews(options: {
  app: JupyterFrontEnd;
  model: SyftModel;
  trans: TranslationBundle;
  restorer: ILayoutRestorer | null;
  editorFactory: CodeEditor.Factory | null;
  /** Open a notebook connected to the Datasite whose first cell also runs `source`. */
  openNotebook: (source: string) => Promise<unknown>;
}): (id: string) => RequestReviewWidget {
  const { app, model, trans, restorer } = options;
  const { commands, shell } = app;
  const tracker = new WidgetTracker<RequestReviewWidget>({
    namespace: 'jupyter-syft-request'
  });
  // A review talks to the Datasite shown when it was opened: reviews close when another
  // one is shown, and only the local Datasite's come back after a page reload.
  const reviews = new Set<RequestReviewWidget>();
  model.datasiteChanged.connect(() => {
    for (const review of [...reviews]) {
      review.close();
    }
  });

  const openNotebook = (source: string): void => {
    void options.openNotebook(source).catch(() => {
      /* reported by the command */
    });
  };

  const openRequest = (id: string): RequestReviewWidget => {
    let widget = [...reviews].find(w => w.requestId === id && !w.isDisposed);
    if (!widget) {
      const request = model.getRequest(id);
      const created = new RequestReviewWidget({
        model,
        requestId: id,
        label: request
          ? trans.__('Request: %1', request.code.service_func_name)
          : undefined,
        editorFactory: options.editorFactory,
        onOpenOutput: executionId =>
          void commands
            .execute(CommandIDs.openOutput, { id: executionId })
            .catch(error =>
              Notification.error(messageOf(error), { autoClose: 8000 })
            ),
        onOpenNotebook: openNotebook,
        commands,
        trans
      });
      reviews.add(created);
      created.disposed.connect(() => reviews.delete(created));
      created.actions.changed.connect(notifyReviewCommands);
      if (model.datasite.kind === 'local') {
        void tracker.add(created);
      }
      shell.add(created, 'main');
      widget = created;
    }
    if (!widget.isAttached) {
      shell.add(widget, 'main');
    }
    shell.activateById(widget.id);
    return widget;
  };

  const reviewOf = (args: { id?: unknown }): RequestReviewWidget | null => {
    const id = args.id ? String(args.id) : tracker.currentWidget?.requestId;
    return (id && [...reviews].find(w => w.requestId === id)) || null;
  };
  const requestArgs = {
    args: {
      type: 'object',
      properties: {
        id: {
          type: 'string',
          description: trans.__('The request id (default: the current review)')
        }
      }
    }
  } as const;

  commands.addCommand(CommandIDs.openRequest, {
    label: args =>
      args.id
        ? trans.__('Review Code Request %1', args.id)
        : trans.__('Review Code Request'),
    caption: trans.__(
      "Open a code request's review: its code, findings and decision"
    ),
    describedBy: {
      args: {
        type: 'object',
        properties: {
          id: { type: 'string', description: trans.__('The request id') },
          restoring: {
            type: 'boolean',
            description: trans.__(
              'True when the layout restorer reopens it: a request gone from the Datasite is not reopened'
            )
          }
        },
        required: ['id']
      }
    },
    execute: async args => {
      const id = String(args.id ?? '');
      if (!id) {
        throw new Error(trans.__('Give the id of the request to review.'));
      }
      if (args.restoring) {
        // A tab saved in the workspace: its request may be gone (a new Datasite, or the
        // remote one it came from). Close it with a word rather than show a 404.
        try {
          await model.fetchRequest(id);
        } catch (error) {
          if (
            error instanceof SyftRequestError &&
            (error.status === 404 || error.status === 403)
          ) {
            Notification.warning(
              trans.__(
                'The code request %1 is no longer on this Datasite: its review tab was closed.',
                id
              ),
              { autoClose: 10000 }
            );
            throw error; // the restorer forgets the tab
          }
          // Unreachable for now: open it; the tab says why and reloads on demand.
        }
      }
      return openRequest(id);
    }
  });

  commands.addCommand(ReviewCommandIDs.refresh, {
    label: trans.__('Refresh'),
    caption: trans.__('Load the request, its runs and timeline again'),
    describedBy: requestArgs,
    isEnabled: args => reviewOf(args) !== null,
    execute: args => {
      reviewOf(args)?.actions.ask('reload');
    }
  });
  commands.addCommand(ReviewCommandIDs.runOnMock, {
    label: trans.__('Run on mock'),
    caption: trans.__(
      "Run the code on the mocks of its input assets, in the Datasite's sandbox (owners, pending requests)"
    ),
    describedBy: requestArgs,
    isEnabled: args => {
      const review = reviewOf(args);
      return (
        !!review &&
        model.isOwner &&
        !review.actions.running &&
        review.actions.request?.status === 'pending'
      );
    },
    execute: args => {
      reviewOf(args)?.actions.ask('mock');
    }
  });
  commands.addCommand(ReviewCommandIDs.openInNotebook, {
    label: trans.__('Open in notebook'),
    caption: trans.__(
      'A new notebook connected to the Datasite; approved requests also get the code that runs them'
    ),
    describedBy: requestArgs,
    isEnabled: args => reviewOf(args) !== null,
    execute: args => {
      const review = reviewOf(args);
      const request = review?.actions.request;
      const source =
        request && request.status === 'approved'
          ? runSnippet(request, model)
          : request
            ? `# Code request ${request.id} (${request.code.service_func_name}) is ${request.status}.\n` +
              `request = next(r for r in client.requests if r.id == ${JSON.stringify(request.id)})\nrequest`
            : '';
      openNotebook(source);
    }
  });
  function notifyReviewCommands(): void {
    for (const id of Object.values(ReviewCommandIDs)) {
      commands.notifyCommandChanged(id);
    }
  }
  model.stateChanged.connect(notifyReviewCommands);
  tracker.currentChanged.connect(notifyReviewCommands);

  if (restorer) {
    void restorer.restore(tracker, {
      command: CommandIDs.openRequest,
      args: widget => ({ id: widget.requestId, restoring: true }),
      name: widget => widget.requestId
    });
  }
  return openRequest;
}
