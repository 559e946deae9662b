import { Alert, Anchor, Button, Group, List, Stack, Stepper, Text, Title } from '@mantine/core';
import type { AssistanceRequest } from '@vytis/contracts';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useForgetRequest, useFramework, useSubmitDraft } from '../api/drafts.ts';
import { useParties } from '../api/queries.ts';
import { useRequest } from '../api/requests.ts';
import { useMe } from '../auth.tsx';
import { ConfirmAction } from '../components/Confirm.tsx';
import { humanize, viewerZone } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { useDraftAutosave } from './wizard/autosave.ts';
import type { StepProps } from './wizard/fields.ts';
import { blankForm, type Form, formOf } from './wizard/form.ts';
import { HelpStep } from './wizard/HelpStep.tsx';
import { IncidentStep } from './wizard/IncidentStep.tsx';
import { MeasuresStep } from './wizard/MeasuresStep.tsx';
import {
  checkForm,
  type FieldKey,
  fieldsOfStep,
  inputId,
  type Problems,
  problemsOfDetails,
  REVIEW_STEP,
  STEPS,
  stepOf,
} from './wizard/problems.ts';
import { eligibilityHint, ReviewStep } from './wizard/ReviewStep.tsx';
import { SaveStatusLine, StaleAlert } from './wizard/SaveStatus.tsx';

/** /requests/new: a blank request of the viewer's party, saved as a draft as soon as the node can take it. */
export function NewRequestPage() {
  const me = useMe();
  const navigate = useNavigate();
  const forgetRequest = useForgetRequest();
  return (
    <RequestWizard
      initial={blankForm(me.party)}
      draft={null}
      onCreated={(draft) => {
        // The address becomes the draft's, so that a reload or a later visit finds it; the router
        // is not told, so the form stays mounted and the field being typed in keeps the focus.
        window.history.replaceState(window.history.state, '', `/requests/${draft.id}/edit`);
      }}
      onReload={(id) => {
        forgetRequest(id);
        navigate(`/requests/${id}/edit`, { replace: true });
      }}
    />
  );
}

/** /requests/:id/edit: the same wizard, filled in from a draft the viewer may edit. */
export function EditDraftPage() {
  const { id = '' } = useParams();
  const request = useRequest(id);
  // The form starts again from the draft as it is now only when asked to (after a stale save):
  // a refetch in the background (a live event, a save of this form) must not wipe what is typed.
  const [opened, setOpened] = useState(0);
  if (request.isPending) return <Loading label="Reading the draft" />;
  if (request.error) return <Problem error={request.error} title="This draft cannot be edited" page />;
  const r = request.data;
  // The node says who may edit the draft; the app does not guess.
  const editable = r.can.edit;
  if (!editable) {
    return (
      <Stack maw={980}>
        <Title order={1} size="h2">
          Edit draft
        </Title>
        <Alert color="orange" title="This request cannot be edited here">
          {r.status !== 'draft'
            ? `Only a draft can be edited; this request is ${humanize(r.status)} and changes only through its actions.`
            : `Only a PoC of ${r.party} may edit this draft.`}
        </Alert>
        <Anchor component={Link} to={`/requests/${r.id}`}>
          Back to the request
        </Anchor>
      </Stack>
    );
  }
  return (
    <RequestWizard
      key={`${r.id}:${opened}`}
      initial={formOf(r)}
      draft={r}
      onCreated={() => {}}
      onReload={async () => {
        await request.refetch();
        setOpened((n) => n + 1);
      }}
    />
  );
}

/**
 * The Cyber Solidarity Act's template in three steps and a review. What is typed is saved to the
 * draft as it is typed; each field shows its own problem once touched (or once its step is left),
 * in words; the review shows the request as the council will read it, and submits it.
 */
function RequestWizard({
  initial,
  draft: opened,
  onCreated,
  onReload,
}: {
  initial: Form;
  draft: AssistanceRequest | null;
  onCreated: (draft: AssistanceRequest) => void;
  onReload: (id: string) => void | Promise<void>;
}) {
  const me = useMe();
  const parties = useParties();
  const framework = useFramework();
  const navigate = useNavigate();
  const submitDraft = useSubmitDraft();
  const [step, setStep] = useState(0);
  const [f, setF] = useState<Form>(initial);
  const [touched, setTouched] = useState<ReadonlySet<FieldKey>>(() => new Set());
  /** Once the review was reached, what submission needs counts as a problem at the fields too. */
  const [reviewed, setReviewed] = useState(false);
  /** What the node said of fields at the last refused save, until each is changed. */
  const [server, setServer] = useState<Problems>({});
  const [focus, setFocus] = useState<{ key: FieldKey; at: number } | null>(null);
  const autosave = useDraftAutosave({ form: f, initialDraft: opened, onCreated });
  const { draft, status } = autosave;

  // biome-ignore lint/correctness/useExhaustiveDependencies: placed on the form as it was saved
  useEffect(() => {
    if (status.kind === 'invalid') {
      const { fields } = problemsOfDetails(status.error.details, f);
      setServer(fields);
      setTouched((old) => new Set([...old, ...Object.keys(fields)]));
    }
  }, [status]);
  const unplaced = status.kind === 'invalid' ? problemsOfDetails(status.error.details, f).other : [];

  useEffect(() => {
    if (focus) document.getElementById(inputId(focus.key))?.focus();
  }, [focus]);

  const touch = (key: FieldKey) => setTouched((old) => (old.has(key) ? old : new Set(old).add(key)));
  const set: StepProps['set'] = (key, value) => {
    setF((old) => ({ ...old, [key]: value }));
    setServer((old) => {
      const stale = Object.keys(old).filter(
        (k) => k === key || k.startsWith(`${key}.`) || (key === 'rsitClass' && k === 'rsitType'),
      );
      if (stale.length === 0) return old;
      const next = { ...old };
      for (const k of stale) delete next[k];
      return next;
    });
  };
  const pick: StepProps['pick'] = (key, value) => {
    set(key, value);
    touch(key);
  };

  const local = checkForm(f, { forSubmission: reviewed });
  const field = (key: FieldKey) => ({
    id: inputId(key),
    error: (touched.has(key) ? local[key] : undefined) ?? server[key],
    onBlur: () => touch(key),
  });
  const stepProps: StepProps = { form: f, set, pick, field, touch, draft };

  /** Problems that keep a step from being left (what a draft needs; submission's come at the review). */
  const blocking = checkForm(f);
  const problemsOn = (s: number) => fieldsOfStep(s, f).filter((k) => blocking[k] ?? server[k]);

  /** Forward, a step is left only without problems: the first one's field gets the focus. */
  const goTo = (target: number) => {
    if (target <= step) {
      setStep(target);
      return;
    }
    for (let s = step; s < target; s++) {
      setTouched((old) => new Set([...old, ...fieldsOfStep(s, f)]));
      const first = problemsOn(s)[0];
      if (first) {
        setStep(s);
        setFocus({ key: first, at: Date.now() });
        return;
      }
    }
    if (target === REVIEW_STEP) setReviewed(true);
    setStep(target);
  };
  const fix = (key: FieldKey) => {
    touch(key);
    setStep(stepOf(key));
    setFocus({ key, at: Date.now() });
  };

  /** Saves now and goes to the request's page (after the problems of the first step that has any). */
  const saveAndClose = async () => {
    for (let s = 0; s < REVIEW_STEP; s++) {
      const first = problemsOn(s)[0];
      if (first) {
        setStep(s);
        setTouched((old) => new Set([...old, ...fieldsOfStep(s, f)]));
        setFocus({ key: first, at: Date.now() });
        return;
      }
    }
    const saved = await autosave.flush();
    if (saved) navigate(`/requests/${saved.id}`);
  };

  const submit = async (note: string | undefined) => {
    const saved = await autosave.flush();
    if (!saved)
      throw new Error('The draft could not be saved, so it was not submitted: see why beside Submit.');
    const submitted = await submitDraft.mutateAsync({ draft: saved, note });
    navigate(`/requests/${submitted.id}`);
  };

  const states = (parties.data?.items ?? []).filter((p) => p.kind === 'state');
  const countryOptions = states.map((p) => ({ value: p.code, label: `${p.name} (${p.code})` }));
  const party = draft?.party ?? me.party;
  const forSubmission = checkForm(f, { forSubmission: true });
  const hint = eligibilityHint(
    parties.data?.items.find((p) => p.code === party),
    framework.data,
  );
  const decisionHours = framework.data?.rules.clocks.decisionHours;
  const stale = status.kind === 'stale' ? status : null;

  return (
    <Stack maw={980}>
      <Title order={1} size="h2">
        {opened ? `Edit draft: ${opened.title}` : 'New assistance request'}
      </Title>
      <Text c="dimmed" size="sm">
        The Cyber Solidarity Act's template. It is saved as a draft of {party} as you type; nothing is sent to
        the council until you submit it from the review. Times are in your zone ({viewerZone()}).
      </Text>
      {stale && draft ? (
        <StaleAlert
          status={stale}
          draftId={draft.id}
          onReload={() => void onReload(draft.id)}
          onOverwrite={() => void autosave.overwrite()}
        />
      ) : null}
      <Stepper active={step} onStepClick={goTo} allowNextStepsSelect size="sm">
        <Stepper.Step label={STEPS[0]} description="entity, class, impact">
          <IncidentStep {...stepProps} countryOptions={countryOptions} />
        </Stepper.Step>
        <Stepper.Step label={STEPS[1]} description="skills, place, window">
          <HelpStep {...stepProps} countryOptions={countryOptions} />
        </Stepper.Step>
        <Stepper.Step label={STEPS[2]} description="done so far, other help">
          <MeasuresStep {...stepProps} />
        </Stepper.Step>
        <Stepper.Step label={STEPS[3]} description="as the council sees it">
          <ReviewStep form={f} party={party} missing={forSubmission} hint={hint} onEdit={goTo} onFix={fix} />
        </Stepper.Step>
      </Stepper>
      {unplaced.length > 0 ? (
        <Alert color="red" title="The node did not take the draft">
          <List size="sm">
            {unplaced.map((line) => (
              <List.Item key={line}>{line}</List.Item>
            ))}
          </List>
        </Alert>
      ) : null}
      <Group justify="space-between" align="flex-start">
        <Button variant="default" onClick={() => goTo(step - 1)} disabled={step === 0}>
          Back
        </Button>
        <Group align="flex-start">
          <SaveStatusLine status={status} />
          {step < REVIEW_STEP ? (
            <Button onClick={() => goTo(step + 1)}>{step === REVIEW_STEP - 1 ? 'Review' : 'Next'}</Button>
          ) : null}
          <Button variant="default" onClick={() => void saveAndClose()} disabled={stale !== null}>
            Save draft
          </Button>
          {/* Offered to whoever keeps the draft; the node's can.submit turns true only once it is
              complete, so the button is shown, disabled, while the review lists what is missing. */}
          {step === REVIEW_STEP && draft?.can.edit !== false ? (
            <ConfirmAction
              label="Submit to the council"
              title="Submit to the council?"
              consequence={
                <>
                  {party}'s eligibility is checked and, if it is eligible, the council is asked to decide
                  {decisionHours ? ` within ${decisionHours} h` : ' within the decision clock'}; the NIS2
                  clocks of the entity start from when it became aware. The draft can no longer be edited (it
                  can still be withdrawn).
                </>
              }
              reason="optional"
              reasonLabel="Note for the council (optional)"
              disabled={Object.keys(forSubmission).length > 0 || stale !== null}
              buttonProps={{ 'data-testid': 'wizard-submit' }}
              onConfirm={submit}
            />
          ) : null}
        </Group>
      </Group>
    </Stack>
  );
}
