// The 6-digit code from an authenticator app, at sign-in and when setting one up. Spaces may be
// typed (apps show "123 456"); only the digits are sent.

import { Field, Input } from '@fluentui/react-components';
import type { CSSProperties } from 'react';

export function codeDigits(code: string): string {
  return code.replace(/\s/g, '');
}

export function isCompleteCode(code: string): boolean {
  return codeDigits(code).length === 6;
}

export function CodeField({ value, onChange, error, autoFocus, style }: {
  value: string;
  onChange: (value: string) => void;
  error?: string;
  autoFocus?: boolean;
  style?: CSSProperties;
}) {
  return (
    <Field label="Code" required validationMessage={error || undefined}>
      <Input
        name="totpCode"
        value={value}
        onChange={(_, d) => onChange(d.value.replace(/[^0-9 ]/g, ''))}
        autoComplete="one-time-code"
        inputMode="numeric"
        pattern="[0-9 ]*"
        maxLength={7}
        placeholder="123456"
        autoFocus={autoFocus}
        style={style}
      />
    </Field>
  );
}
