import type { NewRequest } from '@vytis/contracts';
import { json, type TestNode, type TestUser } from './harness.ts';

/** A complete, valid request body (the Act's template); override what a test is about. */
export function requestBody(overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    title: 'Ransomware at the national grid operator',
    affectedEntity: { name: 'Grid operator', sector: 'energy', essential: true },
    incidentClass: 'rsit:malicious-code="infected-system"',
    severity: 'critical',
    tlp: 'amber',
    pap: 'amber',
    mode: 'hybrid',
    location: { country: 'LT', city: 'Vilnius' },
    needs: [{ skill: 'digital-forensics', count: 2, minLevel: 2 }],
    languages: ['en'],
    clearance: 'restricted',
    window: { from: '2026-11-24T06:00:00Z', to: '2026-12-01T18:00:00Z' },
    awareAt: '2026-11-23T09:30:00Z',
    impact: 'Control systems of the transmission grid are encrypted.',
    helpNeeded: 'Forensic triage of the control network, to restore it safely.',
    measuresTaken: 'Affected segments isolated; backups verified.',
    otherHelp: 'None contracted.',
    exercise: false,
    ...overrides,
  };
}

/**
 * The same, dated around the real time: for nodes that run on the system clock (processes, benches),
 * where a mission window in the past is refused.
 */
export function requestBodyAroundNow(overrides: Partial<NewRequest> = {}): NewRequest {
  const at = (fromNowMs: number) => new Date(Date.now() + fromNowMs).toISOString();
  return requestBody({
    window: { from: at(24 * HOUR), to: at(8 * 24 * HOUR) },
    awareAt: at(-2 * HOUR),
    ...overrides,
  });
}

/** Files a draft as `poc` and returns the API's answer (asserting nothing). */
export async function fileRequest(node: TestNode, poc: TestUser, overrides: Partial<NewRequest> = {}) {
  return node.request({
    method: 'POST',
    url: '/api/v1/requests',
    headers: poc.headers,
    payload: requestBody(overrides),
  });
}

/** Files and submits a request; returns the submitted request's JSON. Throws if either step fails. */
export async function submitRequest(node: TestNode, poc: TestUser, overrides: Partial<NewRequest> = {}) {
  const created = await fileRequest(node, poc, overrides);
  if (created.statusCode !== 201) throw new Error(`filing failed: ${created.statusCode} ${created.body}`);
  const submitted = await node.request({
    method: 'POST',
    url: `/api/v1/requests/${json(created).id}/submit`,
    headers: poc.headers,
  });
  if (submitted.statusCode !== 200)
    throw new Error(`submitting failed: ${submitted.statusCode} ${submitted.body}`);
  return json(submitted);
}

export async function vote(
  node: TestNode,
  voter: TestUser,
  requestId: string,
  choice: string,
  comment?: string,
) {
  return node.request({
    method: 'POST',
    url: `/api/v1/requests/${requestId}/votes`,
    headers: voter.headers,
    payload: { vote: choice, ...(comment ? { comment } : {}) },
  });
}

export const HOUR = 3_600_000;
