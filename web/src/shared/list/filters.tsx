// The filters above a list, each bound to one of the list's API parameters: a choice ("All …" for
// none), a typed value, and the connection picker every exposure page has.

import { Dropdown, Field, Input, Option, makeStyles } from '@fluentui/react-components';
import { useEffect, useState, type ReactNode } from 'react';
import type { ConnectionRef } from '../connections';
import type { ListController } from './useList';

type Filtered = Pick<ListController<unknown>, 'filters' | 'setFilter'>;

const useStyles = makeStyles({
  bar: { display: 'flex', flexWrap: 'wrap', gap: '12px', alignItems: 'flex-end' },
  choice: { minWidth: '200px' },
  text: { width: '220px' },
});

export function FilterBar({ children }: { children: ReactNode }) {
  return <div className={useStyles().bar} role="search">{children}</div>;
}

export function ChoiceFilter({ list, name, label, all, options, multiple, loading }: {
  list: Filtered;
  name: string;
  label: string;
  /** The choice that sets no filter: "All connections". */
  all: string;
  options: { value: string; label: string }[];
  /** Several values may be chosen; the API takes them comma-separated (`severity=Critical,High`). */
  multiple?: boolean;
  /** The options are still on their way: a value from the address is not shown raw (a connection's id) meanwhile. */
  loading?: boolean;
}) {
  const styles = useStyles();
  const value = list.filters[name] ?? '';
  if (multiple) {
    const chosen = value ? value.split(',') : [];
    const labels = chosen.map((v) => options.find((o) => o.value === v)?.label ?? v);
    return (
      <Field label={label}>
        <Dropdown
          className={styles.choice}
          multiselect
          value={labels.length ? labels.join(', ') : all}
          selectedOptions={chosen.length ? chosen : ['']}
          onOptionSelect={(_, d) => {
            // "All …" clears the others; choosing any other value takes "All …" away.
            const next = d.optionValue === '' ? [] : d.selectedOptions.filter((v) => v !== '');
            // In the options' order, so that the same choice is the same address.
            const ordered = options.map((o) => o.value).filter((v) => next.includes(v));
            if (ordered.join(',') !== value) list.setFilter(name, ordered.join(','));
          }}
        >
          <Option value="">{all}</Option>
          {options.map((o) => <Option key={o.value} value={o.value}>{o.label}</Option>)}
        </Dropdown>
      </Field>
    );
  }
  const chosen = options.find((o) => o.value === value);
  return (
    <Field label={label}>
      <Dropdown
        className={styles.choice}
        value={chosen?.label ?? (value ? (loading ? '' : value) : all)}
        selectedOptions={[value]}
        onOptionSelect={(_, d) => d.optionValue !== undefined && d.optionValue !== value && list.setFilter(name, d.optionValue)}
      >
        <Option value="">{all}</Option>
        {options.map((o) => <Option key={o.value} value={o.value}>{o.label}</Option>)}
      </Dropdown>
    </Field>
  );
}

/** A typed value, applied on Enter or when the field is left: every keystroke is no step for Back. */
export function TextFilter({ list, name, label, placeholder }: { list: Filtered; name: string; label: string; placeholder?: string }) {
  const applied = list.filters[name] ?? '';
  const [text, setText] = useState(applied);
  // Back and Forward change the filter under the field.
  useEffect(() => setText(applied), [applied]);
  const apply = () => text.trim() !== applied && list.setFilter(name, text.trim());
  return (
    <Field label={label}>
      <Input
        className={useStyles().text}
        value={text}
        placeholder={placeholder}
        onChange={(_, d) => setText(d.value)}
        onKeyDown={(e) => e.key === 'Enter' && apply()}
        onBlur={apply}
      />
    </Field>
  );
}

export function ConnectionFilter({ list, connections }: { list: Filtered; connections: ConnectionRef[] | null }) {
  return (
    <ChoiceFilter
      list={list}
      name="connectionId"
      label="Connection"
      all="All connections"
      options={(connections ?? []).map((c) => ({ value: c.id, label: c.name }))}
      loading={connections === null}
    />
  );
}
