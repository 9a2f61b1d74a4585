// A yes/no question before something that cannot be undone.

import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { ProblemBar, type Problem } from './problems';

export function ConfirmDialog({ open, title, children, confirmLabel, busy, problem, onConfirm, onCancel }: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  problem?: Problem | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog open={open} modalType="alert" onOpenChange={(_, d) => { if (!d.open) onCancel(); }}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
            <div>{children}</div>
            <ProblemBar problem={problem ?? null} />
          </DialogContent>
          {/* fluid: a long confirm label ("Reset two-step verification") stays on one line. */}
          <DialogActions fluid>
            <Button appearance="primary" onClick={onConfirm} disabled={busy}>{confirmLabel}</Button>
            <Button onClick={onCancel} disabled={busy}>Cancel</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
