/*
 * runfolio leaderboard: the experiment's runs as a sortable, filterable, paginated table,
 * with a column picker and run selection for the compare page.
 *
 * Input: <table data-leaderboard="ID"> names a <script type="application/json" id="ID">
 * block (see the site contract); the page provides #leaderboard-controls and
 * #leaderboard-pager. Every string in the data is untrusted: it reaches the DOM only
 * through textContent, createElement and setAttribute on inert attributes.
 *
 * Scale (10k rows x ~45 columns): sort and filter keys are computed once per column on
 * first use, comparisons only read typed arrays, and only the current page is rendered.
 * No fetch and only relative URLs, so the page works from file:// and under a sub-path.
 */
'use strict';

(function () {
  const PAGE_SIZES = [50, 100, 500];
  const DEFAULT_PAGE_SIZE = 100;
  const INPUT_DELAY_MS = 150;
  const DASH = '\u2014';
  const MISSING = Object.freeze({ text: DASH, missing: true });
  const GROUPS = [
    ['run', 'Run'],
    ['params', 'Parameters'],
    ['metrics', 'Metrics'],
    ['tags', 'Tags'],
  ];
  const KEYED_KINDS = new Set(['number', 'duration', 'time']);
  const NUMERIC_KINDS = new Set(['number', 'duration']);
  const FILTER_HELP = {
    number: 'A value, or >x, >=x, <x, <=x, =x, !=x, a..b',
    duration: 'Seconds, or with a unit (90s, 5m, 2h): >x, <=x, a..b',
    time: 'Text, or dates: >2026-11-01, <=2026-11-27 12:00, a..b',
  };
  // Natural ("run 2" < "run 10"), case-insensitive order for text columns.
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'accent' });

  // ---- values ---------------------------------------------------------------------------

  const SPECIAL_NUMBERS = {
    nan: NaN,
    inf: Infinity,
    '+inf': Infinity,
    infinity: Infinity,
    '-inf': -Infinity,
    '-infinity': -Infinity,
  };
  const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

  /** Number of a cell value: JSON number, "NaN"/"inf"/"-inf", else NaN (missing). */
  function toNumber(value) {
    if (typeof value === 'number') return value;
    if (typeof value !== 'string') return NaN;
    const text = value.trim().toLowerCase();
    if (text in SPECIAL_NUMBERS) return SPECIAL_NUMBERS[text];
    return NUMBER_TEXT.test(text) ? Number(text) : NaN;
  }

  /** Milliseconds of an ISO 8601 time; a time without a zone is UTC, as the store writes. */
  function toTime(value) {
    if (typeof value !== 'string' || value === '') return NaN;
    const zoneless = /T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(value);
    return Date.parse(zoneless ? value + 'Z' : value);
  }

  const pad = (n) => String(n).padStart(2, '0');
  const thousands = (n) => n.toLocaleString('en');

  function formatTime(ms) {
    const d = new Date(ms);
    return (
      `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
    );
  }

  /** Short form of a finite number: integers exact (ids, seeds), others 6 significant digits. */
  function formatNumber(x) {
    if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
    return String(Number(x.toPrecision(6)));
  }

  function formatDuration(seconds) {
    if (seconds < 0) return '-' + formatDuration(-seconds);
    if (seconds === 0) return '0s';
    if (seconds < 0.1) return `${Math.round(seconds * 1000)}ms`;
    if (seconds < 10) return `${seconds.toFixed(1)}s`;
    if (seconds < 59.5) return `${Math.round(seconds)}s`;
    const t = Math.round(seconds);
    if (t < 3600) return `${Math.floor(t / 60)}m ${pad(t % 60)}s`;
    if (t < 86400) return `${Math.floor(t / 3600)}h ${pad(Math.floor((t % 3600) / 60))}m`;
    return `${Math.floor(t / 86400)}d ${pad(Math.floor((t % 86400) / 3600))}h`;
  }

  function plainText(value) {
    if (value === null || value === undefined) return '';
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  }

  /**
   * What a cell shows: {text, title, missing, time}. Rendering, search and text filters all
   * use it, so a filter matches what the reader sees.
   */
  function display(col, value, row) {
    switch (col.kind) {
      case 'number': {
        if (value === null || value === undefined || value === '') return MISSING;
        const x = toNumber(value);
        if (Number.isNaN(x)) {
          const special = typeof value === 'string' && value.trim().toLowerCase() === 'nan';
          return { text: special ? 'NaN' : plainText(value) };
        }
        if (!Number.isFinite(x)) return { text: x > 0 ? 'inf' : '-inf' };
        return { text: formatNumber(x), title: String(x) };
      }
      case 'duration': {
        const s = toNumber(value);
        if (!Number.isFinite(s)) return MISSING;
        return { text: formatDuration(s), title: `${s} s` };
      }
      case 'time': {
        const ms = toTime(value);
        if (Number.isNaN(ms)) return value ? { text: plainText(value) } : MISSING;
        return { text: formatTime(ms), title: `${formatTime(ms)} UTC`, time: ms };
      }
      case 'link': {
        const text = plainText(value) || row.id;
        if (!text) return MISSING;
        return { text, title: text.length > 40 ? text : undefined };
      }
      default: {
        const text = plainText(value);
        if (text === '') return MISSING;
        return { text, title: text.length > 40 ? text : undefined };
      }
    }
  }

  /** The href if it is relative or http(s); anything else (javascript:, data:) is dropped. */
  function safeHref(href) {
    if (typeof href !== 'string' || href === '') return null;
    const scheme = /^\s*([a-z][a-z0-9+.-]*):/i.exec(href);
    if (scheme && !/^https?$/i.test(scheme[1])) return null;
    return href;
  }

  // ---- DOM helpers ------------------------------------------------------------------------

  /** createElement with attributes; `text` sets textContent. Attribute names are constants. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') node.textContent = value;
      else if (name === 'className') node.className = value;
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }

  function readStorage(key) {
    try {
      const parsed = JSON.parse(window.localStorage.getItem(key) || 'null');
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : null;
    } catch (err) {
      return null; // file:// or privacy settings may forbid storage; defaults then.
    }
  }

  function writeStorage(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (err) {
      // Storage is a convenience; without it the choice lasts for this page view.
    }
  }

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  // ---- filters ----------------------------------------------------------------------------

  const UNITS = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400 };
  const OPS = {
    '>': (x, v) => x > v,
    '>=': (x, v) => x >= v,
    '<': (x, v) => x < v,
    '<=': (x, v) => x <= v,
    '=': (x, v) => near(x, v),
    '==': (x, v) => near(x, v),
    '!=': (x, v) => !near(x, v),
  };

  /** Equal, or equal to the 6-digit form the table shows (so "=0.0123457" finds it). */
  function near(x, v) {
    return x === v || Number(x.toPrecision(6)) === v;
  }

  /** The number an operand means in a column of this kind, or null when it means none. */
  function operand(kind, text) {
    const t = text.trim();
    if (kind === 'time') {
      if (!/^\d{4}(-\d\d(-\d\d([ T]\d\d:\d\d(:\d\d)?)?)?)?$/.test(t)) return null;
      const ms = toTime(t.replace(' ', 'T'));
      return Number.isNaN(ms) ? null : ms;
    }
    if (kind === 'duration') {
      const m = /^(\d+\.?\d*|\.\d+)\s*(ms|s|min|m|h|d)?$/i.exec(t);
      return m ? Number(m[1]) * UNITS[(m[2] || 's').toLowerCase()] : null;
    }
    const x = toNumber(t);
    return t === '' || Number.isNaN(x) ? null : x;
  }

  /**
   * Parse one column filter: `>0.5`, `<=3`, `=2`, `!=2`, `1..5` (inclusive, either end
   * optional) on number, duration and time columns, else a case-insensitive substring.
   * Returns {numeric, op, lo, hi, needle} or {invalid: true}.
   */
  function parseFilter(kind, text) {
    const t = text.trim();
    if (KEYED_KINDS.has(kind)) {
      const cmp = /^(>=|<=|!=|==|=|>|<)\s*(.*)$/.exec(t);
      if (cmp) {
        const v = operand(kind, cmp[2]);
        return v === null ? { invalid: true } : { numeric: true, op: OPS[cmp[1]], value: v };
      }
      const dots = t.indexOf('..');
      if (dots >= 0) {
        const lo = t.slice(0, dots).trim();
        const hi = t.slice(dots + 2).trim();
        const lov = lo ? operand(kind, lo) : -Infinity;
        const hiv = hi ? operand(kind, hi) : Infinity;
        if (lov === null || hiv === null || (!lo && !hi)) return { invalid: true };
        return { numeric: true, op: (x) => x >= lov && x <= hiv, value: 0 };
      }
      if (NUMERIC_KINDS.has(kind)) {
        const v = operand(kind, t);
        if (v !== null) return { numeric: true, op: OPS['='], value: v };
      }
    }
    return { needle: t.toLowerCase() };
  }

  // ---- the leaderboard ----------------------------------------------------------------------

  function init(table) {
    const controls = document.getElementById('leaderboard-controls');
    const pager = document.getElementById('leaderboard-pager');
    const source = document.getElementById(table.getAttribute('data-leaderboard') || '');
    let data;
    try {
      data = JSON.parse(source ? source.textContent : '');
    } catch (err) {
      data = null;
    }
    if (!data || !Array.isArray(data.columns) || !Array.isArray(data.rows)) {
      if (controls) controls.append(el('p', { text: 'The runs table could not be read.' }));
      return;
    }

    const primaryKey = data.primary && data.primary.key;
    const columns = data.columns.map((c, index) => ({
      index,
      key: String(c.key),
      label: plainText(c.label) || String(c.key),
      kind: String(c.kind || 'text'),
      group: String(c.group || 'other'),
      numeric: NUMERIC_KINDS.has(c.kind),
      primary: primaryKey !== undefined && c.key === primaryKey,
    }));
    const rankCol = columns.find((c) => c.key === 'rank');
    const nameCol = columns.find((c) => c.kind === 'link');
    const rows = data.rows.map((r, index) => ({
      index,
      id: plainText(r.id),
      ref: plainText(r.ref),
      href: safeHref(r.href),
      values: Array.isArray(r.values) ? r.values : [],
      search: null, // lower-case text of the visible cells, built on first search
    }));
    const runName = (row) => (nameCol && plainText(row.values[nameCol.index])) || row.id;

    const storageKey = `runfolio:leaderboard:${plainText(data.experiment)}:columns`;
    const defaultHidden = new Set(Array.isArray(data.hidden) ? data.hidden.map(String) : []);
    const state = {
      sortCol: -1, // -1: the given (ranked) order
      sortDir: 1,
      search: '',
      filters: new Map(), // column index -> filter text
      hidden: new Set(),
      selected: new Set(), // row indices
      page: 0,
      pageSize: DEFAULT_PAGE_SIZE,
    };
    applyColumnChoice(readStorage(storageKey));

    // Per-column caches, filled on first use.
    const sortKeys = new Array(columns.length);
    const lowerTexts = new Array(columns.length);
    let sorted = null; // {col, dir, order}
    let shown = null; // row indices after sort and filters

    function applyColumnChoice(choice) {
      state.hidden = new Set();
      for (const col of columns) {
        const visible = choice && typeof choice[col.key] === 'boolean' ? choice[col.key] : null;
        if (visible === false || (visible === null && defaultHidden.has(col.key))) {
          state.hidden.add(col.index);
        }
      }
    }

    /** Sort keys of a column: numbers for every kind; text ranked by natural order. */
    function sortKey(col) {
      if (sortKeys[col.index]) return sortKeys[col.index];
      const keys = new Float64Array(rows.length);
      if (NUMERIC_KINDS.has(col.kind)) {
        rows.forEach((r, i) => (keys[i] = toNumber(r.values[col.index])));
      } else if (col.kind === 'time') {
        rows.forEach((r, i) => (keys[i] = toTime(r.values[col.index])));
      } else {
        // Rank the distinct texts once, so sorting compares numbers, not strings.
        const texts = rows.map((r) => {
          const d = display(col, r.values[col.index], r);
          return d.missing ? '' : d.text.toLowerCase();
        });
        const distinct = Array.from(new Set(texts)).filter((t) => t !== '');
        distinct.sort(collator.compare);
        const rank = new Map(distinct.map((t, k) => [t, k]));
        texts.forEach((t, i) => (keys[i] = t === '' ? NaN : rank.get(t)));
      }
      sortKeys[col.index] = keys;
      return keys;
    }

    function lowerText(col) {
      if (!lowerTexts[col.index]) {
        lowerTexts[col.index] = rows.map((r) => {
          const d = display(col, r.values[col.index], r);
          return d.missing ? '' : d.text.toLowerCase();
        });
      }
      return lowerTexts[col.index];
    }

    function searchText(row) {
      if (row.search === null) {
        const parts = [];
        for (const col of columns) {
          if (state.hidden.has(col.index)) continue;
          const d = display(col, row.values[col.index], row);
          if (!d.missing) parts.push(d.text.toLowerCase());
        }
        row.search = parts.join('\n'); // a newline cannot be typed, so no match spans cells
      }
      return row.search;
    }

    function order() {
      if (state.sortCol < 0) return rows.map((r) => r.index);
      if (sorted && sorted.col === state.sortCol && sorted.dir === state.sortDir) {
        return sorted.order;
      }
      const keys = sortKey(columns[state.sortCol]);
      const dir = state.sortDir;
      const result = rows.map((r) => r.index);
      // Missing and NaN last in both directions; ties keep the ranked order.
      result.sort((a, b) => {
        const x = keys[a];
        const y = keys[b];
        if (x !== x) return y !== y ? a - b : 1;
        if (y !== y) return -1;
        if (x < y) return -dir;
        if (x > y) return dir;
        return a - b;
      });
      sorted = { col: state.sortCol, dir, order: result };
      return result;
    }

    /** The active tests, one per non-empty filter of a visible column, plus the search. */
    function tests() {
      const list = [];
      for (const [index, text] of state.filters) {
        const col = columns[index];
        const input = filterInputs.get(index);
        const parsed = text.trim() ? parseFilter(col.kind, text) : null;
        if (input && parsed && parsed.invalid) input.setAttribute('aria-invalid', 'true');
        else if (input) input.removeAttribute('aria-invalid');
        if (!parsed || parsed.invalid || state.hidden.has(index)) continue;
        if (parsed.numeric) {
          const keys = sortKey(col);
          const { op, value } = parsed;
          list.push((i) => keys[i] === keys[i] && op(keys[i], value));
        } else {
          const texts = lowerText(col);
          const needle = parsed.needle;
          list.push((i) => texts[i].includes(needle));
        }
      }
      const needle = state.search.trim().toLowerCase();
      if (needle) list.push((i) => searchText(rows[i]).includes(needle));
      return list;
    }

    function visibleRows() {
      if (shown) return shown;
      const all = order();
      const checks = tests();
      shown = checks.length ? all.filter((i) => checks.every((test) => test(i))) : all;
      return shown;
    }

    function changed(resetPage) {
      shown = null;
      if (resetPage) state.page = 0;
      render();
    }

    // ---- controls ----

    const search = el('input', { type: 'search', id: 'lb-search', autocomplete: 'off' });
    const count = el('p', { className: 'lb-count', 'aria-live': 'polite' });
    const button = (className, text) => el('button', { type: 'button', className, text });
    const clearFilters = button('lb-clear-filters', 'Clear filters');
    const compare = button('lb-compare', '');
    const clearSelection = button('lb-clear-selection', 'Clear selection');
    const downloads = el('span', { className: 'lb-downloads' });
    const files = data.downloads || {};
    for (const [kind, label] of [['csv', 'Download CSV'], ['json', 'Download JSON']]) {
      const href = safeHref(files[kind]);
      if (href) downloads.append(el('a', { href, download: true, text: label }));
    }
    const picker = buildColumnPicker();

    if (controls) {
      controls.replaceChildren(
        el('div', { className: 'lb-search' }, [
          el('label', { for: 'lb-search', text: 'Search runs' }),
          search,
        ]),
        count,
        clearFilters,
        compare,
        clearSelection,
        downloads,
        picker,
      );
    }

    function buildColumnPicker() {
      const panel = el('div', { className: 'lb-columns-panel' });
      const known = new Set(GROUPS.map((g) => g[0]));
      const others = new Set(columns.map((c) => c.group).filter((g) => !known.has(g)));
      const groups = GROUPS.concat(Array.from(others, (g) => [g, g]));
      for (const [group, legend] of groups) {
        const members = columns.filter((c) => c.group === group);
        if (!members.length) continue;
        const fieldset = el('fieldset', {}, [el('legend', { text: legend })]);
        for (const col of members) {
          const id = `lb-col-${col.index}`;
          const box = el('input', {
            type: 'checkbox',
            id,
            className: 'lb-col-toggle',
            'data-col': col.index,
          });
          const label = el('label', { for: id, text: col.label });
          fieldset.append(el('div', { className: 'lb-check' }, [box, label]));
        }
        panel.append(fieldset);
      }
      const showAll = el('button', { type: 'button', text: 'Show all' });
      const reset = el('button', { type: 'button', text: 'Reset to default' });
      panel.append(el('div', { className: 'lb-columns-actions' }, [showAll, reset]));

      panel.addEventListener('change', (event) => {
        const box = event.target;
        if (!box.classList || !box.classList.contains('lb-col-toggle')) return;
        const index = Number(box.getAttribute('data-col'));
        if (box.checked) state.hidden.delete(index);
        else state.hidden.add(index);
        saveColumns();
        columnsChanged();
      });
      showAll.addEventListener('click', () => {
        state.hidden.clear();
        saveColumns();
        columnsChanged();
      });
      reset.addEventListener('click', () => {
        writeStorage(storageKey, null);
        applyColumnChoice(null);
        columnsChanged();
      });
      const summary = el('summary', { text: 'Columns' });
      return el('details', { className: 'lb-columns' }, [summary, panel]);
    }

    function saveColumns() {
      // Only choices that differ from the default are kept, so later defaults still apply.
      const choice = {};
      for (const col of columns) {
        const visible = !state.hidden.has(col.index);
        if (visible === defaultHidden.has(col.key)) choice[col.key] = visible;
      }
      writeStorage(storageKey, Object.keys(choice).length ? choice : null);
    }

    function columnsChanged() {
      for (const row of rows) row.search = null;
      buildHead();
      changed(false);
    }

    const onSearch = debounce(() => {
      state.search = search.value;
      changed(true);
    }, INPUT_DELAY_MS);
    search.addEventListener('input', onSearch);

    clearFilters.addEventListener('click', () => {
      state.search = '';
      search.value = '';
      state.filters.clear();
      for (const input of filterInputs.values()) {
        input.value = '';
        input.removeAttribute('aria-invalid');
      }
      changed(true);
    });

    compare.addEventListener('click', () => {
      const refs = Array.from(state.selected)
        .sort((a, b) => a - b)
        .map((i) => rows[i].ref);
      const base = safeHref(data.compareUrl) || '../../compare.html';
      if (refs.length < 2) return;
      window.location.assign(base + '?runs=' + encodeURIComponent(refs.join(',')));
    });

    clearSelection.addEventListener('click', () => {
      state.selected.clear();
      render();
    });

    // ---- table head ----

    const thead = table.tHead || table.createTHead();
    const tbody = table.tBodies[0] || table.createTBody();
    const filterInputs = new Map(); // column index -> input
    const headCells = new Map(); // column index -> th
    const selectPage = el('input', {
      type: 'checkbox',
      className: 'lb-select-page',
      'aria-label': 'Select all runs on this page',
    });

    function buildHead() {
      filterInputs.clear();
      headCells.clear();
      const head = el('tr', { className: 'lb-head' }, [
        el('th', { scope: 'col', className: 'lb-select-col' }, [selectPage]),
      ]);
      const filters = el('tr', { className: 'lb-filters' }, [
        el('td', { className: 'lb-select-col' }),
      ]);
      for (const col of columns) {
        if (state.hidden.has(col.index)) continue;
        const classes = [col.numeric ? 'num' : '', col.primary ? 'primary' : ''].join(' ').trim();
        const sort = el('button', { type: 'button', className: 'lb-sort', 'data-col': col.index }, [
          el('span', { className: 'lb-label', text: col.label }),
          el('span', { className: 'lb-sort-icon', 'aria-hidden': 'true' }),
        ]);
        sort.title = col.key; // the full key tells apart labels that read alike
        const th = el('th', { scope: 'col', className: classes || null }, [sort]);
        headCells.set(col.index, th);
        head.append(th);
        const input = el('input', {
          type: 'search',
          className: 'lb-filter',
          'data-col': col.index,
          'aria-label': `Filter ${col.label}`,
          placeholder: KEYED_KINDS.has(col.kind) ? '>, <, a..b' : 'contains',
          autocomplete: 'off',
          title: KEYED_KINDS.has(col.kind) ? FILTER_HELP[col.kind] : 'Case-insensitive text',
        });
        input.value = state.filters.get(col.index) || '';
        filterInputs.set(col.index, input);
        filters.append(el('td', { className: classes || null }, [input]));
      }
      thead.replaceChildren(head, filters);
      for (const box of picker.querySelectorAll('.lb-col-toggle')) {
        box.checked = !state.hidden.has(Number(box.getAttribute('data-col')));
      }
      updateSortMarks();
    }

    function updateSortMarks() {
      for (const [index, th] of headCells) {
        const icon = th.querySelector('.lb-sort-icon');
        if (index === state.sortCol) {
          th.setAttribute('aria-sort', state.sortDir > 0 ? 'ascending' : 'descending');
          icon.textContent = state.sortDir > 0 ? '\u25b2' : '\u25bc';
        } else {
          th.removeAttribute('aria-sort');
          icon.textContent = '\u2195';
        }
      }
    }

    thead.addEventListener('click', (event) => {
      const button = event.target.closest('.lb-sort');
      if (!button) return;
      const index = Number(button.getAttribute('data-col'));
      state.sortDir = state.sortCol === index ? -state.sortDir : 1;
      state.sortCol = index;
      updateSortMarks();
      changed(true);
    });

    const onFilter = debounce(() => changed(true), INPUT_DELAY_MS);
    thead.addEventListener('input', (event) => {
      const input = event.target;
      if (!input.classList.contains('lb-filter')) return;
      const index = Number(input.getAttribute('data-col'));
      if (input.value.trim()) state.filters.set(index, input.value);
      else {
        state.filters.delete(index);
        input.removeAttribute('aria-invalid');
      }
      onFilter();
    });

    selectPage.addEventListener('change', () => {
      for (const i of pageRows()) {
        if (!rows[i].ref) continue;
        if (selectPage.checked) state.selected.add(i);
        else state.selected.delete(i);
      }
      render();
    });

    tbody.addEventListener('change', (event) => {
      const box = event.target;
      if (!box.classList.contains('lb-select')) return;
      const index = Number(box.getAttribute('data-row'));
      if (box.checked) state.selected.add(index);
      else state.selected.delete(index);
      updateSelection();
    });

    // ---- body, pager and counts ----

    function pageRows() {
      const all = visibleRows();
      const start = state.page * state.pageSize;
      return all.slice(start, start + state.pageSize);
    }

    function renderCell(col, row) {
      const value = row.values[col.index];
      const d = display(col, value, row);
      const td = el('td');
      if (col.numeric) td.classList.add('num');
      if (col.primary) td.classList.add('primary');
      if (d.missing) {
        td.classList.add('missing');
        td.textContent = DASH;
        return td;
      }
      if (d.title) td.title = d.title;
      if (col.kind === 'status') {
        const slug = d.text.toLowerCase().replace(/[^a-z0-9_-]/g, '');
        td.append(el('span', { className: `status status-${slug}`, text: d.text }));
      } else if (col.kind === 'link' && row.href) {
        td.append(el('a', { href: row.href, className: 'lb-text', text: d.text }));
      } else if (col.kind === 'time' && d.time !== undefined) {
        td.append(el('time', { datetime: new Date(d.time).toISOString(), text: d.text }));
      } else if (col.kind === 'text' || col.kind === 'link') {
        td.append(el('span', { className: 'lb-text', text: d.text }));
      } else {
        td.textContent = d.text;
      }
      return td;
    }

    function render() {
      const all = visibleRows();
      const pages = Math.max(1, Math.ceil(all.length / state.pageSize));
      state.page = Math.min(state.page, pages - 1);
      const visibleCols = columns.filter((c) => !state.hidden.has(c.index));
      const fragment = document.createDocumentFragment();
      for (const i of pageRows()) {
        const row = rows[i];
        const best = rankCol && row.values[rankCol.index] === 1;
        const box = el('input', {
          type: 'checkbox',
          className: 'lb-select',
          'data-row': i,
          'aria-label': `Select ${runName(row)}`,
          disabled: !row.ref,
        });
        box.checked = state.selected.has(i);
        const tr = el('tr', { className: best ? 'best' : null }, [
          el('td', { className: 'lb-select-col' }, [box]),
        ]);
        for (const col of visibleCols) tr.append(renderCell(col, row));
        fragment.append(tr);
      }
      if (!all.length) {
        const message = rows.length ? 'No runs match the filters.' : 'No runs yet.';
        const colspan = visibleCols.length + 1;
        const empty = el('td', { className: 'lb-empty', colspan, text: message });
        fragment.append(el('tr', {}, [empty]));
      }
      tbody.replaceChildren(fragment);

      const noun = rows.length === 1 ? 'run' : 'runs';
      const counted = `${thousands(all.length)} of ${thousands(rows.length)} ${noun}`;
      // Rewriting the same text would make some screen readers announce it again.
      if (count.textContent !== counted) count.textContent = counted;
      clearFilters.hidden = !state.search.trim() && state.filters.size === 0;
      renderPager(all.length, pages);
      updateSelection();
    }

    function updateSelection() {
      const k = state.selected.size;
      compare.textContent = `Compare selected (${k})`;
      compare.disabled = k < 2;
      if (k < 2) compare.title = 'Select at least two runs to compare';
      else compare.removeAttribute('title');
      clearSelection.hidden = k === 0;
      const onPage = pageRows().filter((i) => rows[i].ref);
      const picked = onPage.filter((i) => state.selected.has(i)).length;
      selectPage.checked = onPage.length > 0 && picked === onPage.length;
      selectPage.indeterminate = picked > 0 && picked < onPage.length;
      selectPage.disabled = onPage.length === 0;
    }

    const sizeSelect = el(
      'select',
      { id: 'lb-page-size' },
      PAGE_SIZES.map((n) => el('option', { value: n, text: n, selected: n === state.pageSize })),
    );
    const first = button('lb-first', '\u00ab First');
    const prev = button('lb-prev', '\u2039 Previous');
    const next = button('lb-next', 'Next \u203a');
    const last = button('lb-last', 'Last \u00bb');
    const status = el('span', { className: 'lb-page-status' });
    const nav = el('div', { className: 'lb-pages' }, [first, prev, status, next, last]);
    const sizes = el('div', { className: 'lb-page-size' }, [
      el('label', { for: 'lb-page-size', text: 'Rows per page' }),
      sizeSelect,
    ]);
    if (pager) pager.replaceChildren(sizes, nav);

    function renderPager(total, pages) {
      const start = total ? state.page * state.pageSize + 1 : 0;
      const end = Math.min(total, (state.page + 1) * state.pageSize);
      status.textContent = `Page ${state.page + 1} of ${pages} (rows ${start}\u2013${end})`;
      first.disabled = prev.disabled = state.page === 0;
      next.disabled = last.disabled = state.page >= pages - 1;
      nav.hidden = pages <= 1;
      sizes.hidden = total <= PAGE_SIZES[0];
    }

    function goTo(page) {
      state.page = page;
      render();
    }
    first.addEventListener('click', () => goTo(0));
    prev.addEventListener('click', () => goTo(Math.max(0, state.page - 1)));
    next.addEventListener('click', () => goTo(state.page + 1));
    last.addEventListener('click', () => {
      goTo(Math.max(0, Math.ceil(visibleRows().length / state.pageSize) - 1));
    });
    sizeSelect.addEventListener('change', () => {
      state.pageSize = Number(sizeSelect.value) || DEFAULT_PAGE_SIZE;
      state.page = 0;
      render();
    });

    buildHead();
    render();
  }

  const table = document.querySelector('table[data-leaderboard]');
  if (table) init(table);
})();
