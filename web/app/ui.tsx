/** Small pieces every screen uses: the focused screen heading, messages read out by screen readers. */
import { createContext, type ReactNode, useContext, useEffect, useRef } from 'react';
import type { Me, Session } from './api.js';

/**
 * The screen's title. It takes focus when the screen appears, so a keyboard or screen-reader user
 * starts at the new screen's top, as after a page load.
 */
export function ScreenHeading(props: { readonly children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {props.children}
    </h1>
  );
}

/** A refusal or problem, announced at once. */
export function Problem(props: { readonly children: ReactNode; readonly code?: string }) {
  return (
    <p className="problem" role="alert" data-code={props.code}>
      {props.children}
    </p>
  );
}

/** Progress and outcomes, announced politely. */
export function Note(props: { readonly children: ReactNode; readonly tone?: 'good' | 'plain' }) {
  return (
    <p className={`note ${props.tone ?? 'plain'}`} role="status">
      {props.children}
    </p>
  );
}

export interface SessionState {
  readonly session: Session;
  readonly me: Me | null;
  refreshMe(): Promise<Me | null>;
}

export const SessionContext = createContext<SessionState | null>(null);

/** The signed-in session; screens that use it are shown only when someone is signed in. */
export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside a signed-in screen');
  return state;
}
