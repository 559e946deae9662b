import { createRequire } from 'node:module';
import path from 'node:path';
import type { ReportBlock, ReportLayout, ReportSignature, Tlp } from '@vytis/contracts';
import { printedTime } from '../printed-time.ts';
import { signatureRows } from './signature-rows.ts';

/**
 * A report as a printable A4 PDF (pdfmake over pdfkit: no browser, no network). Every string of
 * the layout is handed to pdfmake as a plain text node, so nothing in it is ever read as markup.
 */

/** TLP 2.0 (FIRST): the label's own colour on black, right-aligned, 12 pt or more for low vision. */
const TLP_LABELS: Record<Tlp, { text: string; color: string }> = {
  clear: { text: 'TLP:CLEAR', color: '#FFFFFF' },
  green: { text: 'TLP:GREEN', color: '#33FF00' },
  amber: { text: 'TLP:AMBER', color: '#FFC000' },
  'amber+strict': { text: 'TLP:AMBER+STRICT', color: '#FFC000' },
  red: { text: 'TLP:RED', color: '#FF2B2B' },
};

const DRAFT_NOTICE = 'DRAFT — not submitted';
const GREY = '#555555';
const DRAFT_RED = '#B00020';
/** A4 is 595.28 pt wide; 40 pt margins leave this much for the body. */
const MARGIN = 40;
const HEADER_TITLE_MAX = 80;

/**
 * The part of pdfmake 0.3's server API and document definition this file uses. @types/pdfmake is
 * not imported: its `/// <reference lib="dom" />` would put the DOM's types (its `fetch`, `Response`,
 * `BodyInit`) into the whole server's program.
 */
type Content = string | Content[] | { [property: string]: unknown };
type DocumentDefinition = { [property: string]: unknown; content: Content[] };
interface PdfMake {
  setFonts(fonts: Record<string, Record<'normal' | 'bold' | 'italics' | 'bolditalics', string>>): void;
  setUrlAccessPolicy(allowed: (url: string) => boolean): void;
  setLocalAccessPolicy(allowed: (file: string) => boolean): void;
  createPdf(definition: DocumentDefinition): { getBuffer(): Promise<Buffer> };
}
interface PageNode {
  headlineLevel?: number;
}
interface PageQueries {
  getFollowingNodesOnPage(): unknown[];
}

let pdfmake: PdfMake | undefined;

/**
 * pdfmake is one shared instance: its fonts and access policies are set once. The Roboto files are
 * found through the installed package (the server also runs bundled from dist/, where no relative
 * path to node_modules holds). No URL is ever fetched, and of the disk only the fonts are read.
 */
function loadPdfmake(): PdfMake {
  if (pdfmake) return pdfmake;
  const require = createRequire(import.meta.url);
  const loaded = require('pdfmake') as PdfMake;
  const fontDir = path.join(path.dirname(require.resolve('pdfmake/package.json')), 'fonts', 'Roboto');
  const font = (file: string) => path.join(fontDir, file);
  loaded.setFonts({
    Roboto: {
      normal: font('Roboto-Regular.ttf'),
      bold: font('Roboto-Medium.ttf'),
      italics: font('Roboto-Italic.ttf'),
      bolditalics: font('Roboto-MediumItalic.ttf'),
    },
  });
  loaded.setUrlAccessPolicy(() => false);
  loaded.setLocalAccessPolicy((file) => path.resolve(file).startsWith(fontDir + path.sep));
  pdfmake = loaded;
  return loaded;
}

/**
 * Text as pdfkit can draw it: unpaired surrogates become U+FFFD, tabs become spaces (Roboto has no
 * tab glyph), other control characters go, and every line ending becomes `\n`. Characters Roboto
 * lacks (emoji, CJK) stay: they print as missing glyphs, which is honest and never throws.
 */
function printable(text: string): string {
  return text
    .toWellFormed()
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, '    ')
    .replace(/[^\P{Cc}\n]/gu, '')
    .replace(NO_BREAK_SPACES, ' ')
    .replace(LONG_WORD, '$&\u200B');
}

/**
 * pdfmake splits a word too long for its line in time and memory that grow faster than the square
 * of its length (a 20,000-character word took 88 s and 1 GB): so no word reaches it longer than
 * this, broken by a zero-width space (a line-break opportunity that prints nothing). Hashes and
 * signatures (64 and 86 characters) stay whole.
 */
const LONG_WORD = /[^ \n\u200B]{120}(?=[^ \n\u200B])/gu;
/** Spaces that forbid a break there: to pdfmake they glue words into one; printed as plain spaces. */
const NO_BREAK_SPACES = /[\u00A0\u2007\u202F\u2060\uFEFF]/g;

function tlpLabel(tlp: Tlp): Content {
  const label = TLP_LABELS[tlp];
  // A one-cell table, so the black background surrounds the label with padding (a text
  // background would only cover the glyphs' line box).
  return {
    table: { body: [[{ text: label.text, color: label.color, fillColor: '#000000', bold: true }]] },
    layout: {
      hLineWidth: () => 0,
      vLineWidth: () => 0,
      paddingLeft: () => 6,
      paddingRight: () => 6,
      paddingTop: () => 2,
      paddingBottom: () => 2,
    },
    fontSize: 12,
  };
}

function shortTitle(title: string): string {
  // By code points, so a cut never leaves half of a surrogate pair.
  const chars = [...printable(title).replace(/\s+/g, ' ').trim()];
  return chars.length > HEADER_TITLE_MAX
    ? `${chars.slice(0, HEADER_TITLE_MAX - 1).join('')}…`
    : chars.join('');
}

function header(layout: ReportLayout): Content {
  const left: Content[] = [{ text: shortTitle(layout.title), color: GREY, fontSize: 8 }];
  if (layout.status === 'draft')
    left.push({ text: DRAFT_NOTICE, color: DRAFT_RED, bold: true, fontSize: 10 });
  return {
    columns: [
      { width: '*', stack: left },
      { width: 'auto', stack: [tlpLabel(layout.tlp)] },
    ],
    columnGap: 10,
    margin: [MARGIN, 20, MARGIN, 0],
  };
}

function footer(
  layout: ReportLayout,
  generatedFor: string | undefined,
  page: number,
  pages: number,
): Content {
  const left: Content[] = [{ text: `Request ${printable(layout.requestId)}` }];
  if (generatedFor) left.push({ text: `Generated for ${shortTitle(generatedFor)}` });
  return {
    columns: [
      { width: '*', stack: left, fontSize: 8, color: GREY },
      { width: 'auto', text: `Page ${page} of ${pages}`, fontSize: 9, margin: [0, 3, 0, 0] },
      {
        width: '*',
        stack: [
          {
            columns: [
              { width: '*', text: '' },
              { width: 'auto', stack: [tlpLabel(layout.tlp)] },
            ],
          },
        ],
      },
    ],
    columnGap: 10,
    margin: [MARGIN, 14, MARGIN, 0],
  };
}

/** Rows that all have as many cells as the widest one, as pdfmake requires (a short row would crash it). */
function squared(columns: string[], rows: string[][]): { head: string[]; body: string[][] } {
  const width = Math.max(columns.length, ...rows.map((row) => row.length));
  const pad = (row: string[]) => [...row, ...Array<string>(width - row.length).fill('')];
  return { head: pad(columns), body: rows.map(pad) };
}

/**
 * Fixed widths (percentages of the body) in proportion to how long each column's text runs: a
 * fixed width is what lets pdfmake split a very long word (a URL, a hash) inside its cell, where an
 * auto or star width would grow to the word and push the table off the page.
 */
function columnWidths(head: string[], body: string[][]): string[] {
  const weights = head.map((name, i) => {
    const lengths = [name, ...body.map((row) => row[i] ?? '')].map((text) => text.length);
    const average = lengths.reduce((sum, n) => sum + n, 0) / lengths.length;
    return Math.min(40, Math.max(4, average));
  });
  const total = weights.reduce((sum, w) => sum + w, 0);
  return weights.map((w) => `${Math.floor((w / total) * 10000) / 100}%`);
}

const gridLayout = {
  hLineWidth: (i: number, node: { table: { body: unknown[] } }) =>
    i === 0 || i === node.table.body.length ? 0.8 : 0.4,
  vLineWidth: () => 0,
  hLineColor: () => '#999999',
  paddingTop: () => 3,
  paddingBottom: () => 3,
};

function tableBlock(columns: string[], rows: string[][], note: string | undefined): Content[] {
  const { head, body } = squared(columns, rows);
  const out: Content[] = [];
  if (head.length > 0) {
    const headCells: Content[] = head.map((text) => ({
      text: printable(text),
      bold: true,
      fillColor: '#EEEEEE',
    }));
    out.push({
      table: {
        // The header row is repeated at the top of every page the table runs over.
        headerRows: 1,
        widths: columnWidths(head, body),
        body: [headCells, ...body.map((row) => row.map((text) => printable(text)))],
      },
      layout: gridLayout,
      fontSize: 9,
    });
  }
  if (body.length === 0) out.push({ text: '(no entries)', color: GREY, italics: true });
  if (note) out.push({ text: printable(note), color: GREY, italics: true, margin: [0, 3, 0, 0] });
  return [{ stack: out, margin: [0, 4, 0, 10] }];
}

function fieldsTable(rows: { label: string; value: string }[]): Content {
  return {
    table: {
      // Wide enough that a SHA-256 in hex stays on one line.
      widths: ['25%', '75%'],
      body: rows.map((row) => [
        { text: printable(row.label), bold: true, color: GREY },
        { text: printable(row.value) },
      ]),
    },
    layout: gridLayout,
    margin: [0, 4, 0, 10],
  };
}

function textBlock(title: string, text: string): Content[] {
  const body = printable(text);
  return [
    { text: printable(title), style: 'textTitle', headlineLevel: 2 },
    body.trim() === ''
      ? { text: '(not written yet)', color: '#888888', italics: true, margin: [0, 0, 0, 10] }
      : { text: body, preserveLeadingSpaces: true, margin: [0, 0, 0, 10] },
  ];
}

function block(b: ReportBlock): Content[] {
  switch (b.type) {
    case 'heading':
      return [{ text: printable(b.text), style: 'heading', headlineLevel: 1 }];
    case 'fields':
      // pdfmake cannot lay out a table without rows.
      return b.rows.length > 0 ? [fieldsTable(b.rows)] : [];
    case 'table':
      return tableBlock(b.columns, b.rows, b.note);
    case 'text':
      return textBlock(b.title, b.text);
  }
}

function signatureBlock(signature: ReportSignature | null): Content[] {
  const heading: Content = { text: 'Signature', style: 'heading', headlineLevel: 1 };
  if (!signature) return [heading, { text: 'Not signed: this is a draft', color: DRAFT_RED, bold: true }];
  return [heading, fieldsTable(signatureRows(signature))];
}

function titleBlock(layout: ReportLayout, generatedFor: string | undefined): Content[] {
  const out: Content[] = [{ text: printable(layout.title), style: 'title' }];
  if (layout.subtitle) out.push({ text: printable(layout.subtitle), style: 'subtitle' });
  if (layout.status === 'draft') {
    out.push({
      table: {
        widths: ['*'],
        body: [
          [
            {
              stack: [
                { text: DRAFT_NOTICE, bold: true, fontSize: 13 },
                { text: 'This report is a draft: it has not been submitted and is not signed.', fontSize: 9 },
              ],
              color: DRAFT_RED,
              fillColor: '#FDECEE',
            },
          ],
        ],
      },
      layout: {
        hLineColor: () => DRAFT_RED,
        vLineColor: () => DRAFT_RED,
        paddingTop: () => 4,
        paddingBottom: () => 4,
      },
      margin: [0, 4, 0, 8],
    });
  }
  const meta = [
    `Request ${printable(layout.requestId)}`,
    `Prepared ${printable(printedTime(layout.preparedAt))}`,
  ];
  if (generatedFor) meta.push(`Generated for ${printable(generatedFor)}`);
  out.push({ text: meta.join('   ·   '), fontSize: 8, color: GREY, margin: [0, 0, 0, 12] });
  return out;
}

function documentDefinition(layout: ReportLayout, generatedFor: string | undefined): DocumentDefinition {
  return {
    pageSize: 'A4',
    pageMargins: [MARGIN, 64, MARGIN, 64],
    info: { title: printable(layout.title), subject: printable(layout.subtitle), creator: 'Vytis' },
    header: () => header(layout),
    footer: (page: number, pages: number) => footer(layout, generatedFor, page, pages),
    content: [
      ...titleBlock(layout, generatedFor),
      ...layout.blocks.flatMap(block),
      ...signatureBlock(layout.signature),
    ],
    // A heading or a text's title is not left alone at the foot of a page: it moves to the next.
    pageBreakBefore: (node: PageNode, context: PageQueries) =>
      node.headlineLevel !== undefined && context.getFollowingNodesOnPage().length === 0,
    defaultStyle: { font: 'Roboto', fontSize: 10, lineHeight: 1.15 },
    styles: {
      title: { fontSize: 18, bold: true, margin: [0, 0, 0, 2] },
      subtitle: { fontSize: 12, color: GREY, margin: [0, 0, 0, 6] },
      heading: { fontSize: 14, bold: true, margin: [0, 10, 0, 4] },
      textTitle: { fontSize: 11, bold: true, margin: [0, 6, 0, 3] },
    },
  };
}

export async function renderReportPdf(
  layout: ReportLayout,
  options: { generatedFor?: string } = {},
): Promise<Buffer> {
  return loadPdfmake().createPdf(documentDefinition(layout, options.generatedFor)).getBuffer();
}
