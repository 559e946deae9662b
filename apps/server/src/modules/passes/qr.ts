import QRCode from 'qrcode';

/** Light modules around the symbol, as ISO/IEC 18004 asks, so scanners find its edges. */
const QUIET_ZONE = 4;

/**
 * The QR code's modules for a token: rows of booleans, true = dark. Error correction M (15 %),
 * enough for a pass shown on a screen or printed; the encoder picks the smallest version that fits.
 */
export function passQrMatrix(token: string): boolean[][] {
  const { modules } = QRCode.create(token, { errorCorrectionLevel: 'M' });
  return Array.from({ length: modules.size }, (_, row) =>
    Array.from({ length: modules.size }, (_, col) => modules.data[row * modules.size + col] === 1),
  );
}

/**
 * A standalone SVG of the pass's QR code, for the web app: one path of dark modules (each run of
 * dark modules in a row is one rectangle) on a white square with its quiet zone, in module units.
 * No scripts, styles, fonts, links or other external resources; scale it with CSS.
 */
export async function passQrSvg(token: string): Promise<string> {
  const matrix = passQrMatrix(token);
  const side = matrix.length + 2 * QUIET_ZONE;
  let path = '';
  matrix.forEach((row, y) => {
    for (let x = 0; x < row.length; ) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) x++;
      path += `M${start + QUIET_ZONE} ${y + QUIET_ZONE}h${x - start}v1h${start - x}z`;
    }
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges"` +
    ` role="img" aria-label="responder pass QR code">` +
    `<rect width="${side}" height="${side}" fill="#fff"/>` +
    `<path fill="#000" d="${path}"/>` +
    `</svg>`
  );
}
