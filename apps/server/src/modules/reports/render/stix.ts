import type { ReportLayout } from '@vytis/contracts';
import { sdoId, uuidV5, VYTIS_NAMESPACE } from '../../stix/stix-ids.ts';
import { partyIdentity, type StixObject } from '../../stix/stix-mapping.ts';
import { markingRefs, tlpMarkingDefinitions } from '../../stix/stix-markings.ts';
import { renderReportMarkdown } from './markdown.ts';

/**
 * The post-action report as a STIX 2.1 bundle: the node's party (an `identity`), the request (an
 * `incident`), and the report itself (a `report` whose description is the report's Markdown),
 * marked with the report's TLP. Every id is a UUIDv5 of the request, so exporting the same report
 * again gives the same objects, on every node.
 */

/** The `source_name` of the external reference by which a report or incident names its request. */
const VYTIS_REQUEST_SOURCE = 'vytis-request';

/**
 * `report_types` is an open vocabulary (§10.26, report-type-ov) whose values name the report's
 * primary subject by its STIX type: attack-pattern, campaign, identity, indicator, intrusion-set,
 * malware, observed-data, threat-actor, tool, vulnerability, or a broad threat-report. None is an
 * incident; the closest, threat-report, means "a broad characterization of a threat across
 * multiple facets", which a post-action report on one incident response is not. An open vocabulary
 * permits other values, so the report says what it is about the vocabulary's own way: `incident`,
 * the type of the object it refers to.
 */
const REPORT_TYPE = 'incident';

export interface ReportStixInput {
  requestId: string;
  requestTitle: string;
  incidentClass: string;
  /** The node's party code: the report's author. */
  party: string;
  nodeUrl: string;
  createdAt: string;
  modifiedAt: string;
  /** The party's display name and when it was registered; its code and `createdAt` if not given. */
  partyName?: string;
  partyCreatedAt?: string;
}

function incident(layout: ReportLayout, input: ReportStixInput, authorId: string): StixObject {
  return {
    type: 'incident',
    spec_version: '2.1',
    id: sdoId('incident', 'request', input.requestId),
    created_by_ref: authorId,
    created: input.createdAt,
    modified: input.modifiedAt,
    name: input.requestTitle,
    description: `Incident class: ${input.incidentClass}`,
    labels: [input.incidentClass],
    external_references: [{ source_name: VYTIS_REQUEST_SOURCE, external_id: input.requestId }],
    object_marking_refs: markingRefs(layout.tlp, null),
  };
}

function report(
  layout: ReportLayout,
  input: ReportStixInput,
  authorId: string,
  incidentId: string,
): StixObject {
  return {
    type: 'report',
    spec_version: '2.1',
    id: sdoId('report', 'post-action', input.requestId),
    created_by_ref: authorId,
    created: input.createdAt,
    modified: input.modifiedAt,
    name: layout.title,
    description: renderReportMarkdown(layout),
    // Submitted is when the node vouched for it; a draft is published as of when it was laid out.
    published: layout.signature?.submittedAt ?? layout.preparedAt,
    report_types: [REPORT_TYPE],
    object_refs: [incidentId],
    external_references: [
      { source_name: VYTIS_REQUEST_SOURCE, external_id: input.requestId, url: input.nodeUrl },
    ],
    object_marking_refs: markingRefs(layout.tlp, null),
  };
}

export function reportStixBundle(layout: ReportLayout, input: ReportStixInput): object {
  const identity = partyIdentity({
    code: input.party,
    name: input.partyName ?? input.party,
    createdAt: input.partyCreatedAt ?? input.createdAt,
  });
  const theIncident = incident(layout, input, identity.id);
  // The identity is TLP:CLEAR (a party's name is public), so CLEAR's definitions come along too.
  const markings = new Map(
    [...tlpMarkingDefinitions(layout.tlp), ...tlpMarkingDefinitions('clear')].map((m) => [m.id, m]),
  );
  return {
    type: 'bundle',
    // Derived from what it holds, so the same report at the same version is the same bundle.
    id: `bundle--${uuidV5(VYTIS_NAMESPACE, `bundle:post-action:${input.requestId}:${input.modifiedAt}`)}`,
    objects: [
      ...markings.values(),
      identity,
      theIncident,
      report(layout, input, identity.id, theIncident.id),
    ],
  };
}
