/**
 * The one plain line `npm start` prints beside the JSON logs: where to open the app, and, on a node
 * without users, how to get in. People read this line; machines read the logs.
 */
export function readyLine(options: {
  host: string;
  port: number;
  publicUrl: string | null;
  firstAdminNeeded: boolean;
}): string {
  const url = options.publicUrl ?? `http://${browsableHost(options.host)}:${options.port}`;
  const next = options.firstAdminNeeded
    ? ' — no user yet: run `npx vytis demo` for demo data, or create the first admin with `npx vytis user add admin --party LT --role admin --password-stdin` (type the password, then Ctrl-D)'
    : '';
  return `Vytis is ready: open ${url} in your browser${next}\n`;
}

/** A wildcard address is where the node listens, not where a browser goes. */
function browsableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
