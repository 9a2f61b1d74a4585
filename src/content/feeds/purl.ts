// Package URLs (`pkg:rpm/redhat/openssl@3.0.7-28.el9_4?arch=x86_64&epoch=1`), as CSAF and OSV
// identify packages with them.

export interface Purl {
  type: string;
  namespace: string | null;
  name: string;
  version: string | null;
  qualifiers: Record<string, string>;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Null when the text is not a purl. */
export function parsePurl(text: string): Purl | null {
  if (!text.startsWith('pkg:')) return null;
  let rest = text.slice(4).replace(/#.*$/, '');
  const qualifiers: Record<string, string> = {};
  const question = rest.indexOf('?');
  if (question >= 0) {
    for (const pair of rest.slice(question + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq > 0) qualifiers[decode(pair.slice(0, eq)).toLowerCase()] = decode(pair.slice(eq + 1));
    }
    rest = rest.slice(0, question);
  }
  const at = rest.indexOf('@');
  const version = at >= 0 ? decode(rest.slice(at + 1)) : null;
  const path = (at >= 0 ? rest.slice(0, at) : rest).split('/').filter((p) => p !== '');
  if (path.length < 2) return null;
  const [type, ...names] = path;
  const name = decode(names.pop()!);
  return {
    type: type.toLowerCase(),
    namespace: names.length ? names.map(decode).join('/') : null,
    name,
    version: version === '' ? null : version,
    qualifiers,
  };
}
