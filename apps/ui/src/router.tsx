import { useEffect, useState } from 'react';
import type { AnchorHTMLAttributes, MouseEvent } from 'react';

/** `/` is served as /index.html (the original API's redirect): both are the home page. */
function currentPath(): string {
  return window.location.pathname === '/index.html' ? '/' : window.location.pathname;
}

/** A tiny history-API router: the UI has five pages, not worth a dependency. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onChange = () => {
      setPath(currentPath());
    };
    window.addEventListener('popstate', onChange);
    return () => {
      window.removeEventListener('popstate', onChange);
    };
  }, []);
  return path;
}

/** The page's query string (`?q=...`, or ''), following back and forward. */
export function useSearch(): string {
  const [search, setSearch] = useState(window.location.search);
  useEffect(() => {
    const onChange = () => {
      setSearch(window.location.search);
    };
    window.addEventListener('popstate', onChange);
    return () => {
      window.removeEventListener('popstate', onChange);
    };
  }, []);
  return search;
}

/**
 * Sets the query string of the page shown, replacing the history entry (each key typed in a search
 * box is no page to go back to), and tells useSearch.
 */
export function replaceSearch(search: string): void {
  if (search === window.location.search) return;
  window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function navigate(to: string): void {
  if (to === currentPath()) return;
  window.history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo(0, 0);
}

/** An <a> that changes page without reloading; modified clicks still open tabs. */
export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={onClick} {...rest} />;
}
