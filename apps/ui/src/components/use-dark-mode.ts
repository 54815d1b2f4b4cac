import { useEffect, useState } from 'react';

const query = '(prefers-color-scheme: dark)';

/** Whether the system asks for dark colours, following changes while the page is open. */
export function useDarkMode(): boolean {
  const [dark, setDark] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const media = window.matchMedia(query);
    const onChange = (event: MediaQueryListEvent) => {
      setDark(event.matches);
    };
    media.addEventListener('change', onChange);
    return () => {
      media.removeEventListener('change', onChange);
    };
  }, []);
  return dark;
}
