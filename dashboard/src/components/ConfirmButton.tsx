import { useRef, type ReactNode } from 'react';

/**
 * A button that asks first, in a native modal dialog (focus is trapped, Esc cancels). `onConfirm`
 * runs only after the explicit second click.
 */
export function ConfirmButton({ label, question, onConfirm, disabled, danger, children }: { label: string; question: string; onConfirm: () => void; disabled?: boolean; danger?: boolean; children?: ReactNode }) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" className={danger ? 'danger' : undefined} disabled={disabled} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-label={label}>
        <p>{question}</p>
        {children}
        <div className="row">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button
            type="button"
            className={danger ? 'danger' : 'primary'}
            onClick={() => {
              dialog.current?.close();
              onConfirm();
            }}
          >
            Confirm {label.toLowerCase()}
          </button>
        </div>
      </dialog>
    </>
  );
}
