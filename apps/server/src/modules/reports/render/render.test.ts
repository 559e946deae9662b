import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ReportLayout, TLPS, type Tlp } from '@vytis/contracts';
import fc from 'fast-check';
import type { Nodes } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { micromark } from 'micromark';
import { bundleProblems, type StixJson } from '../../stix/stix.fixtures.ts';
import { escapeMarkdown, renderReportMarkdown } from './markdown.ts';
import { renderReportPdf } from './pdf.ts';
import { reportStixBundle } from './stix.ts';

const OUT = path.resolve(import.meta.dirname, '../../../../../../test-results/reports');
const run = promisify(execFile);

/** Poppler's tools read the PDFs as a person's viewer would; CI installs them, so missing is a failure. */
async function poppler(tool: 'pdftotext' | 'pdftoppm', args: string[]): Promise<string> {
  try {
    const { stdout } = await run(tool, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`${tool} is missing: these tests need poppler-utils (apt-get install poppler-utils)`);
    throw error;
  }
}

async function writePdf(name: string, layout: ReportLayout, generatedFor?: string): Promise<string> {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${name}.pdf`);
  fs.writeFileSync(file, await renderReportPdf(layout, generatedFor ? { generatedFor } : {}));
  return file;
}

/**
 * The PDF's text, page by page (pages end with a form feed): as laid out on the page, or in the
 * order it was drawn (`-raw`), which keeps narrow spaces that the layout mode merges (`# x`).
 */
async function pagesOf(file: string, mode: '-layout' | '-raw' = '-layout'): Promise<string[]> {
  const text = await poppler('pdftotext', [mode, file, '-']);
  const pages = text.split('\f');
  if (pages.at(-1)?.trim() === '') pages.pop();
  return pages;
}

const linesOf = (page: string) => page.split('\n').filter((line) => line.trim() !== '');
const count = (text: string, label: string) =>
  text.split(label).length - 1 - (label === 'TLP:AMBER' ? text.split('TLP:AMBER+STRICT').length - 1 : 0);

const REQUEST_ID = '0b6b6f0e-6b1a-4f7e-9c55-0a3a1a2b3c4d';
const HOSTILE = [
  '# x',
  '<script>alert(1)</script>',
  '[a](javascript:alert(1))',
  '**b**',
  '<img src=x onerror=alert(1)>',
  '&amp; &#60;',
  '```js',
  '1. item',
  '> quote',
  '- [ ] task',
  '~~strike~~ $x$ _u_',
  '    indented code',
  '===',
];
const LONG_URL = `https://evil.example/${'path/'.repeat(40)}${'x'.repeat(200)}`;
const LONG_TEXT = Array.from(
  { length: 60 },
  (_, i) =>
    `Paragraph ${i + 1}. The team isolated the hosts, rebuilt the domain controllers and rotated keys.`,
).join('\n\n');

function layout(overrides: Partial<ReportLayout> = {}): ReportLayout {
  return {
    title: 'Post-action report: ransomware at the Ministry of Finance',
    subtitle: 'LT rapid-response team in EE, 3–9 May 2026',
    tlp: 'amber',
    status: 'draft',
    requestId: REQUEST_ID,
    preparedAt: '2026-05-10T12:00:00.000Z',
    blocks: [
      { type: 'heading', text: 'The request' },
      {
        type: 'fields',
        rows: [
          { label: 'Requesting party', value: 'EE' },
          { label: 'Incident class', value: 'malicious-code' },
          { label: 'Reference', value: LONG_URL },
        ],
      },
      { type: 'heading', text: 'Indicators' },
      {
        type: 'table',
        columns: ['No.', 'Indicator value', 'Type'],
        rows: Array.from({ length: 300 }, (_, i) => [
          String(i + 1),
          `ioc-${String(i + 1).padStart(4, '0')}.evil.example`,
          'domain',
        ]),
        note: '… and 40 more entries',
      },
      { type: 'text', title: 'What happened', text: `${HOSTILE.join('\n')}\n\n${LONG_TEXT}` },
      { type: 'text', title: 'Unbroken', text: LONG_URL },
      { type: 'text', title: 'Lessons learned', text: '' },
    ],
    signature: null,
    ...overrides,
  };
}

const SIGNATURE = {
  party: 'LT',
  nodeUrl: 'https://vytis.lt.example',
  keyId: 'kq3V9xZ2b7yQ1mN4pR8sT0uW6vY5aC3dE1fG2hJ4kL0',
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  signature:
    'MEUCIQDx3nM2v8pYt0bQ6c1rW9uK4jH7gF5eD2aS1zX0yV3wUwIgT8n5m2l1k0j9i8h7g6f5e4d3c2b1a0Z9Y8X7W6V5U4T',
  submittedAt: '2026-05-11T08:30:00.000Z',
  submittedBy: 'Ona Petraitė',
};

describe('report PDF', () => {
  let draftFile: string;
  let draft: string[];
  before(async () => {
    draftFile = await writePdf('report-draft', layout(), 'Jonas Jonaitis (LT)');
    draft = await pagesOf(draftFile);
  });

  it('runs over pages, each with the TLP label in its header and footer, its page number and the request', () => {
    assert.ok(draft.length >= 5, `${draft.length} pages`);
    draft.forEach((page, i) => {
      const lines = linesOf(page);
      const head = lines.slice(0, 3).join('\n');
      const foot = lines.slice(-3).join('\n');
      assert.equal(count(page, 'TLP:AMBER'), 2, `page ${i + 1}:\n${page}`);
      assert.equal(count(head, 'TLP:AMBER'), 1, `page ${i + 1} header:\n${head}`);
      assert.equal(count(foot, 'TLP:AMBER'), 1, `page ${i + 1} footer:\n${foot}`);
      assert.match(foot, new RegExp(`Page ${i + 1} of ${draft.length}\\b`));
      assert.ok(foot.includes(`Request ${REQUEST_ID}`), foot);
      assert.ok(head.includes('Post-action report: ransomware at the Ministry of Finance'), head);
      assert.ok(head.includes('DRAFT — not submitted'), head);
    });
  });

  it('prints the title, fields, every table cell and the author’s text as literal text', async () => {
    const text = (await pagesOf(draftFile, '-raw')).join('\n');
    for (const expected of [
      'LT rapid-response team in EE, 3–9 May 2026',
      'Generated for Jonas Jonaitis (LT)',
      'This report is a draft',
      'Requesting party',
      'malicious-code',
      '… and 40 more entries',
      'What happened',
      'Paragraph 60. The team isolated the hosts',
      '(not written yet)',
      'Not signed: this is a draft',
      ...HOSTILE.map((line) => line.trim()),
    ])
      assert.ok(text.includes(expected), `missing: ${expected}`);
    for (let i = 1; i <= 300; i++) {
      const cell = `ioc-${String(i).padStart(4, '0')}.evil.example`;
      assert.equal(text.split(cell).length - 1, 1, cell);
    }
  });

  it('repeats the table’s header row on every page the table runs over', () => {
    const withRows = draft.filter((page) => /ioc-\d{4}\.evil\.example/.test(page));
    assert.ok(withRows.length >= 4, `${withRows.length} pages of rows`);
    for (const page of withRows) assert.match(page, /No\.\s+Indicator value\s+Type/);
  });

  it('wraps a very long word inside the page', async () => {
    const html = await poppler('pdftotext', ['-bbox', draftFile, '-']);
    const width = Number(/<page width="([\d.]+)"/.exec(html)?.[1]);
    assert.ok(width > 590 && width < 600, `A4 is 595 pt wide, not ${width}`);
    const words = [...html.matchAll(/<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"/g)];
    assert.ok(words.length > 1000);
    const widest = Math.max(...words.map((w) => Number(w[2])));
    assert.ok(widest <= width - 39, `a word reaches x = ${widest}`);
    // The URL is all there, over several lines.
    const text = draft.join('').replace(/\s+/g, '');
    assert.ok(text.includes(LONG_URL), 'the long URL is printed whole');
  });

  it('lays out a word as long as a field takes (20,000 characters), printed whole', async () => {
    // pdfmake alone needed minutes and a gigabyte for this: the renderer breaks such words first.
    const word = 'Z'.repeat(20_000);
    const file = await writePdf(
      'long-word',
      layout({ blocks: [{ type: 'text', title: 'Pasted', text: word }] }),
    );
    // It runs over pages (their headers and footers between its parts): every Z is there.
    const text = (await pagesOf(file, '-raw')).join('');
    assert.equal(text.match(/Z/g)?.length, 20_000);
  });

  it('lays out words glued by no-break spaces, printed as spaces', async () => {
    // To pdfmake a no-break space joins its neighbours into one word (superlinear to lay out).
    const glued = 'a\u00A0'.repeat(10_000);
    const file = await writePdf(
      'glued-words',
      layout({ blocks: [{ type: 'text', title: 'Pasted', text: glued }] }),
    );
    const text = (await pagesOf(file, '-raw')).join('');
    assert.ok(!text.includes('\u00A0'), 'no no-break space reaches the layout');
    assert.ok((text.match(/\ba\b/g)?.length ?? 0) >= 10_000);
  });

  it('ends a submitted report with the node’s signature, and shows no draft notice', async () => {
    const file = await writePdf('report-submitted', layout({ status: 'submitted', signature: SIGNATURE }));
    const text = (await pagesOf(file)).join('\n');
    for (const expected of [SIGNATURE.sha256, SIGNATURE.keyId, SIGNATURE.nodeUrl, SIGNATURE.submittedBy])
      assert.ok(text.includes(expected), `missing: ${expected}`);
    assert.ok(text.includes('Submitted at') && text.includes(SIGNATURE.submittedAt));
    assert.ok(!text.includes('DRAFT'));
    assert.ok(!text.includes('Not signed'));
  });

  it('renders page 1 as an image', async () => {
    const prefix = path.join(OUT, 'report-draft-page1');
    await poppler('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', draftFile, prefix]);
    const png = fs.readFileSync(`${prefix}.png`);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.length > 10_000, `${png.length} bytes`);
  });

  it('lays out empty blocks, and rows shorter or longer than the columns', async () => {
    const file = await writePdf(
      'report-empty',
      layout({
        title: '',
        subtitle: '',
        blocks: [
          { type: 'heading', text: '' },
          { type: 'fields', rows: [] },
          { type: 'table', columns: [], rows: [] },
          { type: 'table', columns: ['Only a header'], rows: [] },
          { type: 'table', columns: ['A', 'B'], rows: [['short'], ['x', 'y', 'extra cell']] },
          { type: 'text', title: '', text: '' },
        ],
      }),
    );
    const text = (await pagesOf(file, '-raw')).join('\n');
    for (const expected of ['Only a header', '(no entries)', 'short', 'extra cell', '(not written yet)'])
      assert.ok(text.includes(expected), `missing: ${expected}`);
  });

  it('survives characters the font lacks: emoji, CJK, unpaired surrogates, control characters', async () => {
    const odd = 'Smile 😀 中文 \uD800 bell\u0007 tab\tend';
    const file = await writePdf(
      'report-odd',
      layout({ title: odd, blocks: [{ type: 'text', title: odd, text: odd }] }),
    );
    const text = (await pagesOf(file)).join('\n');
    assert.ok(text.includes('Smile'));
    assert.ok(text.includes('tab'));
  });
});

/** The page as pixels: pdftoppm's PPM is a short header and then RGB bytes. */
async function pixels(file: string, name: string) {
  const prefix = path.join(OUT, name);
  await poppler('pdftoppm', ['-r', '72', '-f', '1', '-l', '1', '-singlefile', file, prefix]);
  const data = fs.readFileSync(`${prefix}.ppm`);
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(data.subarray(0, 40).toString('latin1'));
  assert.ok(header, 'a binary PPM');
  const [width, height] = [Number(header[1]), Number(header[2])];
  const offset = header[0].length;
  /** How many pixels in the box (fractions of the page) are within `tolerance` of the colour. */
  return (box: [number, number, number, number], rgb: [number, number, number], tolerance = 40) => {
    let n = 0;
    for (let y = Math.floor(box[1] * height); y < box[3] * height; y++)
      for (let x = Math.floor(box[0] * width); x < box[2] * width; x++) {
        const at = offset + (y * width + x) * 3;
        if (rgb.every((c, i) => Math.abs(data[at + i]! - c) <= tolerance)) n++;
      }
    return n;
  };
}

const TLP_COLOURS: Record<Tlp, [string, [number, number, number]]> = {
  clear: ['TLP:CLEAR', [0xff, 0xff, 0xff]],
  green: ['TLP:GREEN', [0x33, 0xff, 0x00]],
  amber: ['TLP:AMBER', [0xff, 0xc0, 0x00]],
  'amber+strict': ['TLP:AMBER+STRICT', [0xff, 0xc0, 0x00]],
  red: ['TLP:RED', [0xff, 0x2b, 0x2b]],
};

describe('report PDF TLP labels', () => {
  for (const tlp of TLPS) {
    const [label, colour] = TLP_COLOURS[tlp];
    it(`prints ${label} at the top and foot of page 1, in its colour on black`, async () => {
      const file = await writePdf(`report-${tlp.replace('+', '-')}`, layout({ tlp, blocks: [] }));
      const [page] = await pagesOf(file);
      const lines = linesOf(page!);
      const exactly = new RegExp(`${label.replace('+', '\\+')}(?![+A-Z])`);
      assert.match(lines.slice(0, 3).join('\n'), exactly);
      assert.match(lines.slice(-3).join('\n'), exactly);
      const near = await pixels(file, `report-${tlp.replace('+', '-')}-page1`);
      for (const box of [
        [0.7, 0, 1, 0.08],
        [0.7, 0.92, 1, 1],
      ] as [number, number, number, number][]) {
        assert.ok(near(box, [0, 0, 0], 10) > 200, `black behind the label in ${box}`);
        assert.ok(near(box, colour) > 20, `${label}'s colour in ${box}`);
      }
    });
  }
});

/** The text a reader sees in a Markdown tree: line breaks and paragraphs as newlines. */
function textOf(node: Nodes): string {
  if (node.type === 'text') return node.value;
  if (node.type === 'break') return '\n';
  if (!('children' in node)) return '';
  return node.children.map((child) => textOf(child)).join(node.type === 'root' ? '\n\n' : '');
}
function typesOf(node: Nodes, into = new Set<string>()): Set<string> {
  into.add(node.type);
  if ('children' in node) for (const child of node.children) typesOf(child, into);
  return into;
}
const flat = (text: string) => text.replace(/\s+/g, ' ').trim();

/** A GFM table row's cells: `\` escapes the next character, an unescaped `|` ends a cell. */
function cellsOf(row: string): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let i = 1; i < row.length; i++) {
    if (row[i] === '\\') {
      cell += row.slice(i, i + 2);
      i++;
    } else if (row[i] === '|') {
      cells.push(cell.trim());
      cell = '';
    } else cell += row[i];
  }
  assert.equal(cell.trim(), '', `row ends with a pipe: ${row}`);
  return cells;
}

describe('report Markdown', () => {
  it('has the TLP label first and last, and the draft notice', () => {
    const md = renderReportMarkdown(layout());
    const lines = md.trim().split('\n');
    assert.equal(lines[0], '**TLP:AMBER**');
    assert.equal(lines.at(-1), '**TLP:AMBER**');
    assert.ok(md.includes('DRAFT — not submitted'));
    assert.ok(md.includes('Not signed: this is a draft'));
    const signed = renderReportMarkdown(
      layout({ tlp: 'amber+strict', status: 'submitted', signature: SIGNATURE }),
    );
    assert.equal(signed.trim().split('\n')[0], '**TLP:AMBER+STRICT**');
    assert.ok(!signed.includes('DRAFT'));
    const html = micromark(signed);
    for (const value of [SIGNATURE.sha256, SIGNATURE.keyId, SIGNATURE.signature])
      assert.ok(html.includes(value));
  });

  it('shows hostile text literally: no raw HTML, no link, no heading of the author’s', () => {
    const hostile = HOSTILE.join('\n');
    const md = renderReportMarkdown(
      layout({
        title: hostile,
        subtitle: hostile,
        blocks: [
          { type: 'heading', text: hostile },
          { type: 'fields', rows: [{ label: hostile, value: hostile }] },
          { type: 'table', columns: [hostile], rows: [[hostile]], note: hostile },
          { type: 'text', title: hostile, text: hostile },
        ],
      }),
    );
    // Raw HTML and dangerous links allowed, so that only the escaping stands between them and the page.
    const html = micromark(md, { allowDangerousHtml: true, allowDangerousProtocol: true });
    assert.ok(!/<(script|img|a|code|pre|ol|ul|li|del|input)\b/i.test(html), html);
    assert.equal(html.match(/<blockquote>/g)?.length, 1, 'the draft notice');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('[a](javascript:alert(1))'));
    assert.ok(html.includes('**b**'));
    assert.ok(html.includes('&amp;amp; &amp;#60;'), 'an entity stays as typed');
    assert.equal(html.match(/<h1>/g)?.length, 1);
    assert.equal(html.match(/<h2>/g)?.length, 2, 'the heading block and the signature');
    assert.equal(html.match(/<h3>/g)?.length, 1);
    const text = flat(
      textOf(fromMarkdown(renderReportMarkdown(layout({ blocks: layout().blocks.slice(4, 5) })))),
    );
    assert.ok(text.includes(flat(hostile)), text);
  });

  it('keeps every table row to the header’s columns, whatever the cells hold', () => {
    const cells = ['a | b', 'line\nbreak', 'back\\|slash', '\\', '', '|||', 'end\\'];
    const md = renderReportMarkdown(
      layout({
        blocks: [
          {
            type: 'table',
            columns: ['One', 'Two | three', 'Four'],
            rows: [cells.slice(0, 3), cells.slice(3, 6), [cells[6]!]],
          },
        ],
      }),
    );
    const rows = md.split('\n').filter((line) => line.startsWith('|') && !line.includes('Field'));
    assert.equal(rows.length, 5, md);
    for (const row of rows) assert.equal(cellsOf(row).length, 3, row);
    const read = rows
      .slice(2)
      .flatMap(cellsOf)
      .map((cell) => flat(textOf(fromMarkdown(cell))));
    assert.deepEqual(read, [...cells.map(flat), '', '']);
    assert.deepEqual(
      cellsOf(rows[0]!).map((cell) => textOf(fromMarkdown(cell))),
      ['One', 'Two | three', 'Four'],
    );
  });

  it('escapes any text so that it reads back as itself, in paragraphs and line breaks', () => {
    const awkward = [...'\\`*_{}[]<>()#+-.!|~&=$:"\'/ \n\t\r1aé中😀', '\u00a0', '&amp;', '    ', '1.', '---'];
    for (const unit of [fc.constantFrom(...awkward), 'grapheme'] as const)
      fc.assert(
        fc.property(fc.string({ unit, maxLength: 80 }), (raw) => {
          const text = raw.replaceAll('\0', '');
          const tree = fromMarkdown(escapeMarkdown(text));
          const types = [...typesOf(tree)].filter((t) => !['root', 'paragraph', 'text', 'break'].includes(t));
          assert.deepEqual(types, [], JSON.stringify(text));
          assert.equal(flat(textOf(tree)), flat(text), JSON.stringify(text));
        }),
      );
  });

  it('lets no string of a layout make markup of its own', () => {
    const any = fc.string({ unit: fc.constantFrom(...'\\`*_[]<>()#+-.!|~&=$ \n1a'), maxLength: 30 });
    fc.assert(
      fc.property(any, any, any, any, (title, subtitle, cell, text) => {
        const md = renderReportMarkdown(
          layout({
            title,
            subtitle,
            blocks: [
              { type: 'heading', text: title },
              { type: 'fields', rows: [{ label: cell, value: text }] },
              { type: 'table', columns: [cell], rows: [[text]], note: subtitle },
              { type: 'text', title: cell, text },
            ],
          }),
        );
        const allowed = ['root', 'paragraph', 'text', 'break', 'heading', 'emphasis', 'strong', 'blockquote'];
        const types = [...typesOf(fromMarkdown(md))].filter((t) => !allowed.includes(t));
        assert.deepEqual(types, [], md);
      }),
    );
  });
});

describe('report STIX bundle', () => {
  const input = {
    requestId: REQUEST_ID,
    requestTitle: 'Ransomware at the Ministry of Finance',
    incidentClass: 'malicious-code',
    party: 'LT',
    nodeUrl: 'https://vytis.lt.example',
    createdAt: '2026-05-03T09:00:00.000Z',
    modifiedAt: '2026-05-11T08:30:00.000Z',
  };

  it('is a valid STIX 2.1 bundle of the party, the incident and the report, marked with its TLP', () => {
    const signed = layout({ status: 'submitted', signature: SIGNATURE });
    const bundle = reportStixBundle(signed, input) as StixJson;
    assert.deepEqual(bundleProblems(bundle), []);
    const objects = bundle.objects ?? [];
    const only = (type: string) => {
      const found = objects.filter((o) => o.type === type);
      assert.equal(found.length, 1, type);
      return found[0]!;
    };
    const identity = only('identity');
    const incident = only('incident');
    const report = only('report');
    assert.equal(identity.identity_class, 'organization');
    assert.equal(incident.name, input.requestTitle);
    assert.match(String(incident.description), /malicious-code/);
    assert.equal(report.name, signed.title);
    assert.equal(report.description, renderReportMarkdown(signed));
    assert.equal(report.published, SIGNATURE.submittedAt);
    assert.deepEqual(report.object_refs, [incident.id]);
    assert.equal(report.created_by_ref, identity.id);
    assert.deepEqual(report.external_references, [
      { source_name: 'vytis-request', external_id: REQUEST_ID, url: input.nodeUrl },
    ]);
    // TLP 2.0 AMBER, as the OASIS TLP 2.0 extension publishes it.
    const amber = 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421';
    assert.ok((report.object_marking_refs as string[]).includes(amber));
    assert.ok((incident.object_marking_refs as string[]).includes(amber));
    const marking = objects.find((o) => o.id === amber);
    assert.deepEqual(marking?.extensions, {
      'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': {
        extension_type: 'property-extension',
        tlp_2_0: 'amber',
      },
    });
  });

  it('gives the same ids every time, and other ids for another request', () => {
    const draft = layout();
    const first = reportStixBundle(draft, input) as StixJson;
    assert.deepEqual(reportStixBundle(draft, input), first);
    const ids = (first.objects ?? []).map((o) => o.id);
    for (const id of ids.filter((id) => /^(report|incident)--/.test(id)))
      assert.match(id, /--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv5');
    const other = reportStixBundle(draft, {
      ...input,
      requestId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
    }) as StixJson;
    const otherIds = new Set((other.objects ?? []).map((o) => o.id));
    for (const id of ids.filter((id) => /^(report|incident)--/.test(id))) assert.ok(!otherIds.has(id), id);
    assert.equal((first.objects ?? []).find((o) => o.type === 'report')?.published, draft.preparedAt);
  });
});
