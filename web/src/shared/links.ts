// Links inside the console: a plain click navigates without reloading the page, while Ctrl+click,
// middle click and "Open in new tab" still work, as on any link.

import { useHref, useLinkClickHandler } from 'react-router';

/** The props that turn an anchor (a Fluent NavItem, Link, or Button as="a") into a console link. */
export function useRouterLink(to: string) {
  return { href: useHref(to), onClick: useLinkClickHandler(to) };
}
