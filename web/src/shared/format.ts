// Dates as the portals show them: local date and time; "Never" for an empty one.

export function when(iso: string | null | undefined, never = 'Never'): string {
  if (!iso) return never;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function day(iso: string | null | undefined, never = 'Never'): string {
  if (!iso) return never;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/** A YYYY-MM-DD day (a feed's or a due date) on its own calendar day, whatever the browser's time zone. */
export function calendarDay(dayText: string): string {
  return day(`${dayText.slice(0, 10)}T12:00:00Z`, dayText);
}

/** A short name for a browser's user-agent string ("Chrome on Windows"). */
export function browserOf(userAgent: string | null | undefined): string {
  if (!userAgent) return 'Unknown';
  const browser = /Edg\//.test(userAgent) ? 'Edge'
    : /Firefox\//.test(userAgent) ? 'Firefox'
      : /Chrome\/|Chromium\//.test(userAgent) ? 'Chrome'
        : /Safari\//.test(userAgent) ? 'Safari'
          : /^curl\//.test(userAgent) ? 'curl' : '';
  const os = /Windows/.test(userAgent) ? 'Windows'
    : /Mac OS X|Macintosh/.test(userAgent) ? 'macOS'
      : /Android/.test(userAgent) ? 'Android'
        : /iPhone|iPad/.test(userAgent) ? 'iOS'
          : /Linux/.test(userAgent) ? 'Linux' : '';
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || userAgent.slice(0, 40);
}
