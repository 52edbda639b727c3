// Tessera explorer: one page, hash routes, plain DOM and SVG. Everything it shows comes
// from the node's JSON API (/v1/...) and the gateway's /v1/stats; see docs/explorer.md.
//
// Routes: #/ (chain), #/block/H, #/tx/HASH, #/subnets, #/subnet/N, #/account/ADDR,
// #/gateway. URL parameters: ?api=URL reads another node's API (it must allow this
// page's origin in its --api.cors-origins), ?poll=1 skips the events stream.
'use strict';

(() => {
  const params = new URLSearchParams(location.search);
  const API = (params.get('api') || location.origin).replace(/\/+$/, '');
  const FORCE_POLL = params.has('poll');
  const UNITS = 1000000000n; // smallest units per token
  const U16 = 65535;
  const HISTORY_EPOCHS = 12; // epochs of history the subnet page reads at past heights
  const RECENT_BLOCKS = 20;
  const PALETTE = ['#5eead4', '#a78bfa', '#fbbf24', '#f472b6', '#60a5fa',
    '#34d399', '#fb923c', '#f87171', '#c084fc', '#a3e635'];

  // ---------- DOM helpers ----------

  function add(el, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k == null || k === false) continue;
      el.append(k instanceof Node ? k : String(k));
    }
    return el;
  }

  function setProps(el, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.setAttribute('class', v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style') for (const [p, x] of Object.entries(v)) el.style.setProperty(p, x);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    return el;
  }

  // h builds an HTML element: h('a', {href: '#/'}, 'text', child, ...).
  const h = (tag, props, ...kids) => add(setProps(document.createElement(tag), props), kids);
  const SVGNS = 'http://www.w3.org/2000/svg';
  // s builds an SVG element.
  const s = (tag, props, ...kids) => add(setProps(document.createElementNS(SVGNS, tag), props), kids);

  const $ = (sel, root = document) => root.querySelector(sel);
  // fill replaces an element's children (null and false are skipped, as h skips them).
  const fill = (el, ...kids) => { el.replaceChildren(); return add(el, kids); };

  // ---------- formatting ----------

  function big(v) {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.round(v));
    if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
    return 0n;
  }
  const num = v => (typeof v === 'number' ? v : Number(v) || 0);

  // tokens renders smallest units as tokens with at most dec decimals ("1,234.5").
  // An amount under 10^-dec tokens keeps all its decimals (a fee of 0.000001).
  function tokens(v, dec = 4) {
    const b = big(v);
    if (b > 0n && b < UNITS / 10n ** BigInt(dec)) dec = 9;
    const whole = grouped(b / UNITS);
    const frac = (b % UNITS).toString().padStart(9, '0').slice(0, dec).replace(/0+$/, '');
    return frac ? whole + '.' + frac : whole;
  }
  // tokensBrief fits a card: fewer decimals the larger the amount.
  const tokensBrief = v => { const w = big(v) / UNITS; return tokens(v, w >= 100000n ? 0 : w >= 100n ? 2 : 4); };
  const exactTokens = v => {
    const b = big(v);
    return (b / UNITS).toString() + '.' + (b % UNITS).toString().padStart(9, '0');
  };
  const amount = (v, unit = true) =>
    h('span', { class: 'amt', title: exactTokens(v) + ' tokens (' + big(v) + ' units)' },
      tokens(v), unit ? h('span', { class: 'muted' }, ' tokens') : null);

  const ratio = v => (num(v) / U16);
  const fmtRatio = v => ratio(v).toFixed(4);
  const pct = (x, d = 1) => (x * 100).toFixed(d) + '%';
  // Numbers and times are formatted by hand: the browser's locale formatting costs a
  // fraction of a millisecond a call, and its first call tens of milliseconds, on the
  // first load's path.
  const grouped = x => String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const int = v => { const n = num(v); return Number.isInteger(n) ? grouped(n) : grouped(Math.round(n)); };
  const pad = n => String(n).padStart(2, '0');
  const clock = t => { const d = new Date(t); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); };
  const datetime = t => { const d = new Date(t); return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + clock(d); };

  function short(str, a = 6, b = 4) {
    str = String(str || '');
    return str.length > a + b + 1 ? str.slice(0, a) + '…' + str.slice(-b) : str;
  }

  function ago(t) {
    const d = (Date.now() - new Date(t).getTime()) / 1000;
    if (!Number.isFinite(d)) return '';
    if (d < 2) return 'just now';
    if (d < 60) return Math.floor(d) + ' s ago';
    if (d < 3600) return Math.floor(d / 60) + ' min ago';
    if (d < 86400) return Math.floor(d / 3600) + ' h ago';
    return datetime(t);
  }
  // A time that keeps saying how long ago it was (the ticker below refreshes it).
  const when = t => h('time', { datetime: t, title: datetime(t), dataset: { ago: t } }, ago(t));
  setInterval(() => {
    for (const el of document.querySelectorAll('[data-ago]')) el.textContent = ago(el.dataset.ago);
  }, 1000);

  const addr = (a, opts = {}) => a
    ? h('a', { href: '#/account/' + encodeURIComponent(a), class: 'mono addr', title: a }, opts.full ? a : short(a))
    : h('span', { class: 'faint' }, '—');
  const blockLink = n => h('a', { href: '#/block/' + n, class: 'mono' }, '#' + int(n));
  const txLink = hash => h('a', { href: '#/tx/' + hash, class: 'mono', title: hash }, short(hash, 8, 6));
  const subnetLink = n => h('a', { href: '#/subnet/' + n }, 'subnet ' + n);
  const badge = (text, kind = '') => h('span', { class: 'badge ' + kind }, text);

  function copyButton(text) {
    return h('button', {
      class: 'copy', type: 'button', title: 'Copy', onclick: async ev => {
        try { await navigator.clipboard.writeText(text); ev.target.textContent = 'copied'; } catch { ev.target.textContent = 'select and copy'; }
        setTimeout(() => { ev.target.textContent = 'copy'; }, 1500);
      },
    }, 'copy');
  }

  // ---------- the API ----------

  class ApiError extends Error {
    constructor(message, { status = 0, codeName = '', url = '', what = '' } = {}) {
      super(message);
      this.status = status;
      this.codeName = codeName;
      this.url = url;
      this.what = what;
    }
    // missing: the node does not have this endpoint (an older node).
    get missing() { return this.status === 404 && /no such endpoint/.test(this.message); }
  }

  const statusText = {
    400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 414: 'URI Too Long', 422: 'Unprocessable',
    429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  };

  // get fetches JSON from the node's API (a path) or any URL, and turns every failure
  // into an ApiError with a sentence a person can read.
  async function get(pathOrURL, { timeout = 10000, what = 'the node' } = {}) {
    const url = /^https?:/.test(pathOrURL) ? pathOrURL : API + pathOrURL;
    let resp;
    try {
      resp = await fetch(url, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(timeout) });
    } catch (e) {
      const why = e && e.name === 'TimeoutError'
        ? 'it did not answer within ' + timeout / 1000 + ' s'
        : 'the request failed (' + (e && e.message || e) + '): it is down, unreachable, or does not allow this page\'s origin (CORS)';
      throw new ApiError('Could not reach ' + what + ' at ' + new URL(url).host + ': ' + why + '.', { url, what });
    }
    const text = await resp.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!resp.ok) {
      let msg = body && typeof body.error === 'string' ? body.error
        : (text.trim().slice(0, 300) || statusText[resp.status] || 'HTTP ' + resp.status);
      if (body && body.code_name && msg.startsWith(body.code_name + ': ')) msg = msg.slice(body.code_name.length + 2);
      throw new ApiError(msg, { status: resp.status, codeName: body && body.code_name || '', url, what });
    }
    if (body === null) throw new ApiError(what + ' answered ' + url + ' with something that is not JSON.', { status: resp.status, url, what });
    return body;
  }

  // errorBox renders an error as a headline (what failed), the API's message, and the
  // request that failed.
  function errorBox(title, err) {
    const e = err instanceof ApiError ? err : new ApiError(String(err && err.message || err));
    let req = '';
    if (e.url) {
      req = 'GET ' + e.url.replace(API, '');
      if (e.status) req += ' → ' + e.status + ' ' + (statusText[e.status] || '') + (e.codeName ? ' (' + e.codeName + ')' : '');
    }
    return h('div', { class: 'error-box', role: 'alert', dataset: { status: e.status || 0 } },
      h('div', { class: 'error-title' }, title),
      h('p', { class: 'error-msg' }, sentence(e.message)),
      req ? h('div', { class: 'error-req' }, req) : null);
  }
  const sentence = m => { m = String(m).trim(); m = m.charAt(0).toUpperCase() + m.slice(1); return /[.!?]$/.test(m) ? m : m + '.'; };

  function banner(msg, kind = '') {
    const b = $('#banner');
    if (!msg) { b.hidden = true; b.textContent = ''; return; }
    b.className = 'banner ' + kind;
    b.textContent = msg;
    b.hidden = false;
  }

  // Endpoints with a fallback for a node that predates them.
  async function recentBlocks(limit, before) {
    try {
      const r = await get('/v1/blocks?limit=' + limit + (before ? '&before=' + before : ''));
      return r.blocks || [];
    } catch (e) {
      if (!e.missing) throw e;
      const top = before ? before - 1 : (await get('/v1/status')).height;
      const hs = [];
      for (let x = top; x > 0 && hs.length < limit; x--) hs.push(x);
      return Promise.all(hs.map(x => get('/v1/blocks/' + x)));
    }
  }

  const cache = { config: null, list: null, listAt: 0 };
  async function explorerConfig() {
    if (!cache.config) {
      try { cache.config = await get('/v1/explorer/config'); } catch (e) {
        if (!e.missing) throw e;
        cache.config = { gateway_url: '', chain_id: '', missing: true };
      }
    }
    return cache.config;
  }
  async function subnetList() {
    if (!cache.list || Date.now() - cache.listAt > 5000) {
      cache.list = await get('/v1/query/subnets/list');
      cache.listAt = Date.now();
    }
    return cache.list;
  }

  // ---------- transactions, decoded ----------

  const TX_KINDS = {
    'accounts/transfer': 'transfer', 'stake/add': 'stake', 'stake/remove': 'unstake', 'stake/move': 'move stake',
    'stake/set_take': 'set take', 'subnets/create': 'create subnet', 'subnets/set_hyperparam': 'hyperparameter',
    'subnets/register': 'register', 'subnets/serve_axon': 'serve axon', 'subnets/commit': 'commit',
    'subnets/set_weights': 'set weights', 'subnets/commit_weights': 'commit weights', 'subnets/reveal_weights': 'reveal weights',
    'gov/submit': 'proposal', 'gov/vote': 'vote',
    'inference/mlnodes': 'MLNodes', 'inference/commit': 'PoC commit', 'inference/verdict': 'PoC verdict',
  };

  // txFields merges the decoded message's fields with what the tx's events say (the
  // uid a registration got, for one), the message winning.
  function txFields(tx) {
    const f = {};
    for (const ev of tx.events || []) if (ev.type !== 'tx') Object.assign(f, ev.attributes || {});
    Object.assign(f, (tx.message && tx.message.fields) || {});
    return f;
  }

  // describeTx is a transaction in a line: its kind, then what it did, in words.
  function describeTx(tx) {
    const type = (tx.message && tx.message.type) || tx.msg_type || '';
    const f = txFields(tx);
    const on = f.netuid != null ? [' on ', subnetLink(f.netuid)] : [];
    let what;
    switch (type) {
      case 'accounts/transfer':
        what = [addr(f.from || tx.signer), h('span', { class: 'arrow' }, '→'), addr(f.to), amount(f.amount)]; break;
      case 'stake/add':
        what = [addr(f.coldkey || tx.signer), ' stakes ', amount(f.amount), ' on ', addr(f.hotkey)]; break;
      case 'stake/remove':
        what = [addr(f.coldkey || tx.signer), ' unstakes ', amount(f.amount), ' from ', addr(f.hotkey)]; break;
      case 'stake/move':
        what = [addr(f.coldkey || tx.signer), ' moves ', amount(f.amount), ' from ', addr(f.from), ' to ', addr(f.to)]; break;
      case 'stake/set_take':
        what = [addr(f.hotkey || tx.signer), ' sets its take to ', pct(ratio(f.take), 2)]; break;
      case 'subnets/create':
        what = [addr(f.owner || tx.signer), ' creates ', f.netuid != null ? subnetLink(f.netuid) : 'a subnet', ' (', f.mechanism || 'yuma', ')']; break;
      case 'subnets/set_hyperparam':
        what = [h('code', null, f.name), ' = ', h('code', null, f.value), ...on]; break;
      case 'subnets/register':
        what = [addr(f.hotkey), ' registers', ...on, f.uid != null ? [' as uid ', h('b', null, f.uid)] : '',
          f.burn ? [' for ', amount(f.burn)] : '']; break;
      case 'subnets/serve_axon':
        what = [f.uid != null ? ['uid ', h('b', null, f.uid), ' '] : addr(f.hotkey || tx.signer), ' serves ',
          h('code', null, f.endpoint || (f.ip + ':' + f.port)), ...on]; break;
      case 'subnets/set_weights': {
        const n = Array.isArray(f.uids) ? f.uids.length : f.count;
        what = [f.uid != null ? ['uid ', h('b', null, f.uid)] : addr(f.hotkey || tx.signer), ' sets ', n, n == 1 ? ' weight' : ' weights', ...on];
        break;
      }
      case 'subnets/commit_weights':
        what = [addr(f.hotkey || tx.signer), ' commits weights', ...on]; break;
      case 'subnets/reveal_weights':
        what = [addr(f.hotkey || tx.signer), ' reveals ', Array.isArray(f.uids) ? f.uids.length + ' weights' : 'weights', ...on]; break;
      case 'subnets/commit':
        what = [addr(f.hotkey || tx.signer), ' commits ', h('code', { title: f.data || '' }, short(f.data || '', 10, 4)), ...on]; break;
      case 'inference/mlnodes': {
        const added = Array.isArray(f.added) ? f.added : [], removed = Array.isArray(f.removed) ? f.removed : [];
        what = [addr(f.hotkey || tx.signer), added.length ? [' declares ', h('code', null, added.join(', '))] : '',
          removed.length ? [' removes ', h('code', null, removed.join(', '))] : '', ...on]; break;
      }
      case 'inference/commit':
        what = [addr(f.hotkey || tx.signer), ' commits ', int(f.count), ' valid nonces of ', h('code', null, f.mlnode), ' (epoch ', f.epoch, ')', ...on]; break;
      case 'inference/verdict':
        what = [addr(f.validator || tx.signer), ' judges ', f.judgements, ' participants (epoch ', f.epoch, ')', ...on]; break;
      default: {
        // Any other message: its first fields, long values shortened (a hash must not
        // widen the page on a phone).
        const val = v => { const s = typeof v === 'object' ? JSON.stringify(v) : String(v); return s.length > 24 ? short(s, 10, 4) : s; };
        what = [addr(tx.signer), ' ', Object.entries(f).slice(0, 4).map(([k, v]) => [h('span', { class: 'muted' }, k + '='), h('code', { title: String(v) }, val(v)), ' '])];
      }
    }
    const ok = !tx.code;
    return h('li', { class: 'tx', dataset: { hash: tx.hash || '', type } },
      h('span', { class: 'badge kind', title: type }, TX_KINDS[type] || type || 'tx'),
      what,
      ok ? null : badge('failed: ' + (tx.code_name || tx.code), 'bad'),
      tx.hash ? h('span', { class: 'faint' }, txLink(tx.hash)) : null);
  }

  // ---------- live: the events stream, or polling ----------

  const live = {
    mode: 'connecting', height: 0, listeners: new Set(), es: null, pollTimer: 0, failures: 0,
    on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); },
    emit(kind, data) { for (const fn of [...this.listeners]) { try { fn(kind, data); } catch (e) { console.warn('live listener', e); } } },
  };

  // The indicator: sse (green, "live"), poll (amber, "polling"), reconnecting (amber),
  // down (red, "no contact"), connecting (grey).
  const LIVE_TEXT = { sse: 'live', poll: 'polling', reconnecting: 'reconnecting…', down: 'no contact', connecting: 'connecting…' };
  function setLive(mode) {
    live.mode = mode;
    const el = $('#live');
    el.className = 'live ' + (mode === 'reconnecting' ? 'poll' : mode);
    $('.live-text', el).textContent = LIVE_TEXT[mode] + ((mode === 'sse' || mode === 'poll') && live.height ? ' · #' + int(live.height) : '');
    el.dataset.mode = mode;
  }

  function gotBlock(b) {
    if (b.height <= live.height) return;
    live.height = b.height;
    setLive(live.mode);
    live.emit('block', b);
  }

  function startLive() {
    if (FORCE_POLL || !window.EventSource) { startPolling('the events stream is off (?poll)'); return; }
    let opened = false, lost = 0;
    const es = new EventSource(API + '/v1/events');
    live.es = es;
    es.addEventListener('open', () => {
      opened = true; lost = 0;
      setLive('sse');
      banner('');
    });
    es.addEventListener('block', ev => { try { gotBlock(JSON.parse(ev.data)); } catch (e) { console.warn('bad block event', e); } });
    es.addEventListener('epoch', ev => { try { live.emit('epoch', JSON.parse(ev.data)); } catch (e) { console.warn('bad epoch event', e); } });
    es.addEventListener('error', () => {
      // Never opened, closed for good (a 404 or 503), or down for long: poll instead.
      if (!opened || es.readyState === EventSource.CLOSED || ++lost > 3) {
        es.close();
        live.es = null;
        startPolling(opened ? 'the events stream dropped' : 'the node has no events stream');
      } else {
        setLive('reconnecting');
      }
    });
  }

  // startPolling asks /v1/status every 2 s and fetches each new block, as the events
  // stream would have sent them.
  function startPolling(why) {
    setLive('poll');
    $('#live').title = 'Polling /v1/status every 2 s: ' + why;
    const tick = async () => {
      try {
        const st = await get('/v1/status', { timeout: 5000 });
        if (live.failures) banner('');
        live.failures = 0;
        if (live.mode !== 'poll') setLive('poll');
        if (st.height > live.height) {
          const from = live.height ? Math.max(live.height + 1, st.height - 9) : st.height;
          for (let x = from; x <= st.height; x++) {
            try { gotBlock(await get('/v1/blocks/' + x)); } catch { gotBlock({ height: st.height, time: st.block_time, num_txs: 0 }); break; }
          }
        }
      } catch (e) {
        live.failures++;
        setLive('down');
        if (live.failures >= 2) banner('Lost contact with the node: ' + e.message + ' Retrying every 2 s.');
      }
      live.pollTimer = setTimeout(tick, 2000);
    };
    clearTimeout(live.pollTimer);
    tick();
  }

  // ---------- plots (SVG) ----------

  // Plots are drawn at their width on screen (w), so that their text keeps its size on a
  // phone; PH is their height.
  let PW = 640;
  const PH = 250, PAD = { l: 46, r: 22, t: 14, b: 30 };

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 1.2, 2, 4, 6, 8, 10]) if (m * p >= v) return m * p; // quarters with short labels
    return 10 * p;
  }

  // axes draws the grid, the y labels (yfmt of each of 5 levels up to ymax) and the x
  // labels (at most 8 of xs).
  function axes(g, xs, xpos, ymax, yfmt) {
    const ih = PH - PAD.t - PAD.b;
    for (let i = 0; i <= 4; i++) {
      const y = PAD.t + ih - (ih * i) / 4;
      g.append(s('line', { class: i ? 'grid' : 'axis', x1: PAD.l, x2: PW - PAD.r, y1: y, y2: y }),
        s('text', { x: PAD.l - 6, y: y + 4, 'text-anchor': 'end' }, yfmt((ymax * i) / 4)));
    }
    const step = Math.max(1, Math.ceil(xs.length / Math.max(2, Math.floor((PW - PAD.l - PAD.r) / 64))));
    xs.forEach((x, i) => {
      if (i % step && i !== xs.length - 1) return;
      g.append(s('text', { x: xpos(i), y: PH - 10, 'text-anchor': 'middle' }, '#' + x));
    });
  }

  function legend(items, svgEl) {
    return h('div', { class: 'legend' }, items.map(it => h('span', {
      onmouseenter: () => focusSeries(svgEl, it.key), onmouseleave: () => focusSeries(svgEl, null),
    }, h('span', { class: 'swatch', style: { background: it.color } }), it.label)));
  }
  function focusSeries(svgEl, key) {
    svgEl.classList.toggle('focus', key != null);
    for (const g of svgEl.querySelectorAll('g.series')) g.classList.toggle('hi', g.dataset.key === String(key));
  }

  // linePlot: one line per series over the epochs xs; values in [0, ymax].
  function linePlot(title, xs, series, yfmt, ymax, w) {
    PW = w;
    ymax = niceMax(ymax);
    const iw = PW - PAD.l - PAD.r, ih = PH - PAD.t - PAD.b;
    const xpos = i => PAD.l + (xs.length === 1 ? iw / 2 : (iw * i) / (xs.length - 1));
    const ypos = v => PAD.t + ih - (ih * v) / ymax;
    const svgEl = s('svg', { class: 'plot', viewBox: `0 0 ${PW} ${PH}`, role: 'img', 'aria-label': title });
    const g = s('g');
    axes(g, xs, xpos, ymax, yfmt);
    svgEl.append(g);
    for (const se of series) {
      const sg = s('g', { class: 'series', dataset: { key: se.key } });
      const pts = se.values.map((v, i) => (v == null ? null : [xpos(i), ypos(v)]));
      const d = pts.reduce((acc, p, i) => (p ? acc + (acc && pts[i - 1] ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1) : acc), '');
      if (d) sg.append(s('path', { class: 'line', d, stroke: se.color }));
      pts.forEach((p, i) => {
        if (!p) return;
        sg.append(s('circle', { class: 'pt', cx: p[0], cy: p[1], r: xs.length > 24 ? 2 : 3.2, fill: se.color },
          s('title', null, `${se.label} · epoch at block ${xs[i]} · ${yfmt(se.values[i], true)}`)));
      });
      svgEl.append(sg);
    }
    return h('div', null, svgEl, legend(series, svgEl));
  }

  // stackPlot: per epoch a bar of the series stacked.
  function stackPlot(title, xs, series, yfmt, w) {
    PW = w;
    const totals = xs.map((_, i) => series.reduce((a, se) => a + (se.values[i] || 0), 0));
    const ymax = niceMax(Math.max(...totals, 0));
    const iw = PW - PAD.l - PAD.r, ih = PH - PAD.t - PAD.b;
    const slot = iw / Math.max(xs.length, 1), bw = Math.max(2, Math.min(44, slot * 0.7));
    const xpos = i => PAD.l + slot * i + slot / 2;
    const svgEl = s('svg', { class: 'plot', viewBox: `0 0 ${PW} ${PH}`, role: 'img', 'aria-label': title });
    const g = s('g');
    axes(g, xs, xpos, ymax, yfmt);
    svgEl.append(g);
    const base = xs.map(() => 0);
    for (const se of series) {
      const sg = s('g', { class: 'series', dataset: { key: se.key } });
      se.values.forEach((v, i) => {
        if (!v) return;
        const y0 = PAD.t + ih - (ih * base[i]) / ymax, hgt = (ih * v) / ymax;
        base[i] += v;
        sg.append(s('rect', { class: 'seg', x: xpos(i) - bw / 2, y: y0 - hgt, width: bw, height: Math.max(hgt, 0.5), fill: se.color },
          s('title', null, `${se.label} · epoch at block ${xs[i]} · ${yfmt(v, true)} (${pct(v / (totals[i] || 1))} of the epoch)`)));
      });
      svgEl.append(sg);
    }
    return h('div', null, svgEl, legend(series, svgEl));
  }

  // ---------- router ----------

  const routes = [
    [/^\/?$/, pageChain, 'chain'],
    [/^\/chain$/, pageChain, 'chain'],
    [/^\/block\/(\d+|latest)$/, pageBlock, 'chain'],
    [/^\/tx\/([0-9a-fA-F]{64})$/, pageTx, 'chain'],
    [/^\/subnets$/, pageSubnets, 'subnets'],
    [/^\/subnet\/(\d+)$/, pageSubnet, 'subnets'],
    [/^\/account\/([^/]+)$/, pageAccount, ''],
    [/^\/gateway$/, pageGateway, 'gateway'],
  ];

  let current = null; // the page on screen: {alive, cleanups}

  async function route() {
    let path = location.hash.replace(/^#/, '') || '/';
    try { path = decodeURIComponent(path); } catch { /* keep it as it is */ }
    if (current) { current.alive = false; current.cleanups.forEach(f => f()); }
    const pg = current = { alive: true, cleanups: [], t0: performance.now() };
    pg.on = fn => pg.cleanups.push(live.on((k, d) => { if (pg.alive) fn(k, d); }));
    pg.every = (ms, fn) => { const id = setInterval(() => pg.alive && fn(), ms); pg.cleanups.push(() => clearInterval(id)); };
    const main = $('#main');
    fill(main);
    document.body.dataset.rendered = '';
    let found = null, m = null;
    for (const [re, fn, nav] of routes) if ((m = path.match(re))) { found = [fn, nav]; break; }
    for (const a of document.querySelectorAll('nav a')) a.classList.toggle('on', !!found && a.dataset.nav === found[1]);
    if (!found) {
      main.append(h('div', { class: 'page-head' }, h('h1', null, 'Nothing here')),
        errorBox('There is no page at #' + path, new Error('Try the chain, the subnets, or search an address, a block height or a transaction hash above')));
      rendered(pg);
      return;
    }
    try {
      await found[0](main, pg, ...m.slice(1));
    } catch (e) {
      if (!pg.alive) return;
      console.warn(e);
      main.append(errorBox('This page failed to load', e));
    }
    rendered(pg);
  }

  // rendered marks the page's data as on screen: the browser tests and the first-load
  // measurement wait for it (performance mark "tessera:rendered", body[data-rendered]).
  function rendered(pg) {
    if (!pg.alive || document.body.dataset.rendered) return;
    performance.mark('tessera:rendered');
    document.body.dataset.rendered = String(Math.round(performance.now()));
  }

  function head(title, sub, crumbs) {
    return h('div', null,
      crumbs ? h('div', { class: 'crumbs' }, crumbs) : null,
      h('div', { class: 'page-head' }, h('h1', null, title), sub ? h('p', { class: 'sub' }, sub) : null));
  }
  function section(title, note, body, opts = {}) {
    const b = h('div', { class: 'section-body' + (opts.flush ? ' flush' : '') }, body);
    return h('section', { class: 'section', id: opts.id || null },
      h('div', { class: 'section-head' }, h('h2', null, title), note ? h('span', { class: 'note' }, note) : null), b);
  }
  const card = (label, value, hint, opts = {}) =>
    h('div', { class: 'card', id: opts.id || null, title: opts.title || null }, h('div', { class: 'label' }, label),
      h('div', { class: 'value' + (opts.small ? ' small' : ''), dataset: opts.data || {} }, value),
      hint != null ? h('div', { class: 'hint' }, hint) : null);
  const loading = what => h('p', { class: 'loading' }, 'Loading ' + what + '…');

  function setCard(id, value, hint) {
    const c = document.getElementById(id);
    if (!c) return;
    const v = $('.value', c);
    fill(v, ...[].concat(value));
    v.classList.remove('flash'); void v.offsetWidth; v.classList.add('flash');
    if (hint != null) fill($('.hint', c), ...[].concat(hint));
  }

  function table(cols, rows, opts = {}) {
    return h('div', { class: 'table-wrap' }, h('table', { class: opts.class || '' },
      h('thead', null, h('tr', null, cols.map(c => h('th', { class: c.num ? 'num' : '', scope: 'col' }, c.label)))),
      h('tbody', null, rows.length ? rows.map(r => h('tr', null, cols.map(c => h('td', { class: c.num ? 'num' : '' }, c.cell(r)))))
        : h('tr', null, h('td', { colspan: cols.length, class: 'empty' }, opts.empty || 'None.')))));
  }

  // ---------- chain ----------

  function blockItem(b, fresh) {
    const txs = b.txs || [];
    return h('li', { class: 'block' + (b.num_txs ? '' : ' empty-block') + (fresh ? ' fresh' : ''), dataset: { height: b.height } },
      h('div', { class: 'block-line' },
        h('span', { class: 'height' }, blockLink(b.height)),
        b.time ? when(b.time) : null,
        b.hash ? h('span', { class: 'mono faint hide-sm', title: b.hash }, short(b.hash, 8, 4)) : null,
        b.proposer ? h('span', { class: 'faint', title: 'proposer ' + b.proposer }, 'by ', h('span', { class: 'mono' }, short(b.proposer, 6, 4))) : null,
        h('span', { class: b.num_txs ? '' : 'faint' }, b.num_txs ? int(b.num_txs) + (b.num_txs === 1 ? ' tx' : ' txs') : 'no txs')),
      txs.length ? h('ul', { class: 'txs' }, txs.map(describeTx)) : null);
  }

  async function pageChain(main, pg) {
    main.append(head('Chain', null));
    const cards = h('div', { class: 'cards' }, card('Height', '…', '', { id: 'c-height' }), card('Block time', '…', '', { id: 'c-btime' }),
      card('Last block', '…', '', { id: 'c-last' }), card('Validators', '…', '', { id: 'c-vals' }), card('Transactions', '…', '', { id: 'c-txs' }),
      card('Chain', '…', '', { id: 'c-chain', small: true }));
    const blocksBody = h('div', null, loading('recent blocks'));
    const valsBody = h('div', null, loading('validators'));
    main.append(cards, section('Validators', 'the CometBFT validator set', valsBody, { flush: true, id: 'validators' }),
      section('Recent blocks', 'newest first · new ones appear as they are made', blocksBody, { flush: true, id: 'recent-blocks' }));

    const [st, bl, vs] = await Promise.allSettled([get('/v1/status'), recentBlocks(RECENT_BLOCKS), get('/v1/validators')]);
    if (!pg.alive) return;
    if (st.status === 'fulfilled') {
      const v = st.value;
      setCard('c-height', int(v.height), v.catching_up ? 'catching up' : 'in sync');
      setCard('c-chain', v.chain_id, 'node ' + (v.moniker || short(v.node_id)));
      $('#foot-chain').textContent = v.chain_id + ' · ' + (v.moniker || '');
      setCard('c-last', v.block_time ? when(v.block_time) : '—', v.block_time ? clock(v.block_time) : '');
      if (!live.height) gotBlock({ height: v.height, time: v.block_time, num_txs: 0 });
    } else {
      cards.after(errorBox('Could not read the node\'s status', st.reason));
    }
    let blocks = bl.status === 'fulfilled' ? bl.value : [];
    const list = h('ul', { class: 'blocks', id: 'blocks' }, blocks.map(b => blockItem(b)));
    if (bl.status === 'fulfilled') fill(blocksBody, blocks.length ? list : h('p', { class: 'empty' }, 'No blocks yet.'));
    else fill(blocksBody, errorBox('Could not read the recent blocks', bl.reason));
    const blockTime = () => {
      if (blocks.length < 2) return;
      const a = new Date(blocks[0].time), z = new Date(blocks[blocks.length - 1].time);
      const avg = (a - z) / 1000 / (blocks[0].height - blocks[blocks.length - 1].height);
      setCard('c-btime', avg.toFixed(avg < 10 ? 2 : 1) + ' s', 'over the last ' + blocks.length + ' blocks');
      setCard('c-txs', int(blocks.reduce((a, b) => a + num(b.num_txs), 0)), 'in the last ' + blocks.length + ' blocks');
    };
    blockTime();
    if (vs.status === 'fulfilled') {
      const v = vs.value, total = v.total_voting_power || v.validators.reduce((a, x) => a + num(x.voting_power), 0);
      setCard('c-vals', int(v.total ?? v.validators.length), 'voting power ' + int(total));
      fill(valsBody, table([
        { label: 'Address', cell: x => h('span', { class: 'mono', title: x.address }, short(x.address, 10, 6)) },
        { label: 'Voting power', num: true, cell: x => int(x.voting_power) },
        { label: 'Share', num: true, cell: x => pct(num(x.voting_power) / (total || 1)) },
        { label: 'Proposer priority', num: true, cell: x => int(x.proposer_priority) },
        { label: 'Key', cell: x => x.pub_key ? h('span', { class: 'mono faint', title: x.pub_key.value }, (x.pub_key.type || '') + ' ' + short(x.pub_key.value, 8, 4)) : '' },
      ], v.validators));
    } else if (vs.reason.missing && st.status === 'fulfilled') {
      const v = st.value;
      setCard('c-vals', v.validator_address ? '≥ 1' : '?', 'this node: power ' + int(v.voting_power));
      fill(valsBody, h('p', { class: 'note-box' }, 'This node has no /v1/validators; it says only that it is validator ',
        h('code', null, v.validator_address || '—'), ' with voting power ' + int(v.voting_power) + '.'));
    } else {
      fill(valsBody, errorBox('Could not read the validator set', vs.reason));
    }
    rendered(pg);

    pg.on(async (kind, b) => {
      if (kind !== 'block') return;
      setCard('c-height', int(b.height), 'in sync');
      if (b.time) setCard('c-last', when(b.time), clock(b.time));
      let full = b;
      if (b.num_txs && !b.txs) { try { full = await get('/v1/blocks/' + b.height); } catch { /* keep the summary */ } }
      if (!pg.alive || blocks.some(x => x.height === full.height)) return;
      blocks = [full, ...blocks].sort((p, q) => q.height - p.height).slice(0, RECENT_BLOCKS);
      if (!list.isConnected) fill(blocksBody, list);
      const before = [...list.children].find(li => Number(li.dataset.height) < full.height);
      list.insertBefore(blockItem(full, true), before || null);
      while (list.children.length > RECENT_BLOCKS) list.lastChild.remove();
      blockTime();
    });
  }

  async function pageBlock(main, pg, hs) {
    const b = await get('/v1/blocks/' + hs).catch(e => e);
    if (!pg.alive) return;
    if (b instanceof Error) {
      main.append(head('Block ' + hs, null, h('a', { href: '#/' }, '← chain')), errorBox('Could not read block ' + hs, b));
      return;
    }
    main.append(head('Block #' + int(b.height), b.time ? [datetime(b.time), ' · ', when(b.time)] : null, h('a', { href: '#/' }, '← chain')),
      section('Header', null, h('dl', { class: 'kv' },
        h('dt', null, 'Hash'), h('dd', { class: 'mono' }, b.hash),
        h('dt', null, 'Proposer'), h('dd', { class: 'mono' }, b.proposer),
        h('dt', null, 'Previous'), h('dd', { class: 'mono' }, b.height > 1 ? h('a', { href: '#/block/' + (b.height - 1) }, b.last_block_hash) : b.last_block_hash || '—'),
        h('dt', null, 'App hash'), h('dd', { class: 'mono' }, b.app_hash),
        h('dt', null, 'Chain'), h('dd', null, b.chain_id),
        h('dt', null, 'Transactions'), h('dd', null, int(b.num_txs)))),
      section('Transactions', b.results_available === false ? 'results not stored on this node' : null,
        (b.txs || []).length ? (b.txs || []).map(txDetail) : h('p', { class: 'empty' }, 'This block has no transactions.'), { flush: true }),
      h('div', { class: 'pager' }, b.height > 1 ? h('a', { href: '#/block/' + (b.height - 1) }, '← #' + int(b.height - 1)) : null,
        h('a', { href: '#/block/' + (b.height + 1) }, '#' + int(b.height + 1) + ' →')));
  }

  function txDetail(tx) {
    const f = (tx.message && tx.message.fields) || {};
    return h('div', { class: 'tx-detail' },
      h('ul', { class: 'txs' }, describeTx(tx)),
      h('dl', { class: 'kv' },
        h('dt', null, 'Hash'), h('dd', { class: 'mono' }, h('a', { href: '#/tx/' + tx.hash }, tx.hash)),
        tx.height ? [h('dt', null, 'Block'), h('dd', null, blockLink(tx.height), tx.index != null ? ' · index ' + tx.index : '')] : null,
        h('dt', null, 'Result'), h('dd', null, tx.code ? badge((tx.code_name || 'failed') + ' (' + tx.code + ')', 'bad') : badge('ok', 'good'), tx.log ? [' ', tx.log] : ''),
        h('dt', null, 'Signer'), h('dd', null, addr(tx.signer, { full: true })),
        h('dt', null, 'Nonce · fee'), h('dd', null, int(tx.nonce), ' · ', amount(tx.fee || 0)),
        h('dt', null, 'Message'), h('dd', null, h('code', null, (tx.message && tx.message.type) || tx.msg_type || '?'),
          Object.keys(f).length ? h('ul', { class: 'events' }, Object.entries(f).map(([k, v]) =>
            h('li', null, k + ': ', /amount|burn|fee|stake/.test(k) && /^\d+$/.test(v) ? amount(v)
              : typeof v === 'string' && /^5[1-9A-HJ-NP-Za-km-z]{46,47}$/.test(v) ? addr(v, { full: true })
                : h('code', null, typeof v === 'object' ? JSON.stringify(v) : String(v))))) : null,
          tx.decode_error || (tx.message && tx.message.error) ? h('div', { class: 'muted' }, 'not decoded: ' + (tx.decode_error || tx.message.error)) : null),
        (tx.events || []).filter(e => e.type !== 'tx').length ? [h('dt', null, 'Events'), h('dd', null, h('ul', { class: 'events' },
          tx.events.filter(e => e.type !== 'tx').map(e => h('li', null, h('b', null, e.type), ' ',
            Object.entries(e.attributes || {}).map(([k, v]) => [k, '=', h('code', null, v), ' '])))))] : null));
  }

  async function pageTx(main, pg, hash) {
    const tx = await get('/v1/txs/' + hash).catch(e => e);
    if (!pg.alive) return;
    main.append(head('Transaction', null, h('a', { href: '#/' }, '← chain')));
    if (tx instanceof Error) { main.append(errorBox('Could not read transaction ' + short(hash, 8, 6), tx)); return; }
    main.append(section('Transaction', null, txDetail(tx), { flush: true }));
  }

  // ---------- subnets ----------

  async function pageSubnets(main, pg) {
    main.append(head('Subnets', 'Each subnet\'s share of the block emission, its owner, its epoch and what it costs to join.'));
    const body = h('div', null, loading('subnets'));
    main.append(section('All subnets', null, body, { flush: true, id: 'subnets' }));
    let list;
    try { list = await subnetList(); } catch (e) { if (pg.alive) fill(body, errorBox('Could not read the subnets', e)); return; }
    if (!pg.alive) return;
    const totalEm = list.reduce((a, x) => a + Number(big(x.emission_per_block)), 0);
    fill(body, table([
      { label: 'Netuid', cell: x => h('a', { href: '#/subnet/' + x.netuid, class: 'mono' }, x.netuid) },
      { label: 'Mechanism', cell: x => badge(x.mechanism || 'yuma', x.mechanism === 'root' ? '' : 'kind') },
      { label: 'Owner', cell: x => x.owner ? addr(x.owner) : h('span', { class: 'faint' }, 'none (root)') },
      { label: 'Neurons', num: true, cell: x => [int(x.n), x.hyperparams ? h('span', { class: 'faint' }, ' / ' + int(x.hyperparams.max_uids)) : null] },
      { label: 'Tempo', num: true, cell: x => int(x.hyperparams ? x.hyperparams.tempo : 0) },
      {
        label: 'Emission share', num: true, cell: x => {
          const share = totalEm ? Number(big(x.emission_per_block)) / totalEm : 0;
          return h('span', { class: 'cellbar', title: tokens(x.emission_per_block) + ' tokens per block' }, pct(share),
            h('span', { class: 'fill', style: { width: (share * 100).toFixed(1) + '%' } }));
        },
      },
      { label: 'Registration cost', num: true, cell: x => amount(x.burn) },
      { label: 'Next epoch', num: true, cell: x => x.next_epoch_block ? blockLink(x.next_epoch_block) : h('span', { class: 'faint' }, '—') },
    ], list, { empty: 'No subnets yet.' }));
    rendered(pg);
  }

  // The metagraph's columns: key, label, the value it sorts by, its cell.
  const MG_COLS = [
    { key: 'uid', label: 'UID', num: true, v: (m, i) => m.uids[i] },
    { key: 'hotkey', label: 'Hotkey', v: (m, i) => m.hotkeys[i], cell: (m, i) => addr(m.hotkeys[i]) },
    { key: 'stake', label: 'Stake', num: true, v: (m, i) => Number(big(m.stake[i])), cell: (m, i) => amount(m.stake[i], false) },
    { key: 'incentive', label: 'Incentive', num: true, v: (m, i) => num(m.incentive[i]), cell: (m, i, x) => bar(fmtRatio(m.incentive[i]), ratio(m.incentive[i]) / (x.incentive || 1)) },
    { key: 'dividends', label: 'Dividends', num: true, v: (m, i) => num(m.dividends[i]), cell: (m, i, x) => bar(fmtRatio(m.dividends[i]), ratio(m.dividends[i]) / (x.dividends || 1)) },
    { key: 'consensus', label: 'Consensus', num: true, v: (m, i) => num(m.consensus[i]), cell: (m, i) => fmtRatio(m.consensus[i]) },
    { key: 'trust', label: 'Trust', num: true, title: 'validator trust', v: (m, i) => num((m.validator_trust || m.trust || [])[i]), cell: (m, i) => fmtRatio((m.validator_trust || m.trust || [])[i]) },
    { key: 'emission', label: 'Emission', num: true, v: (m, i) => Number(big(m.emission[i])), cell: (m, i) => amount(m.emission[i], false) },
    { key: 'active', label: 'Active', v: (m, i) => (m.active[i] ? 1 : 0), cell: (m, i) => (m.active[i] ? badge('active', 'good') : badge('inactive', 'warn')) },
    { key: 'axon', label: 'Axon', v: (m, i) => axonText(m.axons && m.axons[i]), cell: (m, i) => { const t = axonText(m.axons && m.axons[i]); return t ? h('code', null, t) : h('span', { class: 'faint' }, '—'); } },
  ];
  const axonText = a => (a && a.ip ? a.ip + ':' + a.port : '');
  function bar(text, frac) {
    return h('span', { class: 'cellbar' }, text, h('span', { class: 'fill', style: { width: (Math.max(0, Math.min(1, frac)) * 100).toFixed(1) + '%' } }));
  }

  // Each subnet's epochs seen this session: netuid → Map(block → {block, uids, incentive,
  // emission}); kept across pages so the plots keep what live updates brought.
  const histories = new Map();
  const sorts = new Map(); // netuid → the metagraph table's order
  function remember(netuid, mg) {
    if (!histories.has(netuid)) histories.set(netuid, new Map());
    histories.get(netuid).set(mg.block, { block: mg.block, uids: mg.uids, hotkeys: mg.hotkeys, incentive: mg.incentive, emission: mg.emission.map(x => Number(big(x))) });
  }

  async function pageSubnet(main, pg, ns) {
    const netuid = Number(ns);
    main.append(head('Subnet ' + netuid, null, h('a', { href: '#/subnets' }, '← subnets')));
    const cardsEl = h('div', { class: 'cards' });
    const plotsBody = h('div', { class: 'grid-2' }, loading('the epochs'));
    const histNote = h('span', { class: 'note' });
    const tableBody = h('div', null, loading('the metagraph'));
    const mgNote = h('span', { class: 'note' });
    main.append(cardsEl,
      h('section', { class: 'section', id: 'plots' }, h('div', { class: 'section-head' }, h('h2', null, 'Incentive and emission per uid'), histNote), h('div', { class: 'section-body' }, plotsBody)),
      h('section', { class: 'section', id: 'metagraph' }, h('div', { class: 'section-head' }, h('h2', null, 'Metagraph'), mgNote), h('div', { class: 'section-body flush' }, tableBody)));

    let sn, mg;
    try {
      [sn, mg] = await Promise.all([get('/v1/query/subnets/subnet/' + netuid), get('/v1/query/subnets/metagraph_lite/' + netuid)]);
    } catch (e) {
      if (!pg.alive) return;
      cardsEl.replaceWith(errorBox('Could not read subnet ' + netuid, e));
      plotsBody.closest('section').remove();
      tableBody.closest('section').remove();
      return;
    }
    if (!pg.alive) return;
    const hp = sn.hyperparams || {};
    const showCards = () => {
      fill(cardsEl,
        card('Neurons', int(sn.n), 'of ' + int(hp.max_uids) + ' slots'),
        card('Mechanism', sn.mechanism || 'yuma', 'owner ' + (sn.owner ? short(sn.owner) : 'none'), { small: true }),
        card('Emission', tokens(sn.emission_per_block), 'tokens per block'),
        card('Tempo', int(hp.tempo), 'blocks between epochs'),
        card('Next epoch', sn.next_epoch_block ? '#' + int(sn.next_epoch_block) : '—', '', { id: 's-next' }),
        card('Registration', tokens(sn.burn), 'tokens burned to join'));
      updateNext();
    };
    const updateNext = () => {
      if (!sn.next_epoch_block) return;
      const left = sn.next_epoch_block - live.height;
      const c = document.getElementById('s-next');
      if (c) $('.hint', c).textContent = live.height ? (left > 0 ? 'in ' + left + (left === 1 ? ' block' : ' blocks') : 'running now') : '';
    };
    showCards();
    if (sn.owner) fill($('.hint', cardsEl.children[1]), 'owner ', addr(sn.owner));

    // The table.
    const sort = sorts.get(netuid) || { key: 'uid', dir: 1 };
    // The header is drawn once and only its aria-sort changes, so that a click on a column
    // is never lost to a redraw when new data arrive; the body is drawn again each time.
    const heads = MG_COLS.map(c => h('th', { class: c.num ? 'num' : '', scope: 'col', dataset: { key: c.key } },
      h('button', {
        type: 'button', title: 'Sort by ' + (c.title || c.label.toLowerCase()), onclick: () => {
          if (sort.key === c.key) sort.dir = -sort.dir; else { sort.key = c.key; sort.dir = c.num ? -1 : 1; }
          sorts.set(netuid, sort);
          drawTable();
        },
      }, c.label)));
    const tbody = h('tbody');
    const tbl = h('table', { class: 'metagraph', id: 'metagraph-table' }, h('thead', null, h('tr', null, heads)), tbody);
    const drawTable = () => {
      const n = mg.uids.length, idx = [...Array(n).keys()];
      const col = MG_COLS.find(c => c.key === sort.key) || MG_COLS[0];
      idx.sort((a, b) => {
        const x = col.v(mg, a), y = col.v(mg, b);
        return (x < y ? -1 : x > y ? 1 : 0) * sort.dir || mg.uids[a] - mg.uids[b];
      });
      const maxes = { incentive: Math.max(...mg.incentive.map(ratio), 0), dividends: Math.max(...mg.dividends.map(ratio), 0) };
      const colors = colorMap();
      MG_COLS.forEach((c, i) => {
        if (c.key === sort.key) heads[i].setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
        else heads[i].removeAttribute('aria-sort');
      });
      fill(tbody, idx.length ? idx.map(i => h('tr', { dataset: { uid: mg.uids[i] } }, MG_COLS.map(c => h('td', { class: c.num ? 'num' : '', dataset: { v: c.v(mg, i) } },
          c.key === 'uid' ? [colors.has(mg.uids[i]) ? h('span', { class: 'swatch', style: { background: colors.get(mg.uids[i]) } }) : null, mg.uids[i]]
            : c.cell ? c.cell(mg, i, maxes) : c.v(mg, i)))))
          : h('tr', null, h('td', { colspan: MG_COLS.length, class: 'empty' }, 'No neurons registered yet.')));
      mgNote.textContent = 'at block ' + int(mg.block) + ' · ' + n + (n === 1 ? ' neuron' : ' neurons') + ' · click a column to sort';
    };
    fill(tableBody, h('div', { class: 'table-wrap' }, tbl));

    // The history: the metagraph at the last epochs' blocks, read at past heights.
    remember(netuid, mg);
    let historyMode = 'past';
    const period = (hp.tempo || 0) + 1;
    const past = [];
    if (hp.tempo && sn.last_epoch_block) {
      for (let k = 0, b = sn.last_epoch_block; k < HISTORY_EPOCHS && b > Math.max(sn.created_at || 0, 0); k++, b -= period) past.push(b);
    }
    const hist = histories.get(netuid);
    const want = past.filter(b => !hist.has(b));
    const got = await Promise.allSettled(want.map(b => get('/v1/query/subnets/metagraph_lite/' + netuid + '?height=' + b)));
    if (!pg.alive) return;
    got.forEach(r => { if (r.status === 'fulfilled') remember(netuid, r.value); });
    if (got.some(r => r.status === 'rejected')) historyMode = 'live';

    // colorMap: the uids the plots draw (the top 10 by emission over the history) → colour.
    let plotted = [];
    function colorMap() { return new Map(plotted.map((u, i) => [u, PALETTE[i % PALETTE.length]])); }
    const epochs = () => {
      // One sample per epoch: the state at an epoch block, or the latest state.
      const all = [...hist.values()].sort((a, b) => a.block - b.block);
      const byEpoch = new Map();
      for (const e of all) {
        const epochBlock = sn.last_epoch_block && period > 1 ? e.block - ((e.block - sn.last_epoch_block) % period + period) % period : e.block;
        byEpoch.set(epochBlock, e);
      }
      return [...byEpoch.entries()].sort((a, b) => a[0] - b[0]).slice(-HISTORY_EPOCHS * 2);
    };
    const drawPlots = () => {
      const eps = epochs();
      const xs = eps.map(e => e[0]);
      const uids = [...new Set(eps.flatMap(e => e[1].uids))].sort((a, b) => a - b);
      const at = (e, uid, k) => { const i = e.uids.indexOf(uid); return i < 0 ? null : e[k][i]; };
      const totalEm = uid => eps.reduce((a, e) => a + (at(e[1], uid, 'emission') || 0), 0);
      const totalInc = uid => eps.reduce((a, e) => a + (at(e[1], uid, 'incentive') || 0), 0);
      plotted = uids.filter(u => totalEm(u) > 0 || totalInc(u) > 0).sort((a, b) => totalEm(b) - totalEm(a) || a - b).slice(0, 10);
      const colors = colorMap();
      const incUids = plotted.filter(u => totalInc(u) > 0);
      const more = plotted.length === 10 && uids.length > 10 ? ' (the 10 uids with the most emission, of ' + uids.length + ')' : '';
      const cw = plotsBody.clientWidth || 640, w = Math.round(Math.max(300, Math.min(720, cw >= 940 ? (cw - 20) / 2 : cw)));
      plotsBody.dataset.w = w;
      if (!xs.length || !plotted.length) {
        fill(plotsBody, h('p', { class: 'note-box' }, 'No incentive or emission yet: the plots fill in as the subnet\'s epochs run.'));
      } else {
        const incSeries = incUids.map(u => ({ key: u, label: 'uid ' + u, color: colors.get(u), values: eps.map(e => { const v = at(e[1], u, 'incentive'); return v == null ? null : ratio(v); }) }));
        const emSeries = plotted.map(u => ({ key: u, label: 'uid ' + u, color: colors.get(u), values: eps.map(e => (at(e[1], u, 'emission') || 0) / 1e9) }));
        const incMax = Math.max(...incSeries.flatMap(x => x.values.filter(v => v != null)), 0);
        fill(plotsBody,
          h('figure', { class: 'fig', id: 'plot-incentive' }, h('figcaption', { class: 'muted' }, 'Incentive per uid by epoch' + more),
            incSeries.length ? linePlot('Incentive per uid over the last epochs', xs, incSeries, (v, exact) => (exact ? v.toFixed(4) : v.toFixed(2)), incMax, w)
              : h('p', { class: 'note-box' }, 'No miner has incentive yet.')),
          h('figure', { class: 'fig', id: 'plot-emission' }, h('figcaption', { class: 'muted' }, 'Emission per uid by epoch, tokens' + more),
            stackPlot('Emission per uid over the last epochs', xs, emSeries, (v, exact) => (exact ? v.toFixed(4) + ' tokens' : v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2)), w)));
      }
      histNote.textContent = historyMode === 'past'
        ? xs.length + (xs.length === 1 ? ' epoch' : ' epochs') + ', read from the node at past heights' + (xs.length ? ' (blocks ' + xs[0] + '–' + xs[xs.length - 1] + ')' : '')
        : xs.length + (xs.length === 1 ? ' epoch' : ' epochs') + ' · the node keeps no past state here, so the plots grow from live updates while this page is open';
      histNote.dataset.mode = historyMode;
    };
    drawPlots();
    drawTable();
    rendered(pg);
    let resizeTimer = 0;
    const onResize = () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        const cw = plotsBody.clientWidth, w = Math.round(Math.max(300, Math.min(720, cw >= 940 ? (cw - 20) / 2 : cw)));
        if (pg.alive && String(w) !== plotsBody.dataset.w) drawPlots();
      }, 150);
    };
    window.addEventListener('resize', onResize);
    pg.cleanups.push(() => window.removeEventListener('resize', onResize));

    // Live: after an epoch (an epoch event, or the block it was due), read the subnet again.
    let refreshing = false;
    const refresh = async () => {
      if (refreshing) return;
      refreshing = true;
      try {
        const [s2, m2] = await Promise.all([get('/v1/query/subnets/subnet/' + netuid), get('/v1/query/subnets/metagraph_lite/' + netuid)]);
        if (!pg.alive) return;
        sn = s2; mg = m2;
        remember(netuid, mg);
        showCards();
        if (sn.owner) fill($('.hint', cardsEl.children[1]), 'owner ', addr(sn.owner));
        drawPlots();
        drawTable();
      } catch (e) {
        if (pg.alive) banner('Could not refresh subnet ' + netuid + ': ' + e.message);
      } finally { refreshing = false; }
    };
    pg.on((kind, d) => {
      if (kind === 'epoch' && Number(d.netuid) === netuid) refresh();
      if (kind === 'block') {
        updateNext();
        if (sn.next_epoch_block && d.height >= sn.next_epoch_block && !(live.mode === 'sse' && d.height === sn.next_epoch_block)) refresh();
      }
    });
  }

  // ---------- account ----------

  async function pageAccount(main, pg, a) {
    main.append(head('Account', null, h('a', { href: '#/' }, '← chain')));
    let acct;
    try { acct = await get('/v1/accounts/' + encodeURIComponent(a)); } catch (e) {
      if (pg.alive) main.append(errorBox('Could not read the account ' + short(a, 10, 6), e));
      return;
    }
    if (!pg.alive) return;
    const address = acct.address;
    main.append(h('p', { class: 'sub mono', id: 'account-address' }, address, copyButton(address)));
    const cardsEl = h('div', { class: 'cards' },
      card('Balance', tokensBrief(acct.balance), 'tokens, free', { id: 'a-balance', title: exactTokens(acct.balance) }),
      card('Staked', '…', 'tokens, by this coldkey', { id: 'a-staked' }),
      card('Nonce', int(acct.nonce), 'transactions sent'),
      card('Public key', short(acct.public_key, 8, 6), 'hex', { small: true }));
    const stakeBody = h('div', null, loading('stake'));
    const regBody = h('div', null, loading('registrations'));
    const txBody = h('div', null, loading('transactions'));
    const txNote = h('span', { class: 'note' });
    main.append(cardsEl,
      h('div', { class: 'grid-2' },
        section('Stake positions', 'as a coldkey', stakeBody, { flush: true, id: 'stake' }),
        section('Registrations', 'its uids, as a hotkey or through the hotkeys it owns', regBody, { flush: true, id: 'registrations' })),
      h('section', { class: 'section', id: 'account-txs' }, h('div', { class: 'section-head' }, h('h2', null, 'Recent transactions'), txNote), h('div', { class: 'section-body flush' }, txBody)));

    const [pos, hot, regs, txs] = await Promise.allSettled([
      get('/v1/query/stake/coldkey/' + address), get('/v1/query/stake/hotkey/' + address),
      registrations(address), accountTxs(address)]);
    if (!pg.alive) return;

    if (pos.status === 'fulfilled') {
      const total = pos.value.reduce((s, p) => s + big(p.stake), 0n);
      setCard('a-staked', tokensBrief(total), 'tokens, on ' + pos.value.length + (pos.value.length === 1 ? ' hotkey' : ' hotkeys'));
      const rows = pos.value;
      const hv = hot.status === 'fulfilled' ? hot.value : null;
      fill(stakeBody, table([
        { label: 'Hotkey', cell: p => addr(p.hotkey) },
        { label: 'Stake', num: true, cell: p => amount(p.stake) },
      ], rows, { empty: 'This coldkey stakes nothing.' }),
      hv && big(hv.total_stake) > 0n ? h('p', { class: 'note-box' }, 'As a hotkey it holds ', amount(hv.total_stake), ' of stake from ',
        int(hv.nominators.length), hv.nominators.length === 1 ? ' coldkey' : ' coldkeys', hv.owner ? [', owned by ', addr(hv.owner)] : '',
        ', take ', pct(ratio(hv.take), 2), '.') : null);
    } else {
      setCard('a-staked', '—', 'unavailable');
      fill(stakeBody, errorBox('Could not read the stake positions', pos.reason));
    }

    if (regs.status === 'fulfilled') {
      fill(regBody, table([
        { label: 'Subnet', cell: r => subnetLink(r.netuid) },
        { label: 'UID', num: true, cell: r => r.uid },
        { label: 'Hotkey', cell: r => (r.as === 'hotkey' ? h('span', { class: 'muted' }, 'this key') : addr(r.hotkey)) },
        { label: 'Incentive', num: true, cell: r => fmtRatio(r.incentive) },
        { label: 'Emission', num: true, cell: r => amount(r.emission, false) },
        { label: 'Active', cell: r => (r.active ? badge('active', 'good') : badge('inactive', 'warn')) },
      ], regs.value, { empty: 'No uid on any subnet.' }));
    } else {
      fill(regBody, errorBox('Could not read the registrations', regs.reason));
    }

    if (txs.status === 'fulfilled') {
      txNote.textContent = txs.value.note;
      fill(txBody, txs.value.txs.length
        ? h('ul', { class: 'blocks', id: 'account-tx-list' }, txs.value.txs.map(tx => acctTx(tx, address)))
        : h('p', { class: 'empty' }, 'No transactions yet.'));
    } else {
      fill(txBody, errorBox('Could not read the transactions', txs.reason));
    }
    rendered(pg);

    // Live: a block with a tx from or to this account refreshes the balance and the list.
    pg.on(async (kind, b) => {
      if (kind !== 'block' || !b.num_txs) return;
      const full = b.txs ? b : await get('/v1/blocks/' + b.height).catch(() => null);
      if (!pg.alive || !full || !(full.txs || []).some(t => t.signer === address || JSON.stringify(t.events || []).includes(address))) return;
      const [a2, t2] = await Promise.allSettled([get('/v1/accounts/' + address), accountTxs(address)]);
      if (!pg.alive) return;
      if (a2.status === 'fulfilled') setCard('a-balance', tokensBrief(a2.value.balance));
      if (t2.status === 'fulfilled' && t2.value.txs.length) {
        const list = $('#account-tx-list');
        const items = t2.value.txs.map(tx => acctTx(tx, address, tx.height === b.height));
        if (list) fill(list, ...items); else fill(txBody, h('ul', { class: 'blocks', id: 'account-tx-list' }, items));
      }
    });
  }

  // acctTx is a transaction of an account's list, in one line.
  function acctTx(tx, address, fresh) {
    return h('li', { class: 'block acct-tx' + (fresh ? ' fresh' : ''), dataset: { hash: tx.hash, height: tx.height } },
      h('div', { class: 'block-line' }, h('span', { class: 'height' }, blockLink(tx.height)),
        h('span', { class: 'age' }, tx.time ? when(tx.time) : ''),
        tx.signer === address ? badge('sent') : badge('received', 'good'),
        h('ul', { class: 'txs inline' }, describeTx(tx))));
  }

  // registrations are the uids the address holds as a hotkey (the node's registrations
  // query) and those of the hotkeys it owns as a coldkey (read from the metagraphs of up
  // to 32 subnets).
  async function registrations(address) {
    const out = new Map();
    const put = (r, as) => { const k = r.netuid + '/' + r.uid; if (!out.has(k)) out.set(k, { ...r, as }); };
    try {
      for (const r of await get('/v1/query/subnets/registrations/' + address)) put(r, 'hotkey');
    } catch (e) {
      if (!(e.status === 404 && /unknown subnets query/.test(e.message))) throw e; // an older node: the scan finds them
    }
    const list = await subnetList();
    await Promise.all(list.filter(x => x.n > 0).slice(0, 32).map(async x => {
      const m = await get('/v1/query/subnets/metagraph_lite/' + x.netuid);
      m.uids.forEach((uid, i) => {
        const hot = m.hotkeys[i] === address;
        if (!hot && m.coldkeys[i] !== address) return;
        put({ netuid: x.netuid, uid, hotkey: m.hotkeys[i], incentive: m.incentive[i], dividends: m.dividends[i], emission: m.emission[i], active: m.active[i] }, hot ? 'hotkey' : 'coldkey');
      });
    }));
    return [...out.values()].sort((p, q) => p.netuid - q.netuid || p.uid - q.uid);
  }

  async function accountTxs(address) {
    try {
      const r = await get('/v1/accounts/' + address + '/txs?limit=25');
      return { txs: r.txs || [], note: 'sent by it or transferring to it, newest first' };
    } catch (e) {
      if (!e.missing) throw e;
      const blocks = await recentBlocks(100);
      const txs = blocks.flatMap(b => (b.txs || []).map(t => ({ ...t, time: t.time || b.time })))
        .filter(t => t.signer === address || JSON.stringify(t.events || []).includes(address));
      return { txs, note: 'found in the last ' + blocks.length + ' blocks (this node has no account index)' };
    }
  }

  // ---------- gateway ----------

  async function pageGateway(main, pg) {
    main.append(head('Gateway', 'The OpenAI-compatible gateway\'s traffic: requests, latency and how it spreads them over the miners.'));
    const body = h('div', null, loading('the gateway\'s address'));
    main.append(body);
    let cfg;
    try { cfg = await explorerConfig(); } catch (e) { if (pg.alive) fill(body, errorBox('Could not read the explorer\'s configuration', e)); return; }
    if (!pg.alive) return;
    const gw = (params.get('gateway') || cfg.gateway_url || '').replace(/\/+$/, '').replace(/\/v1$/, '');
    if (!gw) {
      fill(body, h('div', { class: 'note-box' }, 'This node knows no gateway. ',
        cfg.missing ? 'It has no /v1/explorer/config. ' : '',
        'Start the node with ', h('code', null, '--explorer.gateway-url=http://host:port'), ' (', h('code', null, 'tessera devnet'),
        ' sets it to its own gateway), or open this page with ', h('code', null, '?gateway=http://host:port'), '.'));
      rendered(pg);
      return;
    }
    const statsURL = gw + '/v1/stats';
    const cards = h('div', { class: 'cards' }, card('Requests', '…', '', { id: 'g-req' }), card('Errors', '…', '', { id: 'g-err' }),
      card('p50 latency', '…', '', { id: 'g-p50' }), card('p90 latency', '…', '', { id: 'g-p90' }), card('p99 latency', '…', '', { id: 'g-p99' }),
      card('Rate', '…', 'requests per second', { id: 'g-rate' }));
    const minersBody = h('div', null);
    const statusBody = h('div', null);
    const rateBody = h('div', null);
    const err = h('div', null);
    fill(body, h('p', { class: 'sub' }, 'From ', h('code', null, statsURL), ', every 2 s.'), err, cards,
      section('Share per miner', 'successful answers in the window', minersBody, { id: 'per-miner' }),
      h('div', { class: 'grid-2' }, section('Requests per second', 'since this page opened', rateBody), section('Answers by status', null, statusBody, { flush: true })));
    const rates = [];
    let last = null;
    const ms = v => (num(v) < 10 ? num(v).toFixed(1) : int(v)) + ' ms';
    const poll = async () => {
      let st;
      try { st = await get(statsURL, { what: 'the gateway', timeout: 5000 }); } catch (e) {
        if (!pg.alive) return;
        fill(err, errorBox('Could not read the gateway\'s stats', e));
        rendered(pg);
        return;
      }
      if (!pg.alive) return;
      fill(err);
      const now = performance.now();
      if (last) rates.push({ t: Date.now(), r: Math.max(0, (st.requests_total - last.n) / ((now - last.t) / 1000)) });
      else if (st.window && st.window.seconds > 0) setCard('g-rate', (st.window.requests / st.window.seconds).toFixed(1), 'per second, over the window');
      if (rates.length > 90) rates.shift();
      last = { n: st.requests_total, t: now };
      const lat = st.latency_ms || {};
      setCard('g-req', int(st.requests_total), st.since ? 'since ' + datetime(st.since) : 'since it started');
      setCard('g-err', int(st.errors_total), st.requests_total ? pct(st.errors_total / st.requests_total) + ' of requests' : '');
      setCard('g-p50', ms(lat.p50), 'median');
      setCard('g-p90', ms(lat.p90), st.window ? 'last ' + int(st.window.requests) + ' requests' : '');
      setCard('g-p99', ms(lat.p99), st.window ? 'over ' + num(st.window.seconds).toFixed(0) + ' s' : '');
      if (rates.length) setCard('g-rate', rates[rates.length - 1].r.toFixed(1), 'per second, now');
      const miners = st.per_miner || [];
      fill(minersBody, miners.length ? miners.map(m => h('div', { class: 'hbar', dataset: { uid: m.uid } },
        h('span', null, h('a', { href: '#/subnet/' + (m.netuid ?? 1) }, 'uid ' + m.uid), ' ', h('span', { class: 'faint' }, addr(m.hotkey))),
        h('span', { class: 'track', title: int(m.requests) + ' requests, ' + int(m.errors) + ' errors, p50 ' + ms(m.p50_ms) }, h('span', { style: { width: (num(m.share) * 100).toFixed(1) + '%' } })),
        h('span', { class: 'pct' }, pct(num(m.share))))).concat(table([
        { label: 'Miner', cell: m => ['uid ' + m.uid + ' ', addr(m.hotkey)] },
        { label: 'Requests', num: true, cell: m => int(m.requests) },
        { label: 'Errors', num: true, cell: m => int(m.errors) },
        { label: 'p50', num: true, cell: m => ms(m.p50_ms) },
        { label: 'Share', num: true, cell: m => pct(num(m.share)) },
      ], miners)) : h('p', { class: 'empty' }, 'No requests to miners in the window yet. Send the gateway a chat completion to see it here.'));
      const codes = Object.entries(st.by_status || {}).sort((a, b) => b[1] - a[1]);
      fill(statusBody, table([
        { label: 'Status', cell: c => badge(c[0], c[0] < 400 ? 'good' : c[0] < 500 ? 'warn' : 'bad') },
        { label: 'Answers', num: true, cell: c => int(c[1]) },
        { label: 'Share', num: true, cell: c => pct(c[1] / (st.requests_total || 1)) },
      ], codes, { empty: 'No requests yet.' }));
      fill(rateBody, rates.length > 1 ? ratePlot(rates, Math.round(Math.max(300, Math.min(720, rateBody.clientWidth || 600)))) : h('p', { class: 'muted' }, 'Measuring…'));
      rendered(pg);
    };
    await poll();
    pg.every(2000, poll);
  }

  function ratePlot(rates, w) {
    const xs = rates.map(r => clock(r.t));
    const ymax = niceMax(Math.max(...rates.map(r => r.r), 1));
    const W = w, H = 150, l = 40, r = 10, t = 10, b = 20, iw = W - l - r, ih = H - t - b;
    const xp = i => l + (iw * i) / Math.max(rates.length - 1, 1), yp = v => t + ih - (ih * v) / ymax;
    const svgEl = s('svg', { class: 'plot', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Requests per second' });
    for (let i = 0; i <= 2; i++) {
      const y = t + ih - (ih * i) / 2;
      svgEl.append(s('line', { class: i ? 'grid' : 'axis', x1: l, x2: W - r, y1: y, y2: y }), s('text', { x: l - 6, y: y + 4, 'text-anchor': 'end' }, ((ymax * i) / 2).toFixed(1)));
    }
    const d = rates.map((p, i) => (i ? 'L' : 'M') + xp(i).toFixed(1) + ' ' + yp(p.r).toFixed(1)).join('');
    svgEl.append(s('path', { d: d + `L${xp(rates.length - 1)} ${t + ih}L${l} ${t + ih}Z`, fill: 'rgba(94,234,212,0.12)' }),
      s('path', { class: 'line', d, stroke: '#5eead4' }),
      s('text', { x: l, y: H - 4 }, xs[0]), s('text', { x: W - r, y: H - 4, 'text-anchor': 'end' }, xs[xs.length - 1]));
    return svgEl;
  }

  // ---------- search, start ----------

  $('#search').addEventListener('submit', ev => {
    ev.preventDefault();
    const q = $('#q').value.trim();
    if (!q) return;
    if (/^#?\d+$/.test(q)) location.hash = '#/block/' + q.replace('#', '');
    else if (/^[0-9a-fA-F]{64}$/.test(q)) location.hash = '#/tx/' + q.toUpperCase();
    else location.hash = '#/account/' + encodeURIComponent(q);
    $('#q').blur();
  });

  window.addEventListener('hashchange', route);
  route();
  startLive();
})();
