// The three roles, in the console's words, and the dropdown that picks one.

import { Dropdown, Option, Text } from '@fluentui/react-components';
import type { Role } from '../api';

export const ROLES: Role[] = ['admin', 'operator', 'analyst'];

export const ROLE_LABELS: Record<Role, string> = { admin: 'Administrator', operator: 'Operator', analyst: 'Analyst' };

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  admin: 'Everything: connections, users, security settings and the audit log.',
  operator: 'Works with the data of its connections (syncs); sees connections read-only.',
  analyst: 'Reads the data of its connections; changes nothing.',
};

const RANK: Record<Role, number> = { admin: 3, operator: 2, analyst: 1 };

/** Whether `role` may do what `minimum` may (an administrator everything an analyst may). */
export function roleAtLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** The roles `role` may hand out (to an API token): itself and the ones below it. */
export function rolesUpTo(role: Role): Role[] {
  return ROLES.filter((r) => roleAtLeast(role, r));
}

export function RoleDropdown({ value, onChange, allowed = ROLES, disabled, id }: {
  value: Role;
  onChange: (role: Role) => void;
  allowed?: Role[];
  disabled?: boolean;
  id?: string;
}) {
  return (
    <Dropdown
      id={id}
      value={ROLE_LABELS[value]}
      selectedOptions={[value]}
      disabled={disabled}
      onOptionSelect={(_, d) => d.optionValue && onChange(d.optionValue as Role)}
    >
      {allowed.map((r) => (
        <Option key={r} value={r} text={ROLE_LABELS[r]}>
          <div>
            <div>{ROLE_LABELS[r]}</div>
            <Text size={200} style={{ color: 'var(--colorNeutralForeground3)' }}>{ROLE_DESCRIPTIONS[r]}</Text>
          </div>
        </Option>
      ))}
    </Dropdown>
  );
}
