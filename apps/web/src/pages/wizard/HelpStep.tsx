import {
  ActionIcon,
  Button,
  Group,
  MultiSelect,
  NumberInput,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { CLEARANCES, LEGAL_INSTRUMENTS, MODES, SKILLS } from '@vytis/contracts';
import type { StepProps } from './fields.ts';
import { LANGUAGES, type Need, opts } from './form.ts';

/** Step 2: what help, where, with which skills and languages, over which window. */
export function HelpStep({
  form: f,
  set,
  pick,
  field,
  touch,
  countryOptions,
}: StepProps & { countryOptions: { value: string; label: string }[] }) {
  const setNeed = (i: number, change: Partial<Need>, picked = false) => {
    set(
      'needs',
      f.needs.map((n, j) => (j === i ? { ...n, ...change } : n)),
    );
    if (picked) touch(`needs.${i}.skill`);
  };
  return (
    <Paper withBorder p="md">
      <Stack>
        <Textarea
          label="What help is needed, and for what"
          description="Needed to submit"
          autosize
          minRows={2}
          maxLength={5000}
          value={f.helpNeeded}
          onChange={(e) => set('helpNeeded', e.currentTarget.value)}
          {...field('helpNeeded')}
        />
        <SimpleGrid cols={{ base: 1, sm: 4 }}>
          <Select
            label="Mode"
            required
            data={opts(MODES)}
            value={f.mode}
            onChange={(v) => pick('mode', v)}
            allowDeselect={false}
            {...field('mode')}
          />
          <Select
            label="Country"
            required
            data={countryOptions}
            value={f.country}
            onChange={(v) => pick('country', v)}
            searchable
            {...field('country')}
          />
          <TextInput
            label="City"
            value={f.city}
            onChange={(e) => set('city', e.currentTarget.value)}
            maxLength={120}
            {...field('city')}
          />
          <Select
            label="Clearance needed"
            required
            data={opts(CLEARANCES)}
            value={f.clearance}
            onChange={(v) => pick('clearance', v)}
            allowDeselect={false}
            {...field('clearance')}
          />
        </SimpleGrid>
        <fieldset
          style={{
            border: '1px solid var(--mantine-color-default-border)',
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
                  required
                  data={opts(SKILLS)}
                  value={need.skill}
                  onChange={(v) => setNeed(i, { skill: v }, true)}
                  w={260}
                  searchable
                  {...field(`needs.${i}.skill`)}
                />
                <NumberInput
                  label="People"
                  min={1}
                  max={50}
                  clampBehavior="strict"
                  value={need.count}
                  onChange={(v) => setNeed(i, { count: Number(v) || 1 })}
                  w={100}
                  {...field(`needs.${i}.count`)}
                />
                <NumberInput
                  label="Minimum level (1–3)"
                  min={1}
                  max={3}
                  clampBehavior="strict"
                  value={need.minLevel}
                  onChange={(v) => setNeed(i, { minLevel: Number(v) || 1 })}
                  w={160}
                  {...field(`needs.${i}.minLevel`)}
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
            <Button
              variant="light"
              w="fit-content"
              disabled={f.needs.length >= 20}
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
            onChange={(v) => pick('languages', v)}
            maxValues={10}
            searchable
            {...field('languages')}
          />
          <TextInput
            type="datetime-local"
            label="Mission from"
            required
            value={f.windowFrom}
            onChange={(e) => set('windowFrom', e.currentTarget.value)}
            {...field('windowFrom')}
          />
          <TextInput
            type="datetime-local"
            label="Mission until"
            required
            value={f.windowTo}
            onChange={(e) => set('windowTo', e.currentTarget.value)}
            {...field('windowTo')}
          />
          <Select
            label="Legal instrument"
            data={opts(LEGAL_INSTRUMENTS)}
            value={f.legalInstrument}
            onChange={(v) => pick('legalInstrument', v)}
            {...field('legalInstrument')}
          />
        </SimpleGrid>
      </Stack>
    </Paper>
  );
}
