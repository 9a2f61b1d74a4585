// A dialog that is one form: its fields, then the primary submit button and Cancel.

import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle } from '@fluentui/react-components';
import type { FormEvent, ReactNode } from 'react';

export function FormDialog({
  open, title, children, submitLabel, cancelLabel = 'Cancel', busy, submitDisabled, maxWidth, gap = 12, onSubmit, onClose,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  submitLabel: string;
  cancelLabel?: string;
  /** A request is under way: both buttons wait for it. */
  busy?: boolean;
  submitDisabled?: boolean;
  maxWidth?: number;
  /** Space between the fields, in pixels. */
  gap?: number;
  onSubmit: () => void;
  onClose: () => void;
}) {
  function submit(event: FormEvent) {
    event.preventDefault();
    // React events bubble through the dialog's portal to the opener: one dialog's form opened from
    // another's (Set a new password, inside the user dialog) must not submit that one too.
    event.stopPropagation();
    onSubmit();
  }

  return (
    <Dialog open={open} onOpenChange={(_, d) => { if (!d.open) onClose(); }}>
      <DialogSurface style={maxWidth ? { maxWidth } : undefined}>
        <form onSubmit={submit}>
          <DialogBody>
            <DialogTitle>{title}</DialogTitle>
            <DialogContent style={{ display: 'flex', flexDirection: 'column', gap }}>
              {children}
            </DialogContent>
            {/* fluid: a long submit label stays on one line. */}
            <DialogActions fluid>
              <Button appearance="primary" type="submit" disabled={busy || submitDisabled}>{submitLabel}</Button>
              <Button onClick={onClose} disabled={busy}>{cancelLabel}</Button>
            </DialogActions>
          </DialogBody>
        </form>
      </DialogSurface>
    </Dialog>
  );
}
