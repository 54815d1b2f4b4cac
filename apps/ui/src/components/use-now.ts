import { useEffect, useState } from 'react';

/** The current time in Unix seconds, re-rendering every `everyMs` so ages count up between events. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    const timer = window.setInterval(() => {
      setNow(Date.now() / 1000);
    }, everyMs);
    return () => {
      window.clearInterval(timer);
    };
  }, [everyMs]);
  return now;
}
