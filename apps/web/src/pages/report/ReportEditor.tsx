// One report's editor, for the post-action report and each NIS2 report alike: the fields drafted
// from the record, the TLP label, Save against the version read, Submit (the post-action report)
// or Mark submitted (NIS2), the files, and the preview as the node lays it out.
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  Radio,
  Select,
  Stack,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import {
  REPORT_TEXT_MAX,
  type Report,
  type ReportEdit,
  type ReportField,
  TLPS,
  type Tlp,
} from '@vytis/contracts';
import { useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/client.ts';
import {
  type ReportRef,
  reportFileHref,
  reportFormats,
  useReloadReport,
  useSaveReport,
  useSubmitReport,
} from '../../api/reports.ts';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { fmtTime } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';
import { Nis2Filing } from './Nis2Filing.tsx';
import { ReportPreview, SignatureBlock } from './ReportPreview.tsx';
import { ClockLine, isNis2, ReportState, tlpRank } from './shared.tsx';

type Value = ReportField['value'];

const FORMAT_NAMES = { pdf: 'PDF', markdown: 'Markdown', json: 'JSON', stix: 'STIX 2.1' } as const;

/** A value someone (or the draft) put in: the "drafted from the record" mark is for these only. */
const filled = (value: Value) => value !== null && value !== '';

/** Only a path inside the app is a link; anything else the node sent is shown as text. */
const inApp = (href: string) => href.startsWith('/') && !href.startsWith('//');

const tlpName = (tlp: Tlp) => `TLP:${tlp.toUpperCase()}`;

function FieldInput({
  field,
  value,
  edited,
  disabled,
  error,
  theirs,
  onChange,
}: {
  field: ReportField;
  value: Value;
  edited: boolean;
  disabled: boolean;
  error: string | undefined;
  /** What someone else saved in this field meanwhile (after a 412 and a reload), over which the form's text stands. */
  theirs: { value: Value; by: string | null } | undefined;
  onChange: (value: Value) => void;
}) {
  const common = { label: field.label, description: field.help, error, disabled };
  let input: React.ReactNode;
  if (field.type === 'yesno')
    input = (
      <Radio.Group
        {...common}
        value={value === true ? 'yes' : value === false ? 'no' : 'unknown'}
        onChange={(v) => onChange(v === 'yes' ? true : v === 'no' ? false : null)}
      >
        <Group mt={6} gap="lg">
          <Radio value="yes" label="Yes" disabled={disabled} />
          <Radio value="no" label="No" disabled={disabled} />
          <Radio value="unknown" label="Unknown" disabled={disabled} />
        </Group>
      </Radio.Group>
    );
  else if (field.type === 'choice')
    input = (
      <Select
        {...common}
        data={field.choices ?? []}
        value={typeof value === 'string' && value !== '' ? value : null}
        onChange={(v) => onChange(v)}
        clearable
        placeholder="Not chosen"
      />
    );
  else
    input = (
      <Textarea
        {...common}
        autosize
        minRows={2}
        maxRows={16}
        maxLength={REPORT_TEXT_MAX}
        value={typeof value === 'string' ? value : ''}
        onChange={(e) => onChange(e.currentTarget.value)}
      />
    );
  const shown = (v: Value) =>
    v === true ? 'Yes' : v === false ? 'No' : v === null || v === '' ? '(empty)' : v;
  return (
    <Stack gap={4} data-testid={`field-${field.key}`}>
      {input}
      <Group gap="xs" wrap="wrap">
        {field.prefilled && !edited && filled(value) ? (
          <Badge color="indigo" variant="light" size="sm" data-testid="prefilled">
            Drafted from the record
          </Badge>
        ) : null}
        {edited ? (
          <Badge color="orange" variant="light" size="sm">
            Changed, not saved
          </Badge>
        ) : null}
        {field.source ? (
          <Text size="xs" c="dimmed">
            From{' '}
            {inApp(field.source.href) ? (
              <Anchor component={Link} to={field.source.href} size="xs">
                {field.source.label}
              </Anchor>
            ) : (
              field.source.label
            )}
          </Text>
        ) : null}
      </Group>
      {theirs ? (
        <Text size="xs" c="orange" className="wrap-anywhere" style={{ whiteSpace: 'pre-wrap' }}>
          {theirs.by ?? 'Someone'} saved this field meanwhile as: {shown(theirs.value)} — your text above is
          what a save keeps.
        </Text>
      ) : null}
    </Stack>
  );
}

export function ReportEditor({ report }: { report: Report }) {
  const ref: ReportRef = { requestId: report.requestId, kind: report.kind };
  const save = useSaveReport(ref);
  const submit = useSubmitReport(ref);
  const reload = useReloadReport(ref);
  // The version edits are made against: pinned at the first change, so a refresh from elsewhere
  // never moves it under the form (a save then meets the node's 412 instead of overwriting).
  const [pinned, setPinned] = useState<Report | null>(null);
  const base = pinned ?? report;
  const [edits, setEdits] = useState<Record<string, Value>>({});
  const [tlp, setTlp] = useState<Tlp | null>(null);
  const [theirs, setTheirs] = useState<Record<string, { value: Value; by: string | null }>>({});
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [reloading, setReloading] = useState(false);

  const dirty = Object.keys(edits).length > 0 || tlp !== null;
  const editable = base.status === 'draft' && base.can.edit;
  const conflict = saveError instanceof ApiError && (saveError.status === 412 || saveError.status === 409);
  const fieldError = (key: string) =>
    saveError instanceof ApiError && saveError.status === 400
      ? (saveError.forField(`values/${key}`) ?? saveError.forField(key))
      : undefined;

  const pin = () => {
    if (!pinned) setPinned(report);
  };
  const change = (key: string, value: Value) => {
    pin();
    setEdits((old) => ({ ...old, [key]: value }));
  };
  const changeTlp = (value: Tlp) => {
    pin();
    setTlp(value === base.tlp ? null : value);
  };

  /** Saves what changed over the version read; the form is cleared only once the node took it. */
  const doSave = async (): Promise<Report> => {
    const edit: ReportEdit = { values: edits, ...(tlp ? { tlp } : {}) };
    setSaving(true);
    setSaveError(null);
    try {
      const saved = await save.mutateAsync({ edit, version: base.version });
      setEdits({});
      setTlp(null);
      setTheirs({});
      setPinned(null);
      return saved;
    } catch (e) {
      setSaveError(e);
      throw e;
    } finally {
      setSaving(false);
    }
  };

  /** After a 412: their version becomes the one edited; the form keeps what was typed, over it. */
  const takeTheirs = async () => {
    setReloading(true);
    try {
      const latest = await reload();
      if (!latest) return;
      const changed: typeof theirs = {};
      for (const key of Object.keys(edits)) {
        const before = base.fields.find((f) => f.key === key)?.value;
        const now = latest.fields.find((f) => f.key === key)?.value;
        if (now !== undefined && before !== now) changed[key] = { value: now, by: latest.updatedBy };
      }
      setTheirs(changed);
      setPinned(latest);
      setSaveError(null);
    } finally {
      setReloading(false);
    }
  };

  /** Saves first when the form holds changes; answers the version to submit. */
  const savedVersion = async () => (dirty ? (await doSave()).version : base.version);

  const current = tlp ?? base.tlp;
  const prefilled = base.fields.filter((f) => f.prefilled && filled(f.value) && !(f.key in edits)).length;
  const minimum = base.minimumTlp;
  // The server takes AMBER at most, unless the record itself is marked stricter.
  const highest: Tlp = tlpRank(minimum) > tlpRank('amber') ? minimum : 'amber';

  return (
    <Grid>
      <Grid.Col span={{ base: 12, lg: 6 }}>
        <Stack>
          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              Status
            </Title>
            <Stack gap={6}>
              <ReportState report={base} />
              <ClockLine
                clock={base.clock}
                none={isNis2(base.kind) ? 'No clock: owed only on occasion' : 'No clock runs yet'}
              />
              {base.status === 'draft' ? (
                <Text size="sm" c="dimmed" role="status" aria-live="polite" data-testid="save-status">
                  {dirty
                    ? 'Unsaved changes'
                    : base.updatedAt
                      ? `Saved ${fmtTime(base.updatedAt)}${base.updatedBy ? ` by ${base.updatedBy}` : ''} (version ${base.version})`
                      : 'Not saved yet: drafted from the record as it is now'}
                </Text>
              ) : null}
            </Stack>
          </Card>

          {conflict ? (
            <Alert color="red" role="alert" title="Not saved" data-testid="report-stale">
              <Stack gap="xs" align="flex-start">
                <Text size="sm">
                  {(saveError as ApiError).status === 412
                    ? 'Someone else saved this report meanwhile. Your changes are still in the form and are not saved. Reload to take their version: your changes stay in the form, over theirs where you changed a field. Then save again.'
                    : 'This report was submitted meanwhile and can no longer change. Your changes are not saved; copy what you need from the form.'}
                </Text>
                <Button size="xs" loading={reloading} onClick={() => void takeTheirs()}>
                  {(saveError as ApiError).status === 412 ? 'Reload their version' : 'Reload the report'}
                </Button>
              </Stack>
            </Alert>
          ) : saveError && !fieldErrorsOnly(saveError) ? (
            <Problem error={saveError} title="The report was not saved" />
          ) : null}

          {editable ? (
            <Card withBorder>
              <Title order={2} size="h4" mb={4}>
                Draft
              </Title>
              <Text size="sm" c="dimmed" mb="sm">
                {prefilled > 0
                  ? `${prefilled} of ${base.fields.length} fields are drafted from the record: check them before submitting.`
                  : 'No field holds a draft from the record: each is as someone wrote it, or empty.'}
              </Text>
              <Stack>
                <Select
                  label="TLP label of the report"
                  description={
                    minimum === 'clear'
                      ? 'Whom the report may be shared with. A narrower label shares it with fewer people.'
                      : `Not below ${tlpName(minimum)}: the report is drafted from the request and its record, which are marked up to ${tlpName(minimum)}, and may not be shared more widely than they are. You may narrow it up to ${tlpName(highest)}: its readers are those of the request and its cases.`
                  }
                  data={TLPS.map((t) => ({
                    value: t,
                    label: tlpName(t),
                    disabled: tlpRank(t) < tlpRank(minimum) || tlpRank(t) > tlpRank(highest),
                  }))}
                  value={current}
                  allowDeselect={false}
                  onChange={(v) => v && changeTlp(v as Tlp)}
                  data-testid="report-tlp"
                />
                {base.fields.map((field) => (
                  <FieldInput
                    key={field.key}
                    field={field}
                    value={field.key in edits ? (edits[field.key] ?? null) : field.value}
                    edited={field.key in edits}
                    disabled={saving}
                    error={fieldError(field.key)}
                    theirs={theirs[field.key]}
                    onChange={(v) => change(field.key, v)}
                  />
                ))}
              </Stack>
              <Group
                mt="md"
                py="xs"
                gap="xs"
                style={{
                  position: 'sticky',
                  bottom: 0,
                  background: 'inherit',
                  borderTop: '1px solid var(--mantine-color-default-border)',
                }}
              >
                <Button
                  onClick={() => void doSave().catch(() => {})}
                  loading={saving}
                  disabled={!dirty || conflict}
                  data-testid="report-save"
                >
                  Save
                </Button>
                {base.can.submit ? (
                  isNis2(base.kind) ? (
                    <Nis2Filing
                      report={base}
                      unsaved={dirty}
                      onConfirm={async (body) =>
                        submit.mutateAsync({ version: await savedVersion(), nis2: body })
                      }
                    />
                  ) : (
                    <ConfirmAction
                      label="Submit"
                      title="Submit the post-action report?"
                      consequence={`The report is frozen as ${dirty ? 'saved now (your unsaved changes are saved first)' : 'last saved'}: nobody can change it afterwards. This node signs it (the SHA-256 of the report, with its Ed25519 key)${base.clock ? `, and it meets the post-action report clock (due ${fmtTime(base.clock.dueAt)})` : ''}.`}
                      confirmLabel="Submit and sign"
                      disabled={conflict}
                      onConfirm={async () => submit.mutateAsync({ version: await savedVersion() })}
                    />
                  )
                ) : (
                  <Text size="sm" c="dimmed" data-testid="submit-later">
                    {base.kind === 'post_action'
                      ? 'It can be submitted once the mission has stood down.'
                      : base.kind === 'nis2_final_report'
                        ? 'It can be marked submitted once the incident notification is.'
                        : 'It cannot be marked submitted yet.'}
                  </Text>
                )}
              </Group>
            </Card>
          ) : dirty ? (
            <Card withBorder data-testid="report-unsaved">
              <Title order={2} size="h4" mb={4}>
                Your unsaved text
              </Title>
              <Stack gap="xs">
                {Object.entries(edits).map(([key, value]) => (
                  <div key={key}>
                    <Text size="sm" fw={700}>
                      {base.fields.find((f) => f.key === key)?.label ?? key}
                    </Text>
                    <Text size="sm" className="wrap-anywhere" style={{ whiteSpace: 'pre-wrap' }}>
                      {String(value ?? '')}
                    </Text>
                  </div>
                ))}
              </Stack>
            </Card>
          ) : base.status === 'draft' ? (
            <Text size="sm" c="dimmed">
              You may read this draft; it is not yours to edit.
            </Text>
          ) : null}

          {base.signature ? <SignatureBlock signature={base.signature} /> : null}

          <Card withBorder>
            <Title order={2} size="h4" mb={4}>
              Files
            </Title>
            <Text size="sm" c="dimmed" mb="xs">
              {base.status === 'draft'
                ? `The report as last saved, marked as a draft${dirty ? ' (your unsaved changes are not in them)' : ''}.`
                : 'The submitted report, with its signature.'}
            </Text>
            <Group gap="xs" data-testid="report-files">
              {reportFormats(base.kind).map((format) => (
                <Button
                  key={format}
                  component="a"
                  href={reportFileHref(ref, format)}
                  download
                  size="xs"
                  variant="default"
                >
                  {FORMAT_NAMES[format]}
                </Button>
              ))}
            </Group>
          </Card>
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, lg: 6 }}>
        <Card withBorder>
          <Title order={2} size="h4" mb={4}>
            Preview
          </Title>
          <Text size="sm" c="dimmed" mb="xs">
            As {base.status === 'draft' ? 'last saved' : 'submitted'}, laid out as in the PDF and Markdown
            files
            {dirty ? '; save to see your changes here' : ''}.
          </Text>
          <ReportPreview layout={base.layout} />
        </Card>
      </Grid.Col>
    </Grid>
  );
}

/** A 400 whose every problem names a field of the form: shown at the fields alone. */
const fieldErrorsOnly = (error: unknown) =>
  error instanceof ApiError &&
  error.status === 400 &&
  error.details.length > 0 &&
  error.details.every((d) => /values[/.]/.test(d.field));
