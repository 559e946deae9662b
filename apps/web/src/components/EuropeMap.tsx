import { Group, Text } from '@mantine/core';
import type { Party, PartyStatus } from '@vytis/contracts';
import { geoAzimuthalEqualArea, geoPath } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import atlasUrl from 'world-atlas/countries-50m.json?url';
import { PARTY_STATUS_COLOURS } from './badges.tsx';
import { humanize } from './format.ts';
import { CAPITALS, NUMERIC_TO_ALPHA2 } from './geo.ts';

export interface MapMarker {
  id: string;
  party: string;
  label: string;
  kind: 'request' | 'deployment';
  href: string;
}

const WIDTH = 800;
const HEIGHT = 640;
// Portugal to Ukraine, Crete to the North Cape.
const EUROPE = {
  type: 'Feature',
  properties: {},
  geometry: {
    type: 'MultiPoint',
    coordinates: [
      [-11, 36],
      [40, 36],
      [-10, 60],
      [38, 62],
      [22, 70.5],
    ],
  },
} as const;

let atlas: Promise<FeatureCollection<Geometry, { name: string }>> | null = null;
/** The offline TopoJSON from world-atlas, bundled as a file of the app: loaded once. */
function loadAtlas() {
  atlas ??= fetch(atlasUrl)
    .then((r) => r.json() as Promise<Topology<{ countries: GeometryCollection<{ name: string }> }>>)
    .then(
      (topology) =>
        feature(topology, topology.objects.countries) as FeatureCollection<Geometry, { name: string }>,
    );
  return atlas;
}

export function EuropeMap({ parties, markers }: { parties: Party[]; markers: MapMarker[] }) {
  const [countries, setCountries] = useState<Feature<Geometry, { name: string }>[] | null>(null);
  const navigate = useNavigate();
  useEffect(() => {
    let live = true;
    void loadAtlas().then((fc) => live && setCountries(fc.features));
    return () => {
      live = false;
    };
  }, []);

  const projection = useMemo(
    () =>
      geoAzimuthalEqualArea()
        .rotate([-12, -53])
        .fitExtent(
          [
            [10, 10],
            [WIDTH - 10, HEIGHT - 10],
          ],
          EUROPE as never,
        ),
    [],
  );
  const path = useMemo(() => geoPath(projection), [projection]);
  const status = useMemo(() => new Map(parties.map((p) => [p.code, p])), [parties]);

  // Several markers in one party sit on a small ring around its capital.
  const placed = useMemo(() => {
    const byParty = new Map<string, MapMarker[]>();
    for (const m of markers) byParty.set(m.party, [...(byParty.get(m.party) ?? []), m]);
    return [...byParty.entries()].flatMap(([party, list]) => {
      const capital = CAPITALS[party];
      const at = capital ? projection(capital) : null;
      if (!at) return [];
      return list.map((m, i) => {
        const angle = (i / list.length) * 2 * Math.PI;
        const r = list.length > 1 ? 12 : 0;
        return { ...m, x: at[0] + r * Math.cos(angle), y: at[1] + r * Math.sin(angle) };
      });
    });
  }, [markers, projection]);

  const legend: (PartyStatus | 'none')[] = ['member', 'observer', 'eu_institution', 'partner', 'external'];
  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        style={{ background: 'var(--vytis-map-sea)', borderRadius: 6, display: 'block', maxHeight: '70vh' }}
        data-testid="europe-map"
      >
        <title>Map of Europe: parties by status, open requests and deployments</title>
        {countries?.map((country) => {
          const code = NUMERIC_TO_ALPHA2[String(country.id)];
          const party = code ? status.get(code) : undefined;
          const d = path(country);
          if (!d) return null;
          const label = `${country.properties.name}${party ? `: ${humanize(party.status ?? 'no status')}` : ''}`;
          return (
            <path
              key={String(country.id ?? country.properties.name)}
              className="map-country"
              d={d}
              fill={PARTY_STATUS_COLOURS[party?.status ?? 'none']}
              data-party={code}
              data-status={party?.status ?? undefined}
            >
              <title>{label}</title>
            </path>
          );
        })}
        {!countries ? (
          <text x={WIDTH / 2} y={HEIGHT / 2} textAnchor="middle" fill="var(--mantine-color-dimmed)">
            Loading the map…
          </text>
        ) : null}
        {placed.map((m) => (
          <a
            key={m.id}
            href={m.href}
            onClick={(e) => {
              e.preventDefault();
              navigate(m.href);
            }}
            aria-label={`${m.kind === 'deployment' ? 'Deployment' : 'Request'} in ${m.party}: ${m.label}`}
            data-marker={m.kind}
          >
            <title>{`${m.kind === 'deployment' ? 'Deployment' : 'Request'}: ${m.label}`}</title>
            {m.kind === 'deployment' ? (
              <rect
                x={m.x - 7}
                y={m.y - 7}
                width={14}
                height={14}
                fill="#2b8a3e"
                stroke="#fff"
                strokeWidth={2}
              />
            ) : (
              <circle cx={m.x} cy={m.y} r={10} fill="#e03131" stroke="#fff" strokeWidth={2} />
            )}
          </a>
        ))}
      </svg>
      <figcaption>
        <Group gap="md" mt="xs" wrap="wrap">
          {legend.map((s) => (
            <Group key={s} gap={6}>
              <span
                aria-hidden
                style={{
                  width: 14,
                  height: 14,
                  background: PARTY_STATUS_COLOURS[s],
                  display: 'inline-block',
                  border: '1px solid #999',
                }}
              />
              <Text size="sm">{s === 'eu_institution' ? 'EU institution' : humanize(s)}</Text>
            </Group>
          ))}
          <Group gap={6}>
            <svg width="14" height="14" aria-hidden>
              <circle cx="7" cy="7" r="6" fill="#e03131" />
            </svg>
            <Text size="sm">Open request</Text>
          </Group>
          <Group gap={6}>
            <svg width="14" height="14" aria-hidden>
              <rect x="1" y="1" width="12" height="12" fill="#2b8a3e" />
            </svg>
            <Text size="sm">Deployment</Text>
          </Group>
        </Group>
      </figcaption>
    </figure>
  );
}
