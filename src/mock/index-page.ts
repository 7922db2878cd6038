import type { Context } from 'hono';
import { IMAGE_PATH } from '../contract/index.js';

/** Where a person or a tool goes from the mock's root: the API, the dashboard, health, the contract. */
export interface IndexLinks {
  version: string;
}

const LINKS = [
  { rel: 'endpoint', path: IMAGE_PATH, text: 'the image endpoint (POST a multipart/form-data upload)' },
  { rel: 'dashboard', path: '/__admin/ui', text: 'the dashboard: requests live, licenses, faults' },
  { rel: 'health', path: '/__admin/health', text: 'health, for readiness checks' },
  { rel: 'openapi', path: '/__admin/openapi.json', text: 'the contract as OpenAPI 3.1' },
  { rel: 'admin', path: '/__admin', text: 'the admin API (licenses, journal, faults, verify)' },
] as const;

/**
 * `GET /`: a small index, HTML for a browser (it asks for text/html) and JSON for anything else,
 * so someone who opens the mock's address finds the dashboard, and a script finds the endpoint.
 * Links are relative: they hold behind a proxy or a mapped port.
 */
export function indexPage(c: Context, options: IndexLinks): Response {
  const links = Object.fromEntries(LINKS.map((link) => [link.rel, link.path]));
  if (!(c.req.header('accept') ?? '').includes('text/html')) {
    return c.json({ name: 'beia mock', version: options.version, links });
  }
  const items = LINKS.map((link) => `    <li><a href="${link.path}"><code>${link.path}</code></a>: ${link.text}</li>`).join('\n');
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>beia mock ${options.version}</title>
  </head>
  <body>
    <h1>beia mock ${options.version}</h1>
    <p>A mock of the BEIA image API, for development and tests. Open <a href="/__admin/ui">the dashboard</a>.</p>
    <ul>
${items}
    </ul>
  </body>
</html>
`;
  return c.html(html, 200, {
    'Content-Security-Policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
  });
}
