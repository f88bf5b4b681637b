/**
 * The jupyter-syft JupyterLab plugin: the Datasite sidebar, request review tabs and commands.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { ILauncher } from '@jupyterlab/launcher';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// Its commands are registered at activation (the views themselves open on demand).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { registerActivity } from './activity';
import { DOMAIN } from './i18n';
import { addLauncherItems } from './launcher';
import { messageOf, SyftModel } from './model';
import { pushNotes } from './notes';
import {
  DEFAULT_SETTINGS,
  ISyftSettings,
  noteKind,
  watchSettings
} from './settings';
import { CommandIDs, IRequest, ISyftModel, SIDEBAR_ID } from './tokens';
// The sidebar is built at activation, so its views load with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { OutputReviewWidget, SyftSidebarWidget, syftIcon } from './widgets';
// The review tabs are restored at start-up.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { registerReviews, ReviewCommandIDs } from './review';

export { SyftModel } from './model';
export { PushChannel } from './push';
export * from './tokens';

/**
 * The id of the jupyter-syft frontend plugin.
 */
export const PLUGIN_ID = 'jupyter-syft:plugin';

/** The sidebar tab's data attribute holding the pending-requests count (data-syft-pending). */
const BADGE = 'syft-pending';

const NO_ARGS = { args: { type: 'object', properties: {} } } as const;

/**
 * Open a new notebook whose first cell connects to the Datasite the sidebar shows.
 */
async function newConnectionNotebook(
  app: JupyterFrontEnd,
  source: string
): Promise<NotebookPanel> {
  const panel = (await app.commands.execute('notebook:create-new', {
    kernelName: 'python3'
  })) as NotebookPanel;
  await panel.context.ready;
  const notebook = panel.content.model;
  if (notebook) {
    const first = notebook.sharedModel.cells[0];
    if (first && first.cell_type === 'code' && first.getSource() === '') {
      first.setSource(source);
    } else {
      notebook.sharedModel.insertCell(0, { cell_type: 'code', source });
    }
  }
  return panel;
}

const plugin: JupyterFrontEndPlugin<ISyftModel> = {
  id: PLUGIN_ID,
  description:
    'Data science on data you are not allowed to see: the Datasite sidebar.',
  autoStart: true,
  provides: ISyftModel,
  optional: [
    ILayoutRestorer,
    ICommandPalette,
    IEditorServices,
    ITranslator,
    ILauncher,
    ISettingRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    editorServices: IEditorServices | null,
    translator: ITranslator | null,
    launcher?: ILauncher | null,
    settingRegistry?: ISettingRegistry | null
  ): ISyftModel => {
    const trans = (translator ?? nullTranslator).load(DOMAIN);
    const model = new SyftModel({
      serverSettings: app.serviceManager.serverSettings
    });
    const { commands, shell } = app;
    // An output view talks to the Datasite shown when it was opened: it closes when another
    // one is shown, and only the local Datasite's come back after a page reload.
    const outputViews = new Set<OutputReviewWidget>();
    const outputTracker = new WidgetTracker<OutputReviewWidget>({
      namespace: 'jupyter-syft-output'
    });
    model.datasiteChanged.connect(() => {
      for (const review of [...outputViews]) {
        review.close();
      }
    });

    const openOutput = (executionId: string): OutputReviewWidget => {
      let widget = [...outputViews].find(w => w.executionId === executionId);
      if (!widget) {
        const output = model.getOutput(executionId);
        const created = new OutputReviewWidget({
          model,
          executionId,
          label: output
            ? trans.__('Output: %1', output.service_func_name)
            : undefined,
          onOpenRequest: id =>
            void commands.execute(CommandIDs.openRequest, { id }),
          trans
        });
        outputViews.add(created);
        created.disposed.connect(() => outputViews.delete(created));
        if (model.datasite.kind === 'local') {
          void outputTracker.add(created);
        }
        shell.add(created, 'main');
        widget = created;
      }
      shell.activateById(widget.id);
      return widget;
    };

    // The user's settings (schema/plugin.json), applied live; the defaults until loaded.
    let settings: ISyftSettings = DEFAULT_SETTINGS;
    if (settingRegistry) {
      void watchSettings(settingRegistry, PLUGIN_ID, next => {
        settings = next;
        model.pollInterval = next.pollInterval;
      });
    }

    commands.addCommand(CommandIDs.openSidebar, {
      label: trans.__('Show the Syft Datasite Sidebar'),
      caption: trans.__('Datasets, projects and code requests of the Datasite'),
      icon: syftIcon,
      describedBy: NO_ARGS,
      execute: () => shell.activateById(SIDEBAR_ID)
    });
    commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Reload the Syft Datasite'),
      caption: trans.__(
        "Load the Datasite's datasets, projects and requests again"
      ),
      describedBy: NO_ARGS,
      execute: () => model.refresh()
    });
    commands.addCommand(CommandIDs.openOutput, {
      label: args =>
        args.id
          ? trans.__('Review Output %1', args.id)
          : trans.__('Review Output'),
      caption: trans.__(
        'Open the review of a held result: its checks, preview and release'
      ),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            id: {
              type: 'string',
              description: trans.__('The id of the run that made the output')
            }
          },
          required: ['id']
        }
      },
      execute: async args => {
        const id = String(args.id ?? '');
        if (!id) {
          throw new Error(trans.__('Give the id of the output to review.'));
        }
        if (!model.me) {
          await model.refresh(); // e.g. restored at start-up, before the first load
        }
        if (!model.isOwner) {
          // Output review is the owners': never call their routes for anyone else.
          throw new Error(
            trans.__("Only the Datasite's owners review outputs.")
          );
        }
        return openOutput(id);
      }
    });
    commands.addCommand(CommandIDs.reviewNext, {
      label: args =>
        args.isLauncher
          ? trans.__('Review Next Request')
          : trans.__('Review Next Pending Request'),
      caption: trans.__(
        'Open the review of the oldest code request waiting for a decision'
      ),
      icon: syftIcon,
      describedBy: NO_ARGS,
      execute: async () => {
        let next: IRequest | null;
        try {
          next = await model.oldestPending();
        } catch (error) {
          Notification.error(
            trans.__(
              'Could not look for pending requests: %1',
              messageOf(error)
            ),
            { autoClose: 8000 }
          );
          throw error;
        }
        if (!next) {
          Notification.info(
            trans.__('No pending requests: nothing is waiting for review.'),
            { autoClose: 6000 }
          );
          return null;
        }
        return commands.execute(CommandIDs.openRequest, { id: next.id });
      }
    });
    commands.addCommand(CommandIDs.newConnectionNotebook, {
      label: args =>
        args.isLauncher
          ? trans.__('Datasite Notebook')
          : trans.__('New Notebook Connected to the Syft Datasite'),
      caption: trans.__(
        'Open a new notebook whose first cell connects to the Datasite shown in the sidebar'
      ),
      icon: syftIcon,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            code: {
              type: 'string',
              description: trans.__(
                'Code to run after connecting (e.g. the call that runs an approved request)'
              )
            }
          }
        }
      },
      execute: async args => {
        const code = typeof args.code === 'string' ? args.code.trim() : '';
        try {
          return await newConnectionNotebook(
            app,
            code
              ? `${model.connectionCell()}\n\n${code}`
              : model.connectionCell()
          );
        } catch (error) {
          Notification.error(
            trans.__('Could not open a notebook: %1', messageOf(error)),
            {
              autoClose: 8000
            }
          );
          throw error;
        }
      }
    });
    // The review tabs: open-request, their toolbar's commands, tracker and restorer.
    const openRequest = registerReviews({
      app,
      model,
      trans,
      restorer,
      editorFactory: editorServices?.factoryService.newInlineEditor ?? null,
      openNotebook: code =>
        commands.execute(CommandIDs.newConnectionNotebook, { code })
    });

    if (palette) {
      for (const command of [
        CommandIDs.openSidebar,
        CommandIDs.refresh,
        CommandIDs.newConnectionNotebook,
        CommandIDs.reviewNext,
        ReviewCommandIDs.refresh,
        ReviewCommandIDs.runOnMock,
        ReviewCommandIDs.openInNotebook
      ]) {
        palette.addItem({ command, category: trans.__('Syft Datasite') });
      }
    }
    if (launcher) {
      addLauncherItems(launcher, trans);
    }
    registerActivity(app, model, { trans, palette, restorer });

    const sidebar = new SyftSidebarWidget({
      model,
      trans,
      onOpenRequest: id =>
        void commands.execute(CommandIDs.openRequest, { id }),
      onOpenOutput: id =>
        void commands
          .execute(CommandIDs.openOutput, { id })
          .catch(error =>
            Notification.error(messageOf(error), { autoClose: 8000 })
          ),
      onNewNotebook: () =>
        void commands.execute(CommandIDs.newConnectionNotebook).catch(() => {
          /* reported by the command */
        })
    });
    // Named for assistive technology: the panel is a region, its tab is titled by the caption.
    sidebar.node.setAttribute('role', 'region');
    sidebar.node.setAttribute('aria-label', trans.__('Syft Datasite'));
    shell.add(sidebar, 'left', { rank: 850 });
    if (restorer) {
      restorer.add(sidebar, SIDEBAR_ID);
      void restorer.restore(outputTracker, {
        command: CommandIDs.openOutput,
        args: widget => ({ id: widget.executionId }),
        name: widget => widget.executionId
      });
    }

    // New requests appear without a reload; owners also get a notification.
    model.newRequests.connect((_, added: IRequest[]) => {
      if (!model.isOwner || !settings.notifications.newRequests) {
        return;
      }
      const pending = added.filter(request => request.status === 'pending');
      if (!pending.length) {
        return;
      }
      const first = pending[0];
      const message =
        pending.length === 1
          ? trans.__(
              'New code request: %1 from %2',
              first.code.service_func_name,
              first.requesting_user_name || first.requesting_user_email
            )
          : trans.__('%1 new code requests', pending.length);
      Notification.info(message, {
        autoClose: 8000,
        actions: [
          {
            label: trans.__('Review'),
            callback: () => openRequest(first.id)
          }
        ]
      });
    });

    // Changes the push channel tells of: held outputs for owners; decisions and results for
    // scientists (new requests are announced above, once their list is reloaded).
    model.pushed.connect((_, events) => {
      for (const note of pushNotes(model, events, trans)) {
        if (!settings.notifications[noteKind(note)]) {
          continue; // turned off in the settings
        }
        Notification.emit(note.message, note.type, {
          autoClose: 10000,
          actions: [
            {
              label: note.label,
              callback: () => {
                if (note.output) {
                  void commands
                    .execute(CommandIDs.openOutput, { id: note.output })
                    .catch(error =>
                      Notification.error(messageOf(error), { autoClose: 8000 })
                    );
                } else if (note.request) {
                  openRequest(note.request);
                } else {
                  shell.activateById(SIDEBAR_ID);
                }
              }
            }
          ]
        });
      }
    });

    // The pending-requests badge on the sidebar's icon (owners).
    const updateBadge = () => {
      const pending = model.isOwner ? model.pendingCount : 0;
      // Lumino renders the title's dataset as data-* attributes of the tab (style/base.css).
      const { [BADGE]: shown, ...others } = sidebar.title.dataset;
      const next = pending > 0 ? String(Math.min(pending, 99)) : undefined;
      if (shown === next) {
        return;
      }
      const dataset =
        next === undefined ? others : { ...others, [BADGE]: next };
      sidebar.title.dataset = dataset;
      sidebar.title.caption =
        pending > 0
          ? trans._n(
              'Syft Datasite: %1 code request waiting for review',
              'Syft Datasite: %1 code requests waiting for review',
              pending
            )
          : trans.__('Syft Datasite: datasets, projects, code requests');
    };
    model.stateChanged.connect(updateBadge);

    // Listening first: a change made while the lists load is told, not lost.
    model.startPush();
    void model.refresh();
    void model.loadRemotes().catch(() => {
      /* no remote connections yet, or the server extension is older */
    });

    console.log('JupyterLab extension jupyter-syft is activated!');
    return model;
  }
};

export default plugin;
