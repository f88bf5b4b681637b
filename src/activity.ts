/**
 * The Datasite's activity (audit log, owners) and jobs as main-area tabs, and the palette
 * commands opening them. index.ts calls `registerActivity` once.
 */
import React from 'react';
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';

import { ActivityView } from './components/ActivityView';
import { JobsView } from './components/JobsView';
import { TranslationContext } from './i18n';
import { SyftModel } from './model';
import { CommandIDs, IAuditFilter } from './tokens';
import { syftIcon } from './widgets';

/** The main-area ids of the two views (one tab each). */
export const ACTIVITY_ID = 'jupyter-syft-activity';
export const JOBS_ID = 'jupyter-syft-jobs';

export class ActivityWidget extends ReactWidget {
  constructor(options: ActivityWidget.IOptions) {
    super();
    this._options = options;
    this.id = ACTIVITY_ID;
    this.addClass('jp-syft-activity-widget');
    this.title.icon = syftIcon;
    this.title.label = options.trans.__('Datasite Activity');
    this.title.caption = options.trans.__(
      "The Datasite's audit log: who did what, when"
    );
    this.title.closable = true;
  }

  protected render(): JSX.Element {
    const { model, onOpenRequest, trans, filter } = this._options;
    return React.createElement(
      TranslationContext.Provider,
      { value: trans },
      React.createElement(ActivityView, {
        model,
        onOpenRequest,
        initialFilter: filter
      })
    );
  }

  private _options: ActivityWidget.IOptions;
}

export namespace ActivityWidget {
  export interface IOptions {
    model: SyftModel;
    onOpenRequest: (id: string) => void;
    trans: TranslationBundle;
    filter?: IAuditFilter;
  }
}

export class JobsWidget extends ReactWidget {
  constructor(options: JobsWidget.IOptions) {
    super();
    this._options = options;
    this.id = JOBS_ID;
    this.addClass('jp-syft-jobs-widget');
    this.title.icon = syftIcon;
    this.title.label = options.trans.__('Datasite Jobs');
    this.title.caption = options.trans.__(
      'Queued and running jobs, their progress and logs'
    );
    this.title.closable = true;
  }

  protected render(): JSX.Element {
    const { model, trans } = this._options;
    return React.createElement(
      TranslationContext.Provider,
      { value: trans },
      React.createElement(JobsView, { model })
    );
  }

  private _options: JobsWidget.IOptions;
}

export namespace JobsWidget {
  export interface IOptions {
    model: SyftModel;
    trans: TranslationBundle;
  }
}

/** The trackers of the two views (they live as long as the application). */
export interface IActivityTrackers {
  activity: WidgetTracker<ActivityWidget>;
  jobs: WidgetTracker<JobsWidget>;
}

/**
 * Add the commands "Open Datasite activity" (owners only: hidden from the palette for
 * anyone else) and "Open Datasite jobs", their palette items and their layout restoration.
 */
export function registerActivity(
  app: JupyterFrontEnd,
  model: SyftModel,
  options: {
    trans: TranslationBundle;
    palette?: ICommandPalette | null;
    restorer?: ILayoutRestorer | null;
  }
): IActivityTrackers {
  const { commands, shell } = app;
  const { trans, palette, restorer } = options;
  const trackers: IActivityTrackers = {
    activity: new WidgetTracker<ActivityWidget>({
      namespace: 'jupyter-syft-activity'
    }),
    jobs: new WidgetTracker<JobsWidget>({ namespace: 'jupyter-syft-jobs' })
  };
  let activity: ActivityWidget | null = null;
  let jobs: JobsWidget | null = null;

  // The views talk to the Datasite shown: another one shown closes them.
  model.datasiteChanged.connect(() => {
    activity?.close();
    jobs?.close();
  });
  // Palette items are re-evaluated on change: the activity item appears once the account
  // is known to be an owner's.
  let owner = model.isOwner;
  model.stateChanged.connect(() => {
    if (owner !== model.isOwner) {
      owner = model.isOwner;
      commands.notifyCommandChanged(CommandIDs.openActivity);
    }
  });

  commands.addCommand(CommandIDs.openActivity, {
    label: trans.__('Open Datasite Activity'),
    caption: trans.__(
      "The Datasite's audit log (owners): who did what, when, and whether the log is intact"
    ),
    isVisible: () => model.isOwner,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          object_id: {
            type: 'string',
            description: trans.__('Show only the events of this object')
          }
        }
      }
    },
    execute: args => {
      const objectId = String(args.object_id ?? '');
      if (activity && objectId) {
        activity.close(); // opened again with the new filter
      }
      if (!activity || activity.isDisposed) {
        const created = new ActivityWidget({
          model,
          trans,
          filter: objectId ? { object_id: objectId } : undefined,
          onOpenRequest: id =>
            void commands.execute(CommandIDs.openRequest, { id })
        });
        created.disposed.connect(() => {
          if (activity === created) {
            activity = null;
          }
        });
        activity = created;
        void trackers.activity.add(created);
        shell.add(created, 'main');
      }
      shell.activateById(activity.id);
      return activity;
    }
  });

  commands.addCommand(CommandIDs.openJobs, {
    label: trans.__('Open Datasite Jobs'),
    caption: trans.__(
      'Queued and running jobs with their progress; owners see everyone’s, with logs'
    ),
    describedBy: { args: { type: 'object', properties: {} } },
    execute: () => {
      if (!jobs || jobs.isDisposed) {
        const created = new JobsWidget({ model, trans });
        created.disposed.connect(() => {
          if (jobs === created) {
            jobs = null;
          }
        });
        jobs = created;
        void trackers.jobs.add(created);
        shell.add(created, 'main');
      }
      shell.activateById(jobs.id);
      return jobs;
    }
  });

  if (palette) {
    for (const command of [CommandIDs.openActivity, CommandIDs.openJobs]) {
      palette.addItem({ command, category: trans.__('Syft Datasite') });
    }
  }
  if (restorer) {
    void restorer.restore(trackers.activity, {
      command: CommandIDs.openActivity,
      name: () => 'activity'
    });
    void restorer.restore(trackers.jobs, {
      command: CommandIDs.openJobs,
      name: () => 'jobs'
    });
  }
  return trackers;
}
