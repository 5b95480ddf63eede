import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** Client-side routes under /dashboard: the path and the query string (filters live there, so a view can be shared). */
export const BASE = '/dashboard';

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(to: string, { replace = false } = {}) {
  const url = to.startsWith(BASE) ? to : `${BASE}${to}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
  if (!replace) window.scrollTo(0, 0);
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

/** The current route: path below /dashboard (`/jobs/…`) and its search params. */
export function useRoute() {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const url = new URL(href, location.origin);
  const path = url.pathname.slice(BASE.length).replace(/\/$/, '') || '/';
  return { path, params: url.searchParams };
}

/** Replaces the query string (filter changes), keeping the path. */
export function setParams(values: Record<string, string | undefined>) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value) params.set(key, value);
  const query = params.toString();
  navigate(`${location.pathname}${query ? `?${query}` : ''}`, { replace: true });
}

/** An ordinary link (middle-click, copy link) that navigates in place on a plain click. */
export function Link({ to, ...props }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const href = `${BASE}${to}`;
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={onClick} {...props} />;
}
