// What went wrong with a request, in the words the server chose, shown where it happened.

import { MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { ApiError } from '../api';

export interface Problem {
  code: string;
  message: string;
  fix?: string;
  /** Messages for individual fields, keyed by the request's field name. */
  fields: Record<string, string>;
}

export function problemOf(e: unknown): Problem {
  if (e instanceof ApiError) {
    const fields = { ...(e.body.fields ?? {}) };
    if (e.body.field && !fields[e.body.field]) fields[e.body.field] = e.body.message;
    return { code: e.body.code, message: e.body.message, fix: e.body.fix, fields };
  }
  return { code: 'network_error', message: 'The console could not be reached. Check that SitePatch is running.', fields: {} };
}

/**
 * The request field a problem is about, when the server named none: the first of `keys` its
 * message mentions (as the key itself, or as its words: "idleTimeoutMinutes" or "idle timeout").
 */
export function fieldOf(problem: Problem, keys: string[]): string | undefined {
  const named = Object.keys(problem.fields).find((k) => keys.includes(k));
  if (named) return named;
  const text = problem.message.toLowerCase();
  return keys.find((k) => text.includes(k.toLowerCase()) || text.includes(k.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()));
}

/** `action`: what to do about it from here (Try again). */
export function ProblemBar({ problem, title, action }: { problem: Problem | null; title?: string; action?: ReactNode }) {
  if (!problem) return null;
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>
        {title ? <><MessageBarTitle>{title}</MessageBarTitle>{problem.message}</> : problem.message}
        {problem.fix && <div>How to fix it: {problem.fix}</div>}
      </MessageBarBody>
      {action && <MessageBarActions>{action}</MessageBarActions>}
    </MessageBar>
  );
}
