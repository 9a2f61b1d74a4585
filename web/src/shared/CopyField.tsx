// A value to copy once (a new API token, a TOTP secret): read-only, with a copy button.

import { Button, Input, Tooltip } from '@fluentui/react-components';
import { CheckmarkRegular, CopyRegular } from '@fluentui/react-icons';
import { useRef, useState } from 'react';

export function CopyField({ value, label, monospace = true, testId }: { value: string; label: string; monospace?: boolean; testId?: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Plain http on a host other than localhost has no clipboard API: select it for Ctrl+C.
      input.current?.select();
      document.execCommand('copy');
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  }

  return (
    <div style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
      <Input
        ref={input}
        readOnly
        value={value}
        aria-label={label}
        data-testid={testId}
        onFocus={(e) => e.target.select()}
        style={{ flex: 1, minWidth: 0, fontFamily: monospace ? 'Consolas, "Courier New", monospace' : undefined }}
      />
      <Tooltip content={copied ? 'Copied' : 'Copy to clipboard'} relationship="description">
        <Button icon={copied ? <CheckmarkRegular /> : <CopyRegular />} onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>
      </Tooltip>
    </div>
  );
}
