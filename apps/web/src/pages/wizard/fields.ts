import type { AssistanceRequest } from '@vytis/contracts';
import type { Form } from './form.ts';
import type { FieldKey } from './problems.ts';

/** What each input of a step gets from the wizard: its id, its problem (if shown) and its blur. */
export interface FieldBinding {
  id: string;
  error: string | undefined;
  onBlur: () => void;
}

/** The props of a step of the wizard. */
export interface StepProps {
  form: Form;
  /** Changes a field (and clears what the node said about it). */
  set: <K extends keyof Form>(key: K, value: Form[K]) => void;
  /** Changes a field picked from a list: it counts as touched at once. */
  pick: <K extends keyof Form>(key: K, value: Form[K]) => void;
  field: (key: FieldKey) => FieldBinding;
  /** Marks a field as touched: its problem shows from now on. */
  touch: (key: FieldKey) => void;
  /** The draft as last saved, if it is saved yet. */
  draft: AssistanceRequest | null;
}
