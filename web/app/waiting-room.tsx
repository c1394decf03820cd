/**
 * The waiting room (DESIGN §8, src/waiting-room/): when the node answers 429 `WAITING_ROOM` (sign-in and
 * ordering are gated while the room is on), the app takes a place and shows the visitor's position and
 * estimated wait, asking again after the `pollAfterSeconds` the server names, until they are admitted;
 * then the screen they were on comes back and they repeat their step.
 *
 *   POST /v1/waiting-room/tickets          → status + ticket (sets the client and ticket cookies)
 *   GET  /v1/waiting-room/tickets/current  → status; 404 WAITING_ROOM_NO_TICKET, 403 …_TICKET_INVALID
 *
 * The browser is known by its HttpOnly client cookie; the ticket also rides in `localStorage` and the
 * `X-Waiting-Room-Ticket` header, so a reload asks where the kept place stands instead of joining at
 * the back.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, errorText, onWaitingRoom, storeTicket, storedTicket } from './api.js';
import { useWords } from './language.js';
import { Note, Problem, ScreenHeading } from './ui.js';

export interface TicketView {
  readonly state: 'waiting' | 'admitted' | 'expired';
  readonly position: number;
  readonly estimatedWaitSeconds: number;
  readonly pollAfterSeconds: number;
  readonly roomOn: boolean;
  /** Only in the answer to POST; null while the room is off. */
  readonly ticket?: string | null;
}

export const ticketsPath = '/v1/waiting-room/tickets';
export const currentTicketPath = '/v1/waiting-room/tickets/current';
/** How often the place is refreshed when the server does not say. */
const refreshDefaultSeconds = 5;

export interface WaitingRoomState {
  /** The ticket while the visitor waits; null when not waiting. */
  readonly ticket: TicketView | null;
  readonly problem: unknown;
  readonly checkedAt: number | null;
  refresh(): void;
}

export function useWaitingRoom(): WaitingRoomState {
  const [ticket, setTicket] = useState<TicketView | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [checkedAt, setCheckedAt] = useState<number | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const check = useCallback(async (join: boolean) => {
    clearTimeout(timer.current);
    try {
      const view =
        join || !storedTicket()
          ? await api<TicketView>(ticketsPath, { method: 'POST', body: {} })
          : await api<TicketView>(currentTicketPath);
      if (view.ticket !== undefined) storeTicket(view.ticket);
      setProblem(null);
      setCheckedAt(Date.now());
      if (view.state === 'admitted' || !view.roomOn) {
        setTicket(null);
        return;
      }
      // A place that ran out while still asking (the browser slept): take a new one.
      if (view.state === 'expired') {
        storeTicket(null);
        if (!join) return check(true);
      }
      setTicket(view);
      const seconds = Math.min(60, Math.max(1, view.pollAfterSeconds || refreshDefaultSeconds));
      timer.current = setTimeout(() => void check(false), seconds * 1000);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
        // No ticket, or one this browser cannot use: take a new place.
        storeTicket(null);
        if (!join) return check(true);
      }
      setProblem(error);
      timer.current = setTimeout(() => void check(false), refreshDefaultSeconds * 1000);
    }
  }, []);

  useEffect(() => {
    onWaitingRoom(() => {
      void check(!storedTicket());
    });
    return () => clearTimeout(timer.current);
  }, [check]);

  // A reload while waiting: ask where the kept ticket stands, and wait again if it is not admitted.
  useEffect(() => {
    if (!storedTicket()) return;
    api<TicketView>(currentTicketPath)
      .then((view) => {
        if (view.state === 'waiting' && view.roomOn) {
          setTicket(view);
          void check(false);
        }
      })
      .catch((error: unknown) => {
        if (error instanceof ApiError && (error.status === 404 || error.status === 403)) storeTicket(null);
      });
  }, [check]);

  return { ticket, problem, checkedAt, refresh: () => void check(false) };
}

export function WaitingRoomScreen(props: { readonly state: WaitingRoomState }) {
  const words = useWords();
  const { ticket, problem, checkedAt } = props.state;
  if (!ticket) {
    return (
      <>
        <ScreenHeading>{words.t('queueTitle')}</ScreenHeading>
        <Note>{words.t('queueNone')}</Note>
      </>
    );
  }
  const minutes = Math.max(1, Math.ceil(ticket.estimatedWaitSeconds / 60));
  return (
    <section className="card narrow queue" aria-live="polite" data-testid="waiting-room">
      <ScreenHeading>{words.t('queueTitle')}</ScreenHeading>
      <p>{words.t('queueIntro')}</p>
      <p className="queue-position" data-testid="queue-position">
        {words.t('queuePosition', { position: words.number(ticket.position) })}
      </p>
      <p>{words.t('queueWait', { minutes: words.number(minutes) })}</p>
      <Note>{words.t('queueKeep')}</Note>
      {checkedAt ? (
        <p className="hint">
          {words.t('queueChecked', { time: words.dateTime(new Date(checkedAt).toISOString()) })}
        </p>
      ) : null}
      <button type="button" onClick={props.state.refresh}>
        {words.t('queueRefresh')}
      </button>
      {problem ? <Problem>{errorText(problem, words.language)}</Problem> : null}
    </section>
  );
}
