/**
 * Client-side routes under `/app`: the server answers every `/app/*` path with the same page, and this
 * module turns the path into a screen. History entries are real, so Back works and a reload or a shared
 * link lands on the same screen.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

export const appBase = '/app';

export type Route =
  | { readonly screen: 'quota' }
  | { readonly screen: 'order'; readonly orderId: string }
  | { readonly screen: 'stamp' }
  | { readonly screen: 'history' }
  | { readonly screen: 'sign-in' }
  | { readonly screen: 'queue' }
  | { readonly screen: 'operator' }
  | { readonly screen: 'not-found' };

export function routeOf(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === appBase || path === `${appBase}/quota`) return { screen: 'quota' };
  if (path === `${appBase}/stamp`) return { screen: 'stamp' };
  if (path === `${appBase}/history`) return { screen: 'history' };
  if (path === `${appBase}/sign-in`) return { screen: 'sign-in' };
  if (path === `${appBase}/queue`) return { screen: 'queue' };
  if (path === `${appBase}/operator`) return { screen: 'operator' };
  const order = /^\/app\/orders\/([^/]{1,80})$/.exec(path);
  if (order) return { screen: 'order', orderId: decodeURIComponent(order[1]!) };
  return { screen: 'not-found' };
}

export const paths = {
  quota: `${appBase}/quota`,
  stamp: `${appBase}/stamp`,
  history: `${appBase}/history`,
  signIn: `${appBase}/sign-in`,
  queue: `${appBase}/queue`,
  operator: `${appBase}/operator`,
  order: (id: string) => `${appBase}/orders/${encodeURIComponent(id)}`,
} as const;

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === window.location.pathname) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const listener of listeners) listener();
}

/** An ordinary link that changes screens without reloading; modified clicks keep the browser's meaning. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { readonly to: string }) {
  const { to, onClick, ...rest } = props;
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={follow} {...rest} />;
}
