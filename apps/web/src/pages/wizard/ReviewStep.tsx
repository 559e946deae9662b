import { Alert, Anchor, Button, Group, List, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import type { Framework, Party } from '@vytis/contracts';
import type { ReactNode } from 'react';
import { ExerciseBadge, PapBadge, SeverityBadge, TlpBadge } from '../../components/badges.tsx';
import { humanize, localInputToIso } from '../../components/format.ts';
import { Markdown } from '../../components/Markdown.tsx';
import { Time } from '../../components/Time.tsx';
import { type Form, LANGUAGES, RSIT_CLASSES, rsitTypes } from './form.ts';
import { type FieldKey, fieldName, type Problems, STEPS, stepOf } from './problems.ts';

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={500}>
        {label}
      </Text>
      <div>{children || <Text size="sm">—</Text>}</div>
    </div>
  );
}

function Section({
  title,
  step,
  onEdit,
  children,
}: {
  title: string;
  step: number;
  onEdit: (step: number) => void;
  children: ReactNode;
}) {
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          {title}
        </Title>
        <Button
          variant="subtle"
          size="compact-sm"
          onClick={() => onEdit(step)}
          aria-label={`Edit ${title.toLowerCase()}`}
        >
          Edit
        </Button>
      </Group>
      <Stack gap="sm">{children}</Stack>
    </Paper>
  );
}

const text = (s: string) => (s.trim() ? <Markdown>{s}</Markdown> : null);
const time = (local: string) => {
  const iso = localInputToIso(local);
  return iso ? (
    <Text size="sm">
      <Time at={iso} />
    </Text>
  ) : null;
};
const words = (s: string | null) => (s ? <Text size="sm">{humanize(s)}</Text> : null);

const AS_A: Record<NonNullable<Party['status']>, string> = {
  member: 'a member',
  observer: 'an observer',
  eu_institution: 'an EU institution',
  partner: 'a partner',
  external: 'an external party',
};

/**
 * What the party's status today and the framework in force say of eligibility: a hint, read from
 * the node's data; the node decides when the request is submitted.
 */
export function eligibilityHint(party: Party | undefined, framework: Framework | undefined): string | null {
  if (!party || !framework) return null;
  const status = party.status;
  const rules = framework.rules;
  const today = `${party.code} is ${status ? AS_A[status] : 'without a status'} today`;
  if (status && rules.eligibility.eligible.includes(status))
    return `${today}: its requests are eligible under the framework in force (version ${framework.version}), and the council decides by ${rules.council.defaultRule}.`;
  if (status && rules.eligibility.unanimousCouncilRequired.includes(status))
    return `${today}: under the framework in force (version ${framework.version}) its requests need a unanimous council decision.`;
  return `${today}: under the framework in force (version ${framework.version}) its requests are not eligible; submitting records the request as ineligible.`;
}

/** The last step: the request as the council will read it, what is still missing, and the eligibility hint. */
export function ReviewStep({
  form: f,
  party,
  missing,
  hint,
  onEdit,
  onFix,
}: {
  form: Form;
  party: string;
  /** What the template still needs before submission, by field. */
  missing: Problems;
  hint: string | null;
  onEdit: (step: number) => void;
  onFix: (field: FieldKey) => void;
}) {
  const type =
    f.rsitClass && f.rsitType ? rsitTypes(f.rsitClass).find((t) => t.value === f.rsitType) : undefined;
  const klass = RSIT_CLASSES.find((c) => c.value === f.rsitClass);
  const missingKeys = Object.keys(missing);
  return (
    <Stack data-testid="wizard-review">
      <Text size="sm">
        This is the request as the council will read it. Nothing is sent until you submit it.
      </Text>
      {missingKeys.length > 0 ? (
        <Alert color="orange" title="Still needed before you can submit" data-testid="wizard-missing">
          <List size="sm">
            {missingKeys.map((key) => (
              <List.Item key={key}>
                <Anchor component="button" type="button" size="sm" onClick={() => onFix(key)}>
                  {missing[key]}
                </Anchor>{' '}
                <Text span size="xs" c="dimmed">
                  ({fieldName(key)}, step {stepOf(key) + 1}: {STEPS[stepOf(key)]})
                </Text>
              </List.Item>
            ))}
          </List>
        </Alert>
      ) : null}
      {hint ? (
        <Alert color="blue" title="Eligibility" data-testid="wizard-eligibility">
          <Text size="sm">{hint} The node checks it again when you submit.</Text>
        </Alert>
      ) : null}
      <Section title="The incident" step={0} onEdit={onEdit}>
        <Text fw={600} className="wrap-anywhere" data-testid="review-title">
          {f.title || '—'}
        </Text>
        <Group gap="xs">
          {f.severity ? <SeverityBadge severity={f.severity} /> : null}
          {f.tlp ? <TlpBadge tlp={f.tlp} /> : null}
          {f.pap ? <PapBadge pap={f.pap} /> : null}
          <ExerciseBadge exercise={f.exercise} />
        </Group>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Item label="Requested by">
            <Text size="sm">{party}</Text>
          </Item>
          <Item label="Affected entity">
            {f.entityName ? (
              <Text size="sm">
                {f.entityName}
                {f.sector ? `, ${humanize(f.sector)}` : ''}
                {f.essential ? ' (essential entity)' : ''}
              </Text>
            ) : null}
          </Item>
          <Item label="Incident">
            {klass ? (
              <Text size="sm">
                {klass.label}
                {type ? `: ${type.label}` : ''}
              </Text>
            ) : null}
          </Item>
          <Item label="Entity aware since">{time(f.awareAt)}</Item>
          <Item label="Likely impact">{words(f.impactLevel)}</Item>
          <Item label="Cross-border spread risk">
            {f.crossBorderRisk ? (
              <Text size="sm">
                {humanize(f.crossBorderRisk)}
                {f.crossBorderCountries.length ? ` (${f.crossBorderCountries.join(', ')})` : ''}
              </Text>
            ) : null}
          </Item>
        </SimpleGrid>
        <Item label="Likely impact, described">{text(f.impact)}</Item>
      </Section>
      <Section title="The help needed" step={1} onEdit={onEdit}>
        <Item label="What help is needed, and for what">{text(f.helpNeeded)}</Item>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Item label="Mode">{words(f.mode)}</Item>
          <Item label="Where">
            {f.country ? (
              <Text size="sm">
                {f.city ? `${f.city}, ` : ''}
                {f.country}
              </Text>
            ) : null}
          </Item>
          <Item label="Clearance needed">{words(f.clearance)}</Item>
          <Item label="Mission from">{time(f.windowFrom)}</Item>
          <Item label="Mission until">{time(f.windowTo)}</Item>
          <Item label="Legal instrument">{words(f.legalInstrument)}</Item>
        </SimpleGrid>
        <Item label="Skills">
          <List size="sm" data-testid="review-skills">
            {f.needs.map((n, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
              <List.Item key={i}>
                {n.skill ? humanize(n.skill) : '(no skill chosen)'}: {n.count}{' '}
                {n.count === 1 ? 'person' : 'people'}, level {n.minLevel} or above
              </List.Item>
            ))}
          </List>
        </Item>
        <Item label="Languages">
          {f.languages.length ? (
            <Text size="sm">
              {f.languages.map((code) => LANGUAGES.find((l) => l.value === code)?.label ?? code).join(', ')}
            </Text>
          ) : null}
        </Item>
      </Section>
      <Section title="The measures taken" step={2} onEdit={onEdit}>
        <Item label="What was already done to limit the damage">{text(f.measuresTaken)}</Item>
        <Item label="Other help available">{text(f.otherHelp)}</Item>
      </Section>
    </Stack>
  );
}
