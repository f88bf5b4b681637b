/**
 * Projects: each with its description, its scientist, and its requests with their status.
 */
import React from 'react';

import { useTrans } from '../i18n';
import { SyftModel } from '../model';
import { Empty, ErrorMessage, LoadMore } from './common';
import { RequestItem } from './RequestList';

export function ProjectList(props: {
  model: SyftModel;
  onOpen: (id: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  if (!model.projects.length) {
    return (
      <>
        <ErrorMessage message={model.errors.projects} />
        {!model.errors.projects && (
          <Empty>
            {model.loading
              ? trans.__('Loading…')
              : trans.__('No projects yet.')}
          </Empty>
        )}
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
