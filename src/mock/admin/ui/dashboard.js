// The beia mock's dashboard: plain script, no framework, no build step. Every value that came from
// a request (license ids, part names, field values, filenames, headers) reaches the page through
// textContent or an attribute set by setAttribute, never as markup; the page's Content-Security-
// Policy runs no inline script either.
'use strict';

const API = '/__admin';
const TOKEN_KEY = 'beia-mock-admin-token';
const POLL_MS = 1000;
const JOURNAL_ROWS = 50;

const $ = (id) => document.getElementById(id);

const view = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? '',
  live: true,
  /** journal seq -> its row */
  rows: new Map(),
  /** journal seq -> entry */
  entries: new Map(),
  /** license id -> its row */
  licenseRows: new Map(),
  /** sha256 -> kinds of image the mock kept */
  images: {},
  /** `${sha}/${kind}/${size}` -> Promise<object URL | null> */
  blobs: new Map(),
  polling: undefined,
  firstLoad: true,
  licenseIds: [],
  nextId: 0,
  /** The view shown: requests, licenses or faults (kept in the address's #tab=). */
  tab: 'requests',
  /** The requests shown: { licenseId?, status? }, applied by the mock (kept in the address too). */
  filter: {},
};

const TABS = ['requests', 'licenses', 'faults'];

class NeedsToken extends Error {}

/** The mock said no: its status and its message. */
class Refused extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------- the admin API

async function api(method, path, body) {
  const headers = {};
  if (view.token) headers.Authorization = `Bearer ${view.token}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API + path, init);
  } catch {
    throw new Error('The mock cannot be reached. Is it still running?');
  }
  if (res.status === 401) {
    askForToken();
    throw new NeedsToken('The admin API needs its token.');
  }
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  const data = isJson ? await res.json() : undefined;
  if (!res.ok) throw new Refused(data?.error?.message ?? `The mock answered ${res.status}.`, res.status);
  return data;
}

function say(text, isError = false) {
  const message = $('message');
  message.textContent = text;
  message.classList.toggle('error', isError);
}

function failed(error) {
  if (error instanceof NeedsToken) return;
  say(error.message, true);
}

function askForToken() {
  const form = $('token-form');
  if (!form.hidden) return;
  form.hidden = false;
  $('token-input').focus();
}

// ---------------------------------------------------------------- small builders

function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function bytes(n) {
  if (n === undefined || n === null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function clock(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? '');
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function duration(seconds) {
  if (typeof seconds !== 'number') return '…';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function statusClass(status) {
  if (status === 444 || status === 499) return 'lost';
  return `s${String(status).charAt(0)}`;
}

function statusBadge(entry) {
  const badge = el('span', { className: `badge ${statusClass(entry.status)}`, text: entry.status });
  if (entry.status === 444) badge.title = 'closed without an answer';
  if (entry.status === 499) badge.title = 'the client left first';
  return badge;
}

/** Whether the answer carried this image: a 200 (or one charged, then lost), and the cropped one only in a multipart answer. */
function answered(entry, kind) {
  if (entry.status !== 200 && !entry.charged) return false;
  if (kind === 'result') return true;
  return (entry.responseHeaders?.['content-type'] ?? '').startsWith('multipart/');
}

function imageSha(entry) {
  return (entry.parts ?? []).find((part) => part.name === 'image' && part.kind === 'file')?.sha256;
}

function uniqueId(prefix) {
  view.nextId += 1;
  return `${prefix}-${view.nextId}`;
}

// ---------------------------------------------------------------- images

/** An object URL for a kept image, fetched with the token (an <img src> could not send it). */
function imageUrl(sha, kind, size) {
  const key = `${sha}/${kind}/${size}`;
  let url = view.blobs.get(key);
  if (!url) {
    const headers = view.token ? { Authorization: `Bearer ${view.token}` } : {};
    url = fetch(`${API}/ui/images/${sha}/${kind}/${size}`, { headers })
      .then((res) => (res.status === 200 ? res.blob() : null))
      .then((blob) => (blob && blob.type === 'image/jpeg' ? URL.createObjectURL(blob) : null))
      .catch(() => null)
      .then((made) => {
        // Nothing to show now (not kept, not an image, a network blip): asked again next time.
        if (!made) view.blobs.delete(key);
        return made;
      });
    view.blobs.set(key, url);
  }
  return url;
}

/** Lets go of the pictures of rows that are gone, so a page left open for days holds only what it shows. */
function releaseImages(shas) {
  for (const [key, url] of view.blobs) {
    if (shas.has(key.split('/')[0])) continue;
    view.blobs.delete(key);
    void url.then((made) => made && URL.revokeObjectURL(made));
  }
}

function placeholder(text, title) {
  return el('span', { className: 'placeholder', text, attrs: { title, role: 'img', 'aria-label': title } });
}

/** A picture of the entry's upload or result, or a placeholder that says why there is none. */
function picture(entry, kind, size, label) {
  const sha = imageSha(entry);
  const kept = sha ? (view.images[sha] ?? []) : [];
  if (!sha) return placeholder('no image', `${label}: the request sent no image file`);
  if (kind !== 'upload' && !answered(entry, kind)) return placeholder('none', `${label}: none was sent back`);
  if (!kept.includes(kind)) {
    const why = kind === 'upload' ? 'not kept (older, too large, or served by another replica)' : 'none (the request was not processed)';
    return placeholder(kind === 'upload' ? 'not kept' : 'none', `${label}: ${why}`);
  }
  const holder = el('span', { className: size === 'thumb' ? 'thumb-holder' : 'figure-holder' });
  const img = el('img', {
    className: size === 'thumb' ? 'thumb' : '',
    attrs: { alt: label, decoding: 'async', ...(size === 'thumb' ? { width: 64, height: 48 } : {}) },
  });
  holder.append(size === 'thumb' ? placeholder('…', `${label}: loading`) : img);
  void imageUrl(sha, kind, size).then((url) => {
    if (!url) {
      holder.replaceChildren(placeholder('not an image', `${label}: the bytes are not an image the mock can show`));
      return;
    }
    img.src = url;
    img.dataset.loaded = 'true';
    holder.replaceChildren(img);
  });
  return holder;
}

// ---------------------------------------------------------------- requests

function partsText(entry) {
  return (entry.parts ?? []).map((part) => `${part.name} ${bytes(part.size)}`).join(' · ');
}

// Where the images came from: a recording of the live API (replayed), the live API itself kept as
// one (recorded), or the mock's own render (cache hit or miss).
function cacheText(entry) {
  if (entry.replayed) return 'replayed';
  if (entry.recorded) return 'recorded';
  return entry.cacheHit === undefined ? undefined : entry.cacheHit ? 'hit' : 'miss';
}

function requestRow(entry) {
  const row = el('tr', { attrs: { 'data-seq': entry.seq } });
  const details = el('button', { text: 'Details', attrs: { type: 'button', 'aria-label': `Details of request ${entry.seq}` } });
  details.addEventListener('click', () => openDetails(entry.seq, details));
  const cache = cacheText(entry) ?? '—';
  row.append(
    el('td', { text: clock(entry.time), attrs: { title: entry.time } }),
    el('td', {}, statusBadge(entry)),
    el('td', { className: 'mono', text: entry.code ?? '' }),
    el('td', { className: 'cell-clip', text: entry.licenseId ?? '', attrs: { title: entry.licenseId } }),
    el('td', { className: 'mono', text: entry.remoteAddress ?? '' }),
    el('td', { className: 'num', text: `${entry.durationMs} ms` }),
    el('td', { className: 'parts', text: partsText(entry) }),
    el('td', { text: cache }),
    el('td', {}, picture(entry, 'upload', 'thumb', `Upload of request ${entry.seq}`)),
    el('td', {}, picture(entry, 'result', 'thumb', `Result of request ${entry.seq}`)),
    el('td', {}, details),
  );
  return row;
}

function renderRequests(journal) {
  const body = $('requests').tBodies[0];
  const newestFirst = [...journal].reverse();
  const keep = new Set(newestFirst.map((entry) => entry.seq));
  for (const [seq, row] of view.rows) {
    if (!keep.has(seq)) {
      row.remove();
      view.rows.delete(seq);
      view.entries.delete(seq);
    }
  }
  let previous = null;
  for (const entry of newestFirst) {
    let row = view.rows.get(entry.seq);
    if (!row) {
      row = requestRow(entry);
      if (!view.firstLoad) row.classList.add('fresh');
      view.rows.set(entry.seq, row);
    }
    view.entries.set(entry.seq, entry);
    // Newest on top: each row goes right after the one before it, only when it is not there yet.
    const wanted = previous ? previous.nextSibling : body.firstChild;
    if (wanted !== row) body.insertBefore(row, wanted);
    previous = row;
  }
  releaseImages(new Set(journal.map(imageSha).filter(Boolean)));
  $('requests-empty').hidden = journal.length > 0;
  $('requests-count').textContent = journal.length ? `the newest ${journal.length}` : '';
}

// ---------------------------------------------------------------- details

function facts(pairs) {
  const list = el('dl', { className: 'facts' });
  for (const [name, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    list.append(el('div', {}, el('dt', { text: name }), el('dd', { text: value })));
  }
  return list;
}

function simpleTable(caption, headings, rows) {
  const table = el('table');
  table.append(el('caption', { className: 'visually-hidden', text: caption }));
  const head = el('tr');
  for (const heading of headings) head.append(el('th', { text: heading, attrs: { scope: 'col' } }));
  table.append(el('thead', {}, head));
  const body = el('tbody');
  for (const cells of rows) {
    const row = el('tr');
    for (const cell of cells) row.append(el('td', { className: 'mono', text: cell ?? '' }));
    body.append(row);
  }
  table.append(body);
  return el('div', { className: 'table-wrap' }, table);
}

function openDetails(seq, opener) {
  const entry = view.entries.get(seq);
  if (!entry) return;
  $('details-title').textContent = `Request ${entry.seq} · ${entry.method} ${entry.path} · ${entry.status}`;
  const body = $('details-body');
  body.replaceChildren(
    facts([
      ['Time', entry.time],
      ['Status', entry.status],
      ['Error code', entry.code],
      ['License', entry.licenseId],
      ['Client', entry.remoteAddress],
      ['Duration', `${entry.durationMs} ms`],
      ['Credits remaining', entry.creditsRemaining],
      ['Cache', cacheText(entry)],
      [
        'Recording',
        entry.replayed
          ? 'replayed: the images are a recording of the live API'
          : entry.recorded
            ? 'recorded: the live API answered, and its 200 was kept'
            : undefined,
      ],
      ['Scenario', entry.scenario],
      ['Fault', entry.fault],
      ['Charged, answer lost', entry.answerLost ? 'yes: a credit was spent and the answer never arrived' : undefined],
      ['Retry too early', entry.retryTooEarly ? `by ${entry.earlyByMs} ms` : undefined],
    ]),
    el('h3', { text: 'Request parts' }),
    (entry.parts ?? []).length
      ? simpleTable(
          'The parts of the request',
          ['Name', 'Kind', 'Size', 'Content type', 'Filename', 'Value', 'sha256'],
          entry.parts.map((part) => [part.name, part.kind, bytes(part.size), part.contentType, part.filename, part.value, part.sha256]),
        )
      : el('p', { className: 'muted', text: 'No form parts were read (the request was answered before its body, or had none).' }),
    el('p', { className: 'muted', text: 'The API key is never recorded.' }),
    el('h3', { text: 'Answer headers' }),
    entry.responseHeaders
      ? simpleTable(
          'The headers of the answer',
          ['Header', 'Value'],
          Object.entries(entry.responseHeaders).map(([name, value]) => [name, value]),
        )
      : el('p', { className: 'muted', text: 'Not recorded.' }),
    el('h3', { text: 'Images' }),
    el(
      'div',
      { className: 'figures' },
      ...[
        ['upload', 'Upload'],
        ['result', 'Result'],
        ['cropped', 'Cropped image'],
      ].map(([kind, label]) => el('figure', {}, picture(entry, kind, 'large', `${label} of request ${entry.seq}`), el('figcaption', { text: label }))),
    ),
  );
  const dialog = $('details');
  dialog.returnFocusTo = opener;
  dialog.showModal();
  $('details-close').focus();
}

// ---------------------------------------------------------------- licenses

function setControl(shown, labelText, buttonText, value, min, onSet) {
  const id = uniqueId('set');
  const input = el('input', { className: 'short', attrs: { id, type: 'number', min, value, required: true, 'aria-label': labelText } });
  const label = el('label', { className: 'set-label', text: shown, attrs: { for: id } });
  const button = el('button', { text: 'Set', attrs: { type: 'submit', 'aria-label': buttonText } });
  const form = el('form', { className: 'set-control' }, label, input, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSet(Number(input.value), input);
  });
  return form;
}

function licenseRow(license) {
  const row = el('tr');
  const cells = {
    id: el('th', { className: 'cell-clip', attrs: { scope: 'row' } }),
    credits: el('td', { className: 'num' }),
    slots: el('td', { className: 'num' }),
    allowed: el('td', { className: 'mono' }),
  };
  const id = license.licenseId;
  const credits = setControl('credits', `Credits of license ${id}`, `Set license ${id}'s credits`, license.credits, 0, (value, input) =>
    patchLicense(id, { credits: value }, `License ${id} has ${value} credits now.`, input),
  );
  const limit = setControl('slot limit', `Slot limit of license ${id}`, `Set license ${id}'s slot limit`, license.maxConcurrent, 1, (value, input) =>
    patchLicense(id, { maxConcurrent: value }, `License ${id} may process ${value} images at once now.`, input),
  );
  const requests = el('button', { text: 'Requests', className: 'quiet', attrs: { type: 'button', 'aria-label': `Show the requests of license ${id}` } });
  requests.addEventListener('click', () => {
    $('filter-license').value = id;
    void applyFilter({ ...view.filter, licenseId: id }).then((applied) => applied && selectTab('requests', true));
  });
  row.append(cells.id, cells.credits, cells.slots, cells.allowed, el('td', { className: 'change' }, credits, limit), el('td', {}, requests));
  row.cells_ = cells;
  row.inputs_ = [credits.querySelector('input'), limit.querySelector('input')];
  return row;
}

async function patchLicense(id, patch, done, input) {
  try {
    await api('PATCH', `/licenses/${encodeURIComponent(id)}`, patch);
    input.dataset.dirty = '';
    say(done);
    await refresh();
  } catch (error) {
    failed(error);
  }
}

function renderLicenses(licenses) {
  const body = $('licenses').tBodies[0];
  const keep = new Set(licenses.map((license) => license.licenseId));
  for (const [id, row] of view.licenseRows) {
    if (!keep.has(id)) {
      row.remove();
      view.licenseRows.delete(id);
    }
  }
  for (const license of licenses) {
    let row = view.licenseRows.get(license.licenseId);
    if (!row) {
      row = licenseRow(license);
      view.licenseRows.set(license.licenseId, row);
    }
    body.append(row); // in the store's order
    const { cells_: cells, inputs_: inputs } = row;
    cells.id.textContent = license.licenseId;
    cells.id.title = license.expiresAt ? `${license.licenseId} (for one test, until ${license.expiresAt})` : license.licenseId;
    cells.credits.textContent = license.credits;
    cells.slots.textContent = `${license.inFlight} of ${license.maxConcurrent}`;
    cells.allowed.textContent = (license.allowedIps ?? []).join(', ');
    // A value being typed stays as it is.
    const [credits, limit] = inputs;
    if (document.activeElement !== credits) credits.value = license.credits;
    if (document.activeElement !== limit) limit.value = license.maxConcurrent;
  }
  // The fault form's license choice follows the list, keeping what was chosen.
  const ids = licenses.map((license) => license.licenseId);
  if (ids.join('\n') !== view.licenseIds.join('\n')) {
    view.licenseIds = ids;
    const select = $('fault-license');
    const chosen = select.value;
    select.replaceChildren(el('option', { text: 'every license', attrs: { value: '' } }), ...ids.map((id) => el('option', { text: id, attrs: { value: id } })));
    select.value = ids.includes(chosen) ? chosen : '';
    // The filter offers them too (any other id the journal shows can be typed).
    $('filter-licenses').replaceChildren(...ids.map((id) => el('option', { attrs: { value: id } })));
  }
}

// ---------------------------------------------------------------- faults

function faultKind(fault) {
  if (fault.type === 'chaos') return `chaos: ${(fault.types ?? []).join(', ')}`;
  if (fault.type === 'error') return '500 error';
  if (fault.type === 'latency') return `latency ${fault.latencyMs} ms`;
  return fault.type;
}

function faultWhen(fault) {
  const phase = fault.phase === 'after' ? ', after the charge' : '';
  if (fault.count !== undefined) return `next ${fault.count}${phase}`;
  return `p = ${fault.probability}, seed ${fault.seed}${phase}`;
}

function renderFaults(faults) {
  const body = $('faults').tBodies[0];
  body.replaceChildren(
    ...faults.map((fault) => {
      const remove = el('button', { text: 'Remove', attrs: { type: 'button', 'aria-label': `Remove fault ${fault.id}` } });
      remove.addEventListener('click', () =>
        run(async () => {
          await api('DELETE', `/faults/${encodeURIComponent(fault.id)}`);
          say(`Fault ${fault.id} removed.`);
        }),
      );
      return el(
        'tr',
        {},
        el('td', { className: 'mono nowrap', text: fault.id }),
        el('td', { text: faultKind(fault) }),
        el('td', { className: 'cell-clip', text: fault.licenseId ?? 'every license' }),
        el('td', { text: faultWhen(fault) }),
        el('td', { className: 'num', text: fault.fired }),
        el('td', {}, remove),
      );
    }),
  );
  $('faults-empty').hidden = faults.length > 0;
}

function faultFormChanged() {
  const type = $('fault-type').value;
  $('fault-latency').disabled = type !== 'latency';
  const losing = ['reset', 'truncate', 'hang'].includes(type);
  const phase = $('fault-phase');
  phase.disabled = !losing;
  if (!losing) phase.value = 'before';
  const byChance = $('fault-when-probability').checked;
  $('fault-count').disabled = byChance;
  $('fault-probability').disabled = !byChance;
  $('fault-seed').disabled = !byChance;
}

async function armFault(event) {
  event.preventDefault();
  const type = $('fault-type').value;
  const spec = { type };
  if (type === 'latency') spec.latencyMs = Number($('fault-latency').value);
  if ($('fault-when-probability').checked) {
    spec.probability = Number($('fault-probability').value);
    // Without a seed the mock picks one and lists it, so a run can be replayed with it.
    if ($('fault-seed').value.trim() !== '') spec.seed = Number($('fault-seed').value);
  } else spec.count = Number($('fault-count').value);
  const license = $('fault-license').value;
  if (license) spec.licenseId = license;
  if (!$('fault-phase').disabled && $('fault-phase').value === 'after') spec.phase = 'after';
  await run(async () => {
    const fault = await api('POST', '/faults', spec);
    say(`Fault ${fault.id} armed: ${faultKind(fault)}, ${faultWhen(fault)}, for ${fault.licenseId ?? 'every license'}.`);
  });
}

// ---------------------------------------------------------------- health

/** The credits of the license the filter names, or of the first one, beside the health. */
function renderCredits(license) {
  const credits = $('health-credits');
  const of = $('health-credits-of');
  of.textContent = license ? license.licenseId : '';
  of.title = license ? `license ${license.licenseId}` : '';
  credits.textContent = license ? String(license.credits) : '—';
}

function renderHealth(health, gallery) {
  const status = $('health-status');
  const dot = el('span', { className: `dot ${health.status}`, attrs: { 'aria-hidden': 'true' } });
  status.replaceChildren(dot, document.createTextNode(health.status));
  $('health-version').textContent = health.version;
  $('health-uptime').textContent = duration(health.uptimeSeconds);
  $('health-inflight').textContent = health.inFlight ?? 'unknown';
  const store = health.store;
  $('health-store').textContent = store ? `${store.kind}${store.status === 'ok' ? '' : ` (${store.status}${store.reason ? `: ${store.reason}` : ''})`}` : '';
  $('health-images').textContent = gallery ? `${gallery.entries} of ${gallery.maxEntries} · ${bytes(gallery.bytes)}` : '';
}

function offline() {
  const status = $('health-status');
  status.replaceChildren(el('span', { className: 'dot offline', attrs: { 'aria-hidden': 'true' } }), document.createTextNode('unreachable'));
}

// ---------------------------------------------------------------- the loop

async function refresh() {
  const asked = view.filter;
  const query = new URLSearchParams({ limit: String(JOURNAL_ROWS), ...asked });
  const state = await api('GET', `/ui/state?${query}`);
  // A poll that left before the filter changed: its rows are of the filter before.
  if (asked !== view.filter) return;
  view.images = state.images ?? {};
  renderHealth(state.health, state.gallery);
  renderCredits(state.license);
  renderRequests(state.journal);
  renderFilter(state.filter ?? {}, state.journal.length, state.journalOmitted ?? 0);
  renderLicenses(state.licenses);
  // The mock sends at most a few hundred licenses a poll; say so when there are more.
  $('licenses-count').textContent = state.licensesTotal > state.licenses.length ? `the first ${state.licenses.length} of ${state.licensesTotal}` : '';
  $('tab-licenses-count').textContent = String(state.licensesTotal);
  renderFaults(state.faults);
  const armed = $('tab-faults-count');
  armed.textContent = state.faults.length ? `${state.faults.length} armed` : '';
  armed.classList.toggle('armed', state.faults.length > 0);
  view.firstLoad = false;
}

// ---------------------------------------------------------------- the filter and the views

/** What the mock applied, said in words, with the way to clear it; and the count of rows. */
function renderFilter(filter, shown, omitted) {
  const on = Boolean(filter.licenseId || filter.status);
  const parts = [];
  if (filter.licenseId) parts.push(`license ${filter.licenseId}`);
  if (filter.status) parts.push(`status ${filter.status}`);
  $('filter-text').textContent = on ? `Showing only the requests of ${parts.join(', with ')}.` : '';
  $('filter-active').hidden = !on;
  $('requests-none-match').hidden = !on || shown > 0;
  if (on) $('requests-empty').hidden = true;
  const count = shown ? `the newest ${shown}${on ? ' that match' : ''}` : '';
  $('requests-count').textContent = omitted ? `${count}; ${omitted} older not sent (one update holds 256 KiB of rows)` : count;
}

/** The filter from the form: empty fields filter nothing. */
function filterFromForm() {
  const filter = {};
  const licenseId = $('filter-license').value;
  const status = $('filter-status').value.trim();
  if (licenseId.trim() !== '') filter.licenseId = licenseId;
  if (status !== '') filter.status = status;
  return filter;
}

/** Asks the mock with the new filter; keeps the one before when the mock refuses it (and says why). */
async function applyFilter(filter) {
  const before = view.filter;
  view.filter = filter;
  view.firstLoad = true; // rows shown because the filter changed are not new
  try {
    await refresh();
    writeAddress();
    say(filter.licenseId || filter.status ? 'Filter applied.' : 'Filter cleared: every request is shown.');
    return true;
  } catch (error) {
    view.filter = before;
    failed(error);
    return false;
  }
}

function fillFilterForm() {
  $('filter-license').value = view.filter.licenseId ?? '';
  $('filter-status').value = view.filter.status ?? '';
}

/** The view and the filter, from the address (#tab=licenses&licenseId=1234&status=4xx). */
function readAddress() {
  const params = new URLSearchParams(location.hash.slice(1));
  const filter = {};
  for (const key of ['licenseId', 'status']) if (params.get(key)) filter[key] = params.get(key);
  return { tab: TABS.includes(params.get('tab')) ? params.get('tab') : undefined, filter };
}

function writeAddress() {
  const params = new URLSearchParams({ tab: view.tab, ...view.filter });
  history.replaceState(null, '', `#${params}`);
}

function selectTab(name, focus = false) {
  view.tab = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const chosen = tab === name;
    button.setAttribute('aria-selected', String(chosen));
    button.tabIndex = chosen ? 0 : -1;
    $(`panel-${tab}`).hidden = !chosen;
  }
  if (focus) $(`tab-${name}`).focus();
  writeAddress();
}

/** The tabs as the ARIA pattern has them: one stop for Tab, the arrows (and Home, End) move and show. */
function tabKey(event) {
  const at = TABS.indexOf(view.tab);
  const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: TABS.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  selectTab(TABS[(next + TABS.length) % TABS.length], true);
}

async function run(action) {
  try {
    await action();
    await refresh();
  } catch (error) {
    failed(error);
  }
}

function schedule() {
  clearTimeout(view.polling);
  if (!view.live) return;
  view.polling = setTimeout(async () => {
    try {
      await refresh();
      if ($('message').classList.contains('error') && $('message').textContent.startsWith('The mock cannot be reached')) say('');
    } catch (error) {
      if (!(error instanceof NeedsToken)) offline();
      failed(error);
    }
    // While the page waits for a token, it stops asking; the token form starts it again.
    if ($('token-form').hidden) schedule();
  }, POLL_MS);
}

function start() {
  for (const origin of document.querySelectorAll('.origin')) origin.textContent = location.origin;
  const address = readAddress();
  view.filter = address.filter;
  fillFilterForm();
  selectTab(address.tab ?? 'requests');
  for (const tab of TABS) {
    $(`tab-${tab}`).addEventListener('click', () => selectTab(tab, true));
    $(`tab-${tab}`).addEventListener('keydown', tabKey);
  }
  $('skip').addEventListener('click', (event) => {
    event.preventDefault();
    $(`tab-${view.tab}`).focus();
  });
  window.addEventListener('hashchange', () => {
    const { tab, filter } = readAddress();
    if (tab) selectTab(tab);
    if (JSON.stringify(filter) !== JSON.stringify(view.filter)) {
      fillFilterForm();
      void applyFilter(filter).then(fillFilterForm);
    }
  });
  $('filter').addEventListener('submit', (event) => {
    event.preventDefault();
    void applyFilter(filterFromForm());
  });
  $('filter-clear').addEventListener('click', () => {
    void applyFilter({}).then((cleared) => {
      if (!cleared) return;
      fillFilterForm();
      $('filter-license').focus();
    });
  });
  $('live').addEventListener('change', (event) => {
    view.live = event.target.checked;
    say(view.live ? 'Live: the page updates every second.' : 'Paused: the page no longer updates.');
    schedule();
  });
  $('clear-journal').addEventListener('click', () =>
    run(async () => {
      await api('DELETE', '/journal');
      say('Journal cleared.');
    }),
  );
  $('reset-all').addEventListener('click', () =>
    run(async () => {
      await api('POST', '/reset');
      say('Licenses are back to the config; the journal and faults are cleared.');
    }),
  );
  $('clear-faults').addEventListener('click', () =>
    run(async () => {
      await api('DELETE', '/faults');
      say('Every fault removed.');
    }),
  );
  $('temp-license').addEventListener('submit', (event) => {
    event.preventDefault();
    void run(async () => {
      const created = await api('POST', '/licenses', { credits: Number($('temp-credits').value), ttlSeconds: Number($('temp-ttl').value) });
      const text = `License ${created.licenseId}, API key ${created.apiKey} (shown once), ${created.credits} credits, until ${created.expiresAt}.`;
      $('temp-created').textContent = text;
      say(`Created license ${created.licenseId}.`);
    });
  });
  $('arm-fault').addEventListener('submit', (event) => void armFault(event));
  for (const id of ['fault-type', 'fault-when-count', 'fault-when-probability']) $(id).addEventListener('change', faultFormChanged);
  faultFormChanged();
  $('details-close').addEventListener('click', () => $('details').close());
  $('details').addEventListener('close', () => $('details').returnFocusTo?.focus());
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    view.token = $('token-input').value.trim();
    sessionStorage.setItem(TOKEN_KEY, view.token);
    releaseImages(new Set());
    void refresh()
      .then(() => {
        $('token-form').hidden = true;
        say('Token accepted.');
        schedule();
      })
      .catch((error) => {
        if (error instanceof NeedsToken)
          say('That token was refused. Try the one the mock printed at start (in a container: docker logs <container> | grep Bearer).', true);
        else failed(error);
      });
  });
  void refresh()
    .catch(async (error) => {
      // A filter in the address the mock refuses: say why, and show every request instead.
      if (!(error instanceof Refused && error.status === 400 && (view.filter.licenseId || view.filter.status))) throw error;
      view.filter = {};
      fillFilterForm();
      writeAddress();
      await refresh();
      say(`The filter in the address was not applied: ${error.message}`, true);
    })
    .then(schedule)
    .catch((error) => {
      failed(error);
      if (!(error instanceof NeedsToken)) schedule();
    });
}

start();
