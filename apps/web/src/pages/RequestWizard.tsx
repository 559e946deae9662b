import {
  ActionIcon,
  Alert,
  Anchor,
  Button,
  Checkbox,
  Group,
  List,
  MultiSelect,
  NumberInput,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Stepper,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  type AssistanceRequest,
  CLEARANCES,
  IMPACT_LEVELS,
  LEGAL_INSTRUMENTS,
  MODES,
  PAPS,
  SECTORS,
  SEVERITIES,
  SKILLS,
  SPREAD_RISKS,
  TLPS,
} from '@vytis/contracts';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import rsit from '../../../server/data/taxonomies/rsit/machinetag.json';
import { ApiError, api, errorText } from '../api/client.ts';
import { useParties, useRequest } from '../api/queries.ts';
import { useAuth, useMe } from '../auth.tsx';
import { humanize, isoToLocalInput, localInputToIso, viewerZone } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';

/** The RSIT taxonomy as MISP publishes it: classes (predicates) and their types (values). */
const RSIT_CLASSES = rsit.predicates.map((p) => ({ value: p.value, label: p.expanded ?? p.value }));
const rsitTypes = (predicate: string) =>
  (rsit.values.find((v) => v.predicate === predicate)?.entry ?? []).map((e) => ({
    value: e.value,
    label: e.expanded ?? e.value,
    description: e.description,
  }));

const LANGUAGES = [
  ['en', 'English'],
  ['fr', 'French'],
  ['de', 'German'],
  ['lt', 'Lithuanian'],
  ['lv', 'Latvian'],
  ['et', 'Estonian'],
  ['pl', 'Polish'],
  ['nl', 'Dutch'],
  ['ro', 'Romanian'],
  ['hr', 'Croatian'],
  ['sl', 'Slovenian'],
  ['fi', 'Finnish'],
  ['sv', 'Swedish'],
  ['el', 'Greek'],
  ['es', 'Spanish'],
  ['it', 'Italian'],
  ['pt', 'Portuguese'],
  ['uk', 'Ukrainian'],
  ['ru', 'Russian'],
  ['bg', 'Bulgarian'],
  ['cs', 'Czech'],
  ['sk', 'Slovak'],
  ['hu', 'Hungarian'],
  ['da', 'Danish'],
  ['ro', 'Romanian'],
]
  .filter(([code], i, all) => all.findIndex(([c]) => c === code) === i)
  .map(([value, label]) => ({ value: value!, label: `${label} (${value})` }));

const opts = (values: readonly string[]) => values.map((v) => ({ value: v, label: humanize(v) }));

interface Form {
  title: string;
  entityName: string;
  sector: string | null;
  essential: boolean;
  rsitClass: string | null;
  rsitType: string | null;
  severity: string | null;
  awareAt: string;
  tlp: string | null;
  pap: string | null;
  impactLevel: string | null;
  impact: string;
  crossBorderRisk: string | null;
  crossBorderCountries: string[];
  helpNeeded: string;
  mode: string | null;
  country: string | null;
  city: string;
  needs: { skill: string | null; count: number; minLevel: number }[];
  languages: string[];
  clearance: string | null;
  windowFrom: string;
  windowTo: string;
  legalInstrument: string | null;
  measuresTaken: string;
  otherHelp: string;
  exercise: boolean;
}

const STEP_OF_FIELD: [RegExp, number][] = [
  [/^(title|affectedEntity|incidentClass|severity|awareAt|tlp|pap|impact|impactLevel|crossBorder)/, 0],
  [/^(helpNeeded|mode|location|needs|languages|clearance|window|legalInstrument)/, 1],
  [/^(measuresTaken|otherHelp|exercise)/, 2],
];

/**
 * The form as the API's body. A new request leaves out what is not filled in. A draft's edit
 * (`draft` given) sends blank text as "" so that clearing a field clears it (a PATCH leaves out
 * what it does not send), and keeps the draft's map point (lat/lon, set over the API) while the
 * country stays the same.
 */
function toBody(f: Form, draft?: AssistanceRequest): Record<string, unknown> {
  const optionalText = (s: string) => (s.trim() ? s : draft ? '' : undefined);
  const point =
    draft && draft.location.country === f.country
      ? {
          ...(draft.location.lat !== undefined ? { lat: draft.location.lat } : {}),
          ...(draft.location.lon !== undefined ? { lon: draft.location.lon } : {}),
        }
      : {};
  return {
    title: f.title,
    affectedEntity: { name: f.entityName, sector: f.sector ?? undefined, essential: f.essential },
    incidentClass: f.rsitClass && f.rsitType ? `rsit:${f.rsitClass}="${f.rsitType}"` : undefined,
    severity: f.severity ?? undefined,
    tlp: f.tlp ?? undefined,
    pap: f.pap ?? undefined,
    mode: f.mode ?? undefined,
    location: {
      country: f.country ?? undefined,
      ...(f.city.trim() ? { city: f.city.trim() } : {}),
      ...point,
    },
    needs: f.needs.map((n) => ({ skill: n.skill ?? undefined, count: n.count, minLevel: n.minLevel })),
    languages: f.languages,
    clearance: f.clearance ?? undefined,
    window: { from: localInputToIso(f.windowFrom), to: localInputToIso(f.windowTo) },
    awareAt: localInputToIso(f.awareAt),
    impact: optionalText(f.impact),
    impactLevel: f.impactLevel ?? undefined,
    crossBorder: f.crossBorderRisk
      ? {
          risk: f.crossBorderRisk,
          ...(f.crossBorderCountries.length ? { countries: f.crossBorderCountries } : {}),
        }
      : undefined,
    helpNeeded: optionalText(f.helpNeeded),
    measuresTaken: optionalText(f.measuresTaken),
    otherHelp: optionalText(f.otherHelp),
    legalInstrument: f.legalInstrument ?? undefined,
    exercise: f.exercise,
  };
}

/** A blank form for a new request of `party`: a plausible window and the usual defaults. */
function blankForm(party: string): Form {
  const now = new Date();
  return {
    title: '',
    entityName: '',
    sector: null,
    essential: true,
    rsitClass: null,
    rsitType: null,
    severity: null,
    awareAt: isoToLocalInput(new Date(now.getTime() - 2 * 3600_000)),
    tlp: 'amber',
    pap: 'amber',
    impactLevel: null,
    impact: '',
    crossBorderRisk: null,
    crossBorderCountries: [],
    helpNeeded: '',
    mode: 'hybrid',
    country: party === 'EU' ? 'BE' : party,
    city: '',
    needs: [{ skill: null, count: 1, minLevel: 2 }],
    languages: ['en'],
    clearance: 'none',
    windowFrom: isoToLocalInput(new Date(now.getTime() + 6 * 3600_000)),
    windowTo: isoToLocalInput(new Date(now.getTime() + 7 * 86400_000)),
    legalInstrument: 'crrt-mou',
    measuresTaken: '',
    otherHelp: '',
    exercise: false,
  };
}

/** A saved draft as the form shows it, in the viewer's zone. */
function formOf(r: AssistanceRequest): Form {
  const tag = /^rsit:([a-z-]+)="([^"]*)"$/.exec(r.incidentClass);
  return {
    title: r.title,
    entityName: r.affectedEntity.name,
    sector: r.affectedEntity.sector,
    essential: r.affectedEntity.essential,
    rsitClass: tag?.[1] ?? null,
    rsitType: tag?.[2] ?? null,
    severity: r.severity,
    awareAt: isoToLocalInput(new Date(r.awareAt)),
    tlp: r.tlp,
    pap: r.pap,
    impactLevel: r.impactLevel ?? null,
    impact: r.impact ?? '',
    crossBorderRisk: r.crossBorder?.risk ?? null,
    crossBorderCountries: r.crossBorder?.countries ?? [],
    helpNeeded: r.helpNeeded ?? '',
    mode: r.mode,
    country: r.location.country,
    city: r.location.city ?? '',
    needs: r.needs.map((n) => ({ skill: n.skill, count: n.count, minLevel: n.minLevel })),
    languages: r.languages,
    clearance: r.clearance,
    windowFrom: isoToLocalInput(new Date(r.window.from)),
    windowTo: isoToLocalInput(new Date(r.window.to)),
    legalInstrument: r.legalInstrument ?? null,
    measuresTaken: r.measuresTaken ?? '',
    otherHelp: r.otherHelp ?? '',
    exercise: r.exercise,
  };
}

export function NewRequestPage() {
  const me = useMe();
  return <RequestWizard initial={blankForm(me.party)} />;
}

/** /requests/:id/edit: the same wizard, filled in from a draft of the viewer's party. */
export function EditDraftPage() {
  const { id = '' } = useParams();
  const me = useMe();
  const { has } = useAuth();
  const request = useRequest(id);
  // The form starts again from the draft as it is now only when asked to (after a stale save):
  // a refetch in the background (a live event) must not wipe what the PoC is typing.
  const [opened, setOpened] = useState(0);
  if (request.isPending) return <Loading label="Reading the draft" />;
  if (request.error) return <Problem error={request.error} title="This draft cannot be edited" page />;
  const r = request.data;
  const back = (
    <Anchor component={Link} to={`/requests/${r.id}`}>
      Back to the request
    </Anchor>
  );
  if (r.status !== 'draft' || r.party !== me.party || !has('poc')) {
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
        {back}
      </Stack>
    );
  }
  return (
    <RequestWizard
      key={`${r.id}:${opened}`}
      initial={formOf(r)}
      draft={r}
      onReload={async () => {
        await request.refetch();
        setOpened((n) => n + 1);
      }}
    />
  );
}

/**
 * The Cyber Solidarity Act's template in three steps, for a new request (POST) or for a draft
 * (PATCH with the version the form was filled from: a stale one is a 412, said as such).
 */
function RequestWizard({
  initial,
  draft: opened,
  onReload,
}: {
  initial: Form;
  draft?: AssistanceRequest;
  onReload?: () => Promise<void>;
}) {
  const me = useMe();
  const parties = useParties();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [step, setStep] = useState(0);
  const [f, setF] = useState<Form>(initial);
  // The draft as the form was filled from it: its version is what the save is based on, even when
  // the page's copy is refreshed behind the form (a live event).
  const [draft] = useState(opened);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setF((old) => ({ ...old, [key]: value }));

  const create = useMutation({
    mutationFn: () =>
      draft
        ? api<AssistanceRequest>(`/requests/${draft.id}`, {
            method: 'PATCH',
            body: toBody(f, draft),
            ifMatch: draft.version,
          })
        : api<AssistanceRequest>('/requests', { body: toBody(f) }),
    onSuccess: (saved) => {
      queryClient.setQueryData(['request', saved.id], saved);
      void queryClient.invalidateQueries({ queryKey: ['requests'] });
      void queryClient.invalidateQueries({ queryKey: ['timeline', saved.id] });
      navigate(`/requests/${saved.id}`);
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      const first = error.details[0]?.field.replace(/^\/?body\//, '');
      const target = first ? STEP_OF_FIELD.find(([re]) => re.test(first))?.[1] : undefined;
      if (target !== undefined) setStep(target);
    },
  });
  // Someone changed the draft (412), or it is no longer a draft (409): the form cannot be saved
  // over it; the PoC reloads it and sees what changed.
  const stale =
    draft && create.error instanceof ApiError && [409, 412].includes(create.error.status)
      ? create.error
      : null;
  const problems = create.error instanceof ApiError ? create.error : null;
  const err = (field: string) => problems?.forField(`body/${field}`);

  const states = (parties.data?.items ?? []).filter((p) => p.kind === 'state');
  const countryOptions = states.map((p) => ({ value: p.code, label: `${p.name} (${p.code})` }));

  return (
    <Stack maw={980}>
      <Title order={1} size="h2">
        {draft ? `Edit draft: ${draft.title}` : 'New assistance request'}
      </Title>
      <Text c="dimmed" size="sm">
        The Cyber Solidarity Act's template.{' '}
        {draft
          ? 'Your changes are saved to the draft; nothing is sent to the council until you submit it from its page.'
          : `It is saved as a draft of ${me.party}; you submit it from its page.`}{' '}
        Times are in your zone ({viewerZone()}).
      </Text>
      {draft && draft.missingForSubmission.length > 0 ? (
        <Alert color="orange" title="Still needed to submit" data-testid="wizard-missing">
          <List size="sm">
            {draft.missingForSubmission.map((p) => (
              <List.Item key={p.field}>
                {p.field.replace(/^\/?body\//, '')}: {p.message}
              </List.Item>
            ))}
          </List>
        </Alert>
      ) : null}
      {stale ? (
        <Alert color="red" role="alert" title="The draft was not saved: it changed since you opened it">
          <Stack gap="xs" align="flex-start">
            <Text size="sm">
              {stale.status === 412
                ? 'Someone saved this draft after you opened it. Reload it to see their changes, then make yours again.'
                : stale.message}
            </Text>
            <Group>
              {stale.status === 412 && onReload ? (
                <Button size="xs" onClick={() => void onReload()}>
                  Reload the draft
                </Button>
              ) : null}
              <Anchor component={Link} to={`/requests/${draft?.id}`} size="sm">
                Back to the request
              </Anchor>
            </Group>
          </Stack>
        </Alert>
      ) : create.error ? (
        <Alert
          color="red"
          role="alert"
          title={draft ? 'The draft was not saved' : 'The request was not saved'}
        >
          {problems?.details.length ? (
            <List size="sm">
              {problems.details.map((d) => (
                <List.Item key={`${d.field}:${d.message}`}>
                  {d.field.replace(/^\/?body\//, '')}: {d.message}
                </List.Item>
              ))}
            </List>
          ) : (
            errorText(create.error)
          )}
        </Alert>
      ) : null}
      <Stepper active={step} onStepClick={setStep} allowNextStepsSelect size="sm">
        <Stepper.Step label="Incident" description="entity, class, impact">
          <Paper withBorder p="md">
            <Stack>
              <TextInput
                label="Title"
                description="One line that says what happened and where"
                required
                value={f.title}
                onChange={(e) => set('title', e.currentTarget.value)}
                error={err('title')}
                maxLength={200}
              />
              <SimpleGrid cols={{ base: 1, sm: 3 }}>
                <TextInput
                  label="Affected entity"
                  required
                  value={f.entityName}
                  onChange={(e) => set('entityName', e.currentTarget.value)}
                  error={err('affectedEntity/name')}
                />
                <Select
                  label="Sector (NIS2)"
                  required
                  data={opts(SECTORS)}
                  value={f.sector}
                  onChange={(v) => set('sector', v)}
                  error={err('affectedEntity/sector')}
                  searchable
                />
                <Checkbox
                  mt={30}
                  label="Essential entity (NIS2)"
                  checked={f.essential}
                  onChange={(e) => set('essential', e.currentTarget.checked)}
                />
              </SimpleGrid>
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <Select
                  label="Incident class (RSIT)"
                  required
                  data={RSIT_CLASSES}
                  value={f.rsitClass}
                  onChange={(v) => setF((old) => ({ ...old, rsitClass: v, rsitType: null }))}
                  error={err('incidentClass')}
                  searchable
                />
                <Select
                  label="Incident type (RSIT)"
                  required
                  data={f.rsitClass ? rsitTypes(f.rsitClass) : []}
                  value={f.rsitType}
                  onChange={(v) => set('rsitType', v)}
                  disabled={!f.rsitClass}
                  description={
                    f.rsitClass && f.rsitType
                      ? rsitTypes(f.rsitClass).find((t) => t.value === f.rsitType)?.description
                      : 'pick a class first'
                  }
                  error={err('incidentClass') ? ' ' : undefined}
                  searchable
                />
              </SimpleGrid>
              <SimpleGrid cols={{ base: 1, sm: 4 }}>
                <Select
                  label="Severity"
                  required
                  data={opts(SEVERITIES)}
                  value={f.severity}
                  onChange={(v) => set('severity', v)}
                  error={err('severity')}
                />
                <Select
                  label="TLP"
                  required
                  data={TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }))}
                  value={f.tlp}
                  onChange={(v) => set('tlp', v)}
                  error={err('tlp')}
                />
                <Select
                  label="PAP"
                  required
                  data={PAPS.map((t) => ({ value: t, label: `PAP:${t.toUpperCase()}` }))}
                  value={f.pap}
                  onChange={(v) => set('pap', v)}
                  error={err('pap')}
                />
                <TextInput
                  type="datetime-local"
                  label="Entity aware since"
                  description="starts the NIS2 clocks"
                  required
                  value={f.awareAt}
                  onChange={(e) => set('awareAt', e.currentTarget.value)}
                  error={err('awareAt')}
                />
              </SimpleGrid>
              <SimpleGrid cols={{ base: 1, sm: 3 }}>
                <Select
                  label="Likely impact"
                  data={opts(IMPACT_LEVELS)}
                  value={f.impactLevel}
                  onChange={(v) => set('impactLevel', v)}
                  error={err('impactLevel')}
                  // A draft's edit cannot unset a saved value (the PATCH leaves out what is empty).
                  clearable={!draft?.impactLevel}
                />
                <Select
                  label="Cross-border spread risk"
                  data={opts(SPREAD_RISKS)}
                  value={f.crossBorderRisk}
                  onChange={(v) => set('crossBorderRisk', v)}
                  error={err('crossBorder/risk')}
                  clearable={!draft?.crossBorder}
                />
                <MultiSelect
                  label="Other states at risk"
                  data={countryOptions}
                  value={f.crossBorderCountries}
                  onChange={(v) => set('crossBorderCountries', v)}
                  disabled={!f.crossBorderRisk || f.crossBorderRisk === 'none'}
                  searchable
                  error={err('crossBorder/countries')}
                />
              </SimpleGrid>
              <Textarea
                label="Likely impact, described"
                description="Markdown; links only http(s)"
                autosize
                minRows={2}
                value={f.impact}
                onChange={(e) => set('impact', e.currentTarget.value)}
                error={err('impact')}
              />
            </Stack>
          </Paper>
        </Stepper.Step>
        <Stepper.Step label="Help needed" description="skills, place, window">
          <Paper withBorder p="md">
            <Stack>
              <Textarea
                label="What help is needed, and for what"
                autosize
                minRows={2}
                value={f.helpNeeded}
                onChange={(e) => set('helpNeeded', e.currentTarget.value)}
                error={err('helpNeeded')}
              />
              <SimpleGrid cols={{ base: 1, sm: 4 }}>
                <Select
                  label="Mode"
                  required
                  data={opts(MODES)}
                  value={f.mode}
                  onChange={(v) => set('mode', v)}
                  error={err('mode')}
                />
                <Select
                  label="Country"
                  required
                  data={countryOptions}
                  value={f.country}
                  onChange={(v) => set('country', v)}
                  error={err('location/country')}
                  searchable
                />
                <TextInput
                  label="City"
                  value={f.city}
                  onChange={(e) => set('city', e.currentTarget.value)}
                  error={err('location/city')}
                />
                <Select
                  label="Clearance needed"
                  required
                  data={opts(CLEARANCES)}
                  value={f.clearance}
                  onChange={(v) => set('clearance', v)}
                  error={err('clearance')}
                />
              </SimpleGrid>
              <fieldset
                style={{
                  border: '1px solid var(--mantine-color-gray-3)',
                  borderRadius: 4,
                  padding: '0.5rem 1rem 1rem',
                }}
              >
                <legend>
                  <Text fw={500} size="sm">
                    Skills needed
                  </Text>
                </legend>
                <Stack gap="xs">
                  {f.needs.map((need, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
                    <Group key={i} align="flex-start" wrap="wrap">
                      <Select
                        label={`Skill ${i + 1}`}
                        data={opts(SKILLS)}
                        value={need.skill}
                        onChange={(v) =>
                          set(
                            'needs',
                            f.needs.map((n, j) => (j === i ? { ...n, skill: v } : n)),
                          )
                        }
                        error={err(`needs/${i}/skill`) ?? err(`needs/${i}`)}
                        w={260}
                        searchable
                      />
                      <NumberInput
                        label="People"
                        min={1}
                        max={50}
                        value={need.count}
                        onChange={(v) =>
                          set(
                            'needs',
                            f.needs.map((n, j) => (j === i ? { ...n, count: Number(v) || 1 } : n)),
                          )
                        }
                        error={err(`needs/${i}/count`)}
                        w={100}
                      />
                      <NumberInput
                        label="Minimum level (1–3)"
                        min={1}
                        max={3}
                        value={need.minLevel}
                        onChange={(v) =>
                          set(
                            'needs',
                            f.needs.map((n, j) => (j === i ? { ...n, minLevel: Number(v) || 1 } : n)),
                          )
                        }
                        error={err(`needs/${i}/minLevel`)}
                        w={160}
                      />
                      <ActionIcon
                        mt={26}
                        variant="subtle"
                        color="red"
                        aria-label={`Remove skill ${i + 1}`}
                        disabled={f.needs.length === 1}
                        onClick={() =>
                          set(
                            'needs',
                            f.needs.filter((_, j) => j !== i),
                          )
                        }
                      >
                        ✕
                      </ActionIcon>
                    </Group>
                  ))}
                  {err('needs') ? (
                    <Text c="red" size="sm">
                      {err('needs')}
                    </Text>
                  ) : null}
                  <Button
                    variant="light"
                    w="fit-content"
                    onClick={() => set('needs', [...f.needs, { skill: null, count: 1, minLevel: 2 }])}
                  >
                    Add a skill
                  </Button>
                </Stack>
              </fieldset>
              <SimpleGrid cols={{ base: 1, sm: 4 }}>
                <MultiSelect
                  label="Languages"
                  data={LANGUAGES}
                  value={f.languages}
                  onChange={(v) => set('languages', v)}
                  error={err('languages')}
                  searchable
                />
                <TextInput
                  type="datetime-local"
                  label="Mission from"
                  required
                  value={f.windowFrom}
                  onChange={(e) => set('windowFrom', e.currentTarget.value)}
                  error={err('window/from')}
                />
                <TextInput
                  type="datetime-local"
                  label="Mission until"
                  required
                  value={f.windowTo}
                  onChange={(e) => set('windowTo', e.currentTarget.value)}
                  error={err('window/to')}
                />
                <Select
                  label="Legal instrument"
                  data={opts(LEGAL_INSTRUMENTS)}
                  value={f.legalInstrument}
                  onChange={(v) => set('legalInstrument', v)}
                  error={err('legalInstrument')}
                />
              </SimpleGrid>
            </Stack>
          </Paper>
        </Stepper.Step>
        <Stepper.Step label="Measures" description="done so far, other help">
          <Paper withBorder p="md">
            <Stack>
              <Textarea
                label="What was already done to limit the damage"
                autosize
                minRows={3}
                value={f.measuresTaken}
                onChange={(e) => set('measuresTaken', e.currentTarget.value)}
                error={err('measuresTaken')}
              />
              <Textarea
                label="Other help available (contracts, insurance, other teams)"
                autosize
                minRows={2}
                value={f.otherHelp}
                onChange={(e) => set('otherHelp', e.currentTarget.value)}
                error={err('otherHelp')}
              />
              <Switch
                label="This is an exercise (same flow, marked everywhere, not in real figures)"
                checked={f.exercise}
                onChange={(e) => set('exercise', e.currentTarget.checked)}
              />
            </Stack>
          </Paper>
        </Stepper.Step>
        <Stepper.Completed>
          <Paper withBorder p="md">
            <Text>
              Review the three steps, then save the draft. Nothing is sent to the council until you submit it.
            </Text>
          </Paper>
        </Stepper.Completed>
      </Stepper>
      <Group justify="space-between">
        <Button variant="default" onClick={() => setStep((s) => Math.max(0, s - 1))} disabled={step === 0}>
          Back
        </Button>
        <Group>
          {draft ? (
            <Anchor component={Link} to={`/requests/${draft.id}`} size="sm">
              Cancel
            </Anchor>
          ) : null}
          {step < 3 ? (
            <Button variant={step < 2 ? 'filled' : 'default'} onClick={() => setStep((s) => s + 1)}>
              Next
            </Button>
          ) : null}
          <Button
            onClick={() => create.mutate()}
            loading={create.isPending}
            variant={step >= 2 ? 'filled' : 'default'}
          >
            Save draft
          </Button>
        </Group>
      </Group>
    </Stack>
  );
}
