// Registering or editing a responder: shown only where the server's `can` says so.
import { Button, Group, MultiSelect, NumberInput, Select, Stack, TextInput } from '@mantine/core';
import { CLEARANCES, type Responder, SKILLS } from '@vytis/contracts';
import { useState } from 'react';
import { useCreateResponder, useUpdateResponder } from '../../api/roster.ts';
import { humanize, viewerZone } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';

interface ResponderDraft {
  name: string;
  party: string;
  affiliation: string;
  skills: string[];
  level: string;
  languages: string;
  clearance: string;
  city: string;
  country: string;
  lat: number;
  lon: number;
  timeZone: string;
  remoteHours: number;
  onsiteHours: number;
}

const draftOf = (r: Responder | null, party: string): ResponderDraft => ({
  name: r?.name ?? '',
  party: r?.party ?? party,
  affiliation: r?.affiliation ?? 'civilian',
  skills: r?.skills.map((s) => s.skill) ?? [],
  level: String(r?.skills[0]?.level ?? 2),
  languages: r?.languages.join(', ') ?? 'en',
  clearance: r?.clearance ?? 'secret',
  city: r?.base.city ?? '',
  country: r?.base.country ?? party,
  lat: r?.base.lat ?? 0,
  lon: r?.base.lon ?? 0,
  timeZone: r?.base.timeZone ?? viewerZone(),
  remoteHours: r?.readiness.remoteHours ?? 2,
  onsiteHours: r?.readiness.onsiteHours ?? 24,
});

function fieldsOf(d: ResponderDraft) {
  const kept = new Map(d.skills.map((s) => [s, Number(d.level)]));
  return {
    name: d.name.trim(),
    affiliation: d.affiliation as Responder['affiliation'],
    skills: [...kept].map(([skill, level]) => ({ skill, level })) as Responder['skills'],
    languages: d.languages
      .split(/[\s,]+/)
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean),
    clearance: d.clearance as Responder['clearance'],
    base: { city: d.city.trim(), country: d.country, lat: d.lat, lon: d.lon, timeZone: d.timeZone.trim() },
    readiness: { remoteHours: d.remoteHours, onsiteHours: d.onsiteHours },
  };
}

/** Register or edit a responder: skills and level, languages, clearance, base and time zone, readiness. */
export function ResponderForm({
  responder,
  parties,
  onDone,
}: {
  responder: Responder | null;
  parties: string[];
  onDone: () => void;
}) {
  const [draft, setDraft] = useState(() => draftOf(responder, parties[0] ?? ''));
  const create = useCreateResponder();
  const update = useUpdateResponder();
  const set = <K extends keyof ResponderDraft>(key: K, value: ResponderDraft[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));
  const mutation = responder ? update : create;
  const submit = async () => {
    if (responder) await update.mutateAsync({ responder, patch: fieldsOf(draft) });
    else await create.mutateAsync({ ...fieldsOf(draft), party: draft.party });
    onDone();
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void submit().catch(() => {});
      }}
    >
      <Stack gap="xs">
        <Group grow align="flex-start">
          <TextInput
            label="Name"
            required
            value={draft.name}
            onChange={(e) => set('name', e.currentTarget.value)}
          />
          {responder ? null : (
            <Select
              label="Party"
              data={parties}
              value={draft.party}
              onChange={(v) => v && set('party', v)}
              allowDeselect={false}
            />
          )}
          <Select
            label="Affiliation"
            data={['civilian', 'military']}
            value={draft.affiliation}
            onChange={(v) => v && set('affiliation', v)}
            allowDeselect={false}
          />
        </Group>
        <Group grow align="flex-start">
          <MultiSelect
            label="Skills"
            data={SKILLS.map((s) => ({ value: s, label: humanize(s) }))}
            value={draft.skills}
            onChange={(v) => set('skills', v)}
            searchable
          />
          <Select
            label="Skill level"
            description="1 basic, 2 skilled, 3 expert"
            data={['1', '2', '3']}
            value={draft.level}
            onChange={(v) => v && set('level', v)}
            allowDeselect={false}
          />
        </Group>
        <Group grow align="flex-start">
          <TextInput
            label="Languages"
            description="ISO 639-1 codes, comma-separated"
            value={draft.languages}
            onChange={(e) => set('languages', e.currentTarget.value)}
          />
          <Select
            label="Clearance"
            data={CLEARANCES.map((c) => ({ value: c, label: humanize(c) }))}
            value={draft.clearance}
            onChange={(v) => v && set('clearance', v)}
            allowDeselect={false}
          />
        </Group>
        <Group grow align="flex-start">
          <TextInput
            label="Base city"
            required
            value={draft.city}
            onChange={(e) => set('city', e.currentTarget.value)}
          />
          <TextInput
            label="Country"
            value={draft.country}
            onChange={(e) => set('country', e.currentTarget.value.toUpperCase())}
          />
          <TextInput
            label="Time zone"
            description="IANA, e.g. Europe/Vilnius"
            value={draft.timeZone}
            onChange={(e) => set('timeZone', e.currentTarget.value)}
          />
        </Group>
        <Group grow align="flex-start">
          <NumberInput
            label="Latitude"
            value={draft.lat}
            onChange={(v) => set('lat', Number(v))}
            decimalScale={4}
          />
          <NumberInput
            label="Longitude"
            value={draft.lon}
            onChange={(v) => set('lon', Number(v))}
            decimalScale={4}
          />
          <NumberInput
            label="Ready remotely in (h)"
            value={draft.remoteHours}
            min={0}
            onChange={(v) => set('remoteHours', Number(v))}
          />
          <NumberInput
            label="Ready on site in (h)"
            value={draft.onsiteHours}
            min={0}
            onChange={(v) => set('onsiteHours', Number(v))}
          />
        </Group>
        <Problem error={mutation.error} title="Not saved" />
        <Group>
          <Button type="submit" loading={mutation.isPending}>
            {responder ? 'Save responder' : 'Add responder'}
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
