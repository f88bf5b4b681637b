/**
 * Projects: each with its description, its scientist, and its requests with their status.
 */
import React from 'react';

import { useTrans } from '../i18n';
import { SyftModel } from '../model';
import { Empty, ErrorMessage, LoadMore, NextStep, viewerRole } from './common';
import { RequestItem } from './RequestList';

export function ProjectList(props: {
  model: SyftModel;
  onOpen: (id: string) => void;
  /** Open a new notebook connected to the Datasite shown (the empty state's next step). */
  onNewNotebook?: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  if (!model.projects.length) {
    const role = viewerRole(model);
    const message =
      role === 'owner'
        ? trans.__(
            'No projects yet. Scientists create them to group their code requests; they appear here with their requests.'
          )
        : role === 'scientist'
          ? trans.__(
              'No projects yet. A project groups your code requests under one purpose: create one in a connected notebook.'
            )
          : trans.__(
              'No projects to show: log in with a scientist account (+ above) to create one.'
            );
    return (
      <>
        <ErrorMessage message={model.errors.projects} />
        {!model.errors.projects &&
          (model.loading ? (
            <Empty>{trans.__('Loading…')}</Empty>
          ) : (
            <NextStep
              testid="syft-empty-projects"
              role={role}
              message={message}
              code={
                role === 'scientist'
                  ? 'project = sy.Project(name="My study", members=[client]).send()\nproject.create_code_request(my_function, client)'
                  : undefined
              }
              action={
                role === 'scientist' && props.onNewNotebook
                  ? {
                      label: trans.__('Open a connected notebook'),
                      onClick: props.onNewNotebook
                    }
                  : undefined
              }
            />
          ))}
      </>
    );
  }
  return (
    <>
      <ul className="jp-syft-list" data-testid="syft-projects">
        {model.projects.map(project => {
          const requests = model.requestsOf(project);
          // the requests tab loads requests page by page: say what is not loaded yet
          const missing = project.request_ids.length - requests.length;
          return (
            <li
              key={project.id}
              className="jp-syft-project"
              data-testid="syft-project"
              data-project-name={project.name}
            >
              <div className="jp-syft-project-head">
                <span className="jp-syft-name">{project.name}</span>
                {project.user && (
                  <span className="jp-syft-summary">
                    {project.user.name || project.user.email}
                  </span>
                )}
              </div>
              {project.description && (
                <div className="jp-syft-description">{project.description}</div>
              )}
              {requests.length ? (
                <ul className="jp-syft-list jp-syft-nested">
                  {requests.map(request => (
                    <RequestItem
                      key={request.id}
                      request={request}
                      onOpen={props.onOpen}
                      showProject={false}
                    />
                  ))}
                </ul>
              ) : (
                !missing && (
                  <div className="jp-syft-muted">
                    {trans.__('No requests in this project.')}
                  </div>
                )
              )}
              {missing > 0 && (
                <div
                  className="jp-syft-muted"
                  data-testid="syft-project-missing"
                >
                  {trans._n(
                    '%1 more request: load more in the Requests tab.',
                    '%1 more requests: load more in the Requests tab.',
                    missing
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ul>
      <LoadMore model={model} section="projects" />
    </>
  );
}
