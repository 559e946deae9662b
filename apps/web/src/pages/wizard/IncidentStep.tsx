import { Checkbox, MultiSelect, Paper, Select, SimpleGrid, Stack, Textarea, TextInput } from '@mantine/core';
import { IMPACT_LEVELS, PAPS, SECTORS, SEVERITIES, SPREAD_RISKS, TLPS } from '@vytis/contracts';
import type { StepProps } from './fields.ts';
import { opts, RSIT_CLASSES, rsitTypes } from './form.ts';

/** Step 1: the affected entity, the incident's class and severity, its labels and likely impact. */
export function IncidentStep({
  form: f,
  set,
  pick,
  field,
  draft,
  countryOptions,
}: StepProps & { countryOptions: { value: string; label: string }[] }) {
  const type =
    f.rsitClass && f.rsitType ? rsitTypes(f.rsitClass).find((t) => t.value === f.rsitType) : undefined;
  return (
    <Paper withBorder p="md">
      <Stack>
        <TextInput
          label="Title"
          description="One line that says what happened and where"
          required
          value={f.title}
          onChange={(e) => set('title', e.currentTarget.value)}
          maxLength={200}
          {...field('title')}
        />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput
            label="Affected entity"
            required
            value={f.entityName}
            onChange={(e) => set('entityName', e.currentTarget.value)}
            maxLength={200}
            {...field('entityName')}
          />
          <Select
            label="Sector (NIS2)"
            required
            data={opts(SECTORS)}
            value={f.sector}
            onChange={(v) => pick('sector', v)}
            searchable
            {...field('sector')}
          />
          <Checkbox
            mt={30}
            label="Essential entity (NIS2)"
            checked={f.essential}
            onChange={(e) => pick('essential', e.currentTarget.checked)}
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label="Incident class (RSIT)"
            required
            data={RSIT_CLASSES}
            value={f.rsitClass}
            onChange={(v) => {
              pick('rsitClass', v);
              set('rsitType', null);
            }}
            searchable
            {...field('rsitClass')}
          />
          <Select
            label="Incident type (RSIT)"
            required
            data={f.rsitClass ? rsitTypes(f.rsitClass) : []}
            value={f.rsitType}
            onChange={(v) => pick('rsitType', v)}
            disabled={!f.rsitClass}
            description={f.rsitClass ? type?.description : 'Pick a class first'}
            searchable
            {...field('rsitType')}
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 4 }}>
          <Select
            label="Severity"
            required
            data={opts(SEVERITIES)}
            value={f.severity}
            onChange={(v) => pick('severity', v)}
            {...field('severity')}
          />
          <Select
            label="TLP"
            required
            data={TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }))}
            value={f.tlp}
            onChange={(v) => pick('tlp', v)}
            allowDeselect={false}
            {...field('tlp')}
          />
          <Select
            label="PAP"
            required
            data={PAPS.map((t) => ({ value: t, label: `PAP:${t.toUpperCase()}` }))}
            value={f.pap}
            onChange={(v) => pick('pap', v)}
            allowDeselect={false}
            {...field('pap')}
          />
          <TextInput
            type="datetime-local"
            label="Entity aware since"
            description="Starts the NIS2 clocks"
            required
            value={f.awareAt}
            onChange={(e) => set('awareAt', e.currentTarget.value)}
            {...field('awareAt')}
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Select
            label="Likely impact"
            data={opts(IMPACT_LEVELS)}
            value={f.impactLevel}
            onChange={(v) => pick('impactLevel', v)}
            // A saved value cannot be unset (a PATCH leaves out what is empty).
            clearable={!draft?.impactLevel}
            {...field('impactLevel')}
          />
          <Select
            label="Cross-border spread risk"
            data={opts(SPREAD_RISKS)}
            value={f.crossBorderRisk}
            onChange={(v) => pick('crossBorderRisk', v)}
            clearable={!draft?.crossBorder}
            {...field('crossBorderRisk')}
          />
          <MultiSelect
            label="Other states at risk"
            data={countryOptions}
            value={f.crossBorderCountries}
            onChange={(v) => pick('crossBorderCountries', v)}
            disabled={!f.crossBorderRisk || f.crossBorderRisk === 'none'}
            searchable
            {...field('crossBorderCountries')}
          />
        </SimpleGrid>
        <Textarea
          label="Likely impact, described"
          description="Needed to submit. Markdown; links only http(s)"
          autosize
          minRows={2}
          maxLength={5000}
          value={f.impact}
          onChange={(e) => set('impact', e.currentTarget.value)}
          {...field('impact')}
        />
      </Stack>
    </Paper>
  );
}
