import { Readable } from 'node:stream';
import type { NewCase, NewObservable } from '@vytis/contracts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';

const HOUR = 3_600_000;

interface DemoCase {
  by: string;
  body: NewCase;
  /** Links the case to the demo request with this title, when there is one. */
  requestTitle?: string;
  observables: NewObservable[];
  tasks?: Array<{ title: string; dueInHours?: number; done?: boolean }>;
  timeline?: Array<{ hoursAgo: number; text: string }>;
  notes?: string[];
  /** More indicators, imported as a file (CSV lines `type,value,comment`). */
  bulk?: string[];
}

/** A C2 address LT and EE both meet: the correlation the demo shows. */
const SHARED_C2 = '185.220.101.47';

/** Cases of several states with shared and unshared indicators under every TLP label. */
function demoCases(): DemoCase[] {
  return [
    {
      by: 'lt.analyst',
      requestTitle: '[demo] Ransomware at the national electricity transmission operator',
      body: {
        title: '[demo] Ransomware at the electricity transmission operator',
        description:
          'Historian servers and two engineering workstations encrypted overnight.\n\n' +
          '- Initial access: VPN appliance, **unpatched**\n- Lateral movement over SMB\n- Ransom note names the *Akira* group',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'critical',
        tlp: 'amber',
        pap: 'amber',
        status: 'in-progress',
        shares: { parties: ['EE', 'PL'] },
      },
      observables: [
        { type: 'ip-dst', value: SHARED_C2, toIds: true, comment: 'C2 seen from the historian' },
        { type: 'domain', value: 'update-grid[.]example', tlp: 'green', comment: 'staging domain' },
        { type: 'url', value: 'hxxps://update-grid[.]example/dl/agent.bin', tlp: 'green' },
        {
          type: 'sha256',
          value: 'a3f5c2e1d4b6978812ab34cd56ef7890a1b2c3d4e5f60718293a4b5c6d7e8f90',
          tlp: 'amber+strict',
          comment: 'encryptor',
        },
        { type: 'vulnerability', value: 'cve-2024-21762', comment: 'the VPN appliance' },
        {
          type: 'email-src',
          value: 'ops[@]grid-support[.]example',
          tlp: 'red',
          comment: 'insider lead: named people only',
        },
      ],
      tasks: [
        { title: 'Image both engineering workstations', dueInHours: -2 },
        { title: 'Collect VPN appliance logs', dueInHours: 10 },
        { title: 'Brief the national CSIRT', done: true },
      ],
      timeline: [
        { hoursAgo: 30, text: 'First beacon to the C2 address (from proxy logs)' },
        { hoursAgo: 9, text: 'Historians encrypted; operator switches to manual control' },
        { hoursAgo: 5, text: 'Operator notifies NKSC; request filed' },
      ],
      notes: ['EE team confirms the same **C2** in its phishing case — see correlations.'],
      bulk: Array.from({ length: 40 }, (_, i) => `ip-dst,198.51.100.${i + 10},scanner seen at the perimeter`),
    },
    {
      by: 'ee.analyst',
      body: {
        title: '[demo] Phishing wave against ministries',
        description: 'Credential phishing against three ministries; lure mimics the e-ID login page.',
        incidentClass: 'rsit:fraud="phishing"',
        severity: 'high',
        tlp: 'green',
        pap: 'green',
      },
      observables: [
        { type: 'ip-dst', value: SHARED_C2, toIds: true, comment: 'phishing kit posts credentials here' },
        { type: 'domain', value: 'eesti-id-login[.]example' },
        { type: 'email-src', value: 'noreply@eesti-id-login.example' },
        { type: 'ip-dst', value: '192.0.2.66', tlp: 'amber', comment: 'hosting, do not block yet' },
      ],
      tasks: [{ title: 'Take down the lure domain', dueInHours: 20 }],
      timeline: [{ hoursAgo: 20, text: 'First reports from ministry staff' }],
    },
    {
      by: 'pl.analyst',
      // The same botnet as the deployed mission's: its post-action report lists this case.
      requestTitle: '[demo] DDoS against public e-services',
      body: {
        title: '[demo] DDoS against payment processors',
        description: 'Layer-7 floods against two payment processors; mitigated upstream.',
        incidentClass: 'rsit:availability="ddos"',
        severity: 'medium',
        tlp: 'clear',
        pap: 'clear',
        status: 'contained',
      },
      observables: [
        { type: 'AS', value: '64500', comment: 'most of the botnet' },
        { type: 'ip-src', value: '203.0.113.200' },
      ],
    },
    {
      by: 'lt.analyst',
      body: {
        title: '[demo] Exercise: wiper in a water utility (Cyber Shield 2026)',
        description: 'Exercise scenario; not a real incident.',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber+strict',
        pap: 'red',
        exercise: true,
      },
      observables: [{ type: 'filename', value: 'wiper_x64.exe' }],
    },
  ];
}

/** Cases with tasks, timelines, notes and indicators, marked `[demo]`; added once. */
export async function loadDemoCases(services: Services): Promise<string> {
  const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
  const existing = await services.cases.list(cli, { q: '[demo]', limit: 1 });
  if (existing.total > 0) return `  cases: ${existing.total} already there, none added`;
  const now = services.clock.now().getTime();
  const as = async (name: string): Promise<Ctx> => {
    const actor = await services.identity.actorByName(name);
    if (!actor) throw new Error(`demo user ${name} is missing`);
    return { actor, requestId: null };
  };
  const requests = await services.requests.list(cli, { limit: 50 });
  let observables = 0;
  const titles: string[] = [];
  for (const demo of demoCases()) {
    const ctx = await as(demo.by);
    const request = requests.items.find((r) => r.title === demo.requestTitle);
    const created = await services.cases.create(ctx, {
      ...demo.body,
      ...(request ? { requestId: request.id } : {}),
    });
    for (const observable of demo.observables) {
      await services.observables.add(ctx, created.id, observable);
      observables++;
    }
    if (demo.bulk) {
      const result = await services.observables.importFile(
        ctx,
        created.id,
        Readable.from([demo.bulk.join('\n')]),
        {
          format: 'csv',
          partial: false,
        },
      );
      observables += result.imported;
    }
    for (const task of demo.tasks ?? []) {
      const added = await services.cases.addTask(ctx, created.id, {
        title: task.title,
        ...(task.dueInHours !== undefined
          ? { dueAt: new Date(now + task.dueInHours * HOUR).toISOString() }
          : {}),
      });
      if (task.done)
        await services.cases.updateTask(ctx, created.id, added.id, { status: 'done' }, undefined);
    }
    for (const entry of demo.timeline ?? []) {
      await services.cases.addTimelineEntry(ctx, created.id, {
        happenedAt: new Date(now - entry.hoursAgo * HOUR).toISOString(),
        text: entry.text,
      });
    }
    for (const body of demo.notes ?? [])
      await services.cases.addNote(await as('ee.analyst'), created.id, { body });
    titles.push(`${created.ownerParty} ${created.tlp.toUpperCase()}`);
  }
  return `  cases: ${titles.length} (${titles.join(', ')}), ${observables} indicators`;
}
