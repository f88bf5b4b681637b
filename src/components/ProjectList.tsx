/**
 * Projects: each with its description, its scientist, and its requests with their status.
 */
import React from 'react';

import { useTrans } from '../i18n';
import { SyftModel } from '../model';
import { Empty, ErrorMessage } from './common';
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
    <ul className="jp-syft-list" data-testid="syft-projects">
      {model.projects.map(project => {
        const requests = model.requestsOf(project);
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
              <div className="jp-syft-muted">
                {trans.__('No requests in this project.')}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}
