import { useState } from 'react';
import { App, Button, Popconfirm } from 'antd';
import { useCluster } from '../store.js';

export interface ActionProps {
  /** The button's text. */
  label: string;
  /** Names the action and its subject for a screen reader ("Stop deployment web-1"). */
  ariaLabel: string;
  /** Sends the request (and applies its answer); its failure is shown as a message. */
  run: () => Promise<unknown>;
  /** The message once `run` succeeded ("Stop requested"). */
  done: string;
  /** What the subject's state does not allow; an unreachable API disables every action anyway. */
  disabled?: boolean;
}

/** Runs an action with a pending state, telling how it ended; with the API gone a click could only fail, so the button says so before anyone tries. */
function useAction({ run, done, disabled = false }: ActionProps) {
  const { offlineSince } = useCluster();
  const { message } = App.useApp();
  const [pending, setPending] = useState(false);
  const offline = offlineSince !== undefined;
  const start = () => {
    setPending(true);
    run()
      .then(() => {
        void message.success(done);
      })
      .catch((failure: unknown) => {
        void message.error((failure as Error).message);
      })
      .finally(() => {
        setPending(false);
      });
  };
  return { start, pending, disabled: disabled || offline, title: offline ? 'The API is unreachable' : undefined };
}

/** An action done at one click (Start, Restart, Redeploy). */
export function ActionButton({ primary = false, ...props }: ActionProps & { primary?: boolean }) {
  const action = useAction(props);
  return (
    <Button type={primary ? 'primary' : 'default'} disabled={action.disabled} title={action.title} loading={action.pending} onClick={action.start} aria-label={props.ariaLabel}>
      {props.label}
    </Button>
  );
}

/** What a destructive action asks before it runs. */
export interface Confirmation {
  title: string;
  /** What happens, and what is kept. */
  description: string;
  /** The confirming button's text ("Stop deployment"). */
  okText: string;
  /** The button that backs out ("Keep it running"). */
  cancelText: string;
}

/** A destructive action (Stop, Cancel, Remove): a red button that asks for confirmation first. */
export function DangerAction({ confirm, ...props }: ActionProps & { confirm: Confirmation }) {
  const action = useAction(props);
  return (
    <Popconfirm {...confirm} okButtonProps={{ danger: true }} onConfirm={action.start} disabled={action.disabled}>
      <Button danger disabled={action.disabled} title={action.title} loading={action.pending} aria-label={props.ariaLabel}>
        {props.label}
      </Button>
    </Popconfirm>
  );
}
