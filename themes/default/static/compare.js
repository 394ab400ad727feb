/*
 * compare.js: the run comparison page (compare.html?runs=<ref>,<ref>,...).
 *
 * Reads the run refs from the query string, loads each run's data file
 * (experiments/<slug>/runs/<run_id>.js, which sets window.runfolioRuns[ref]) by
 * appending <script src> elements, so the page works from file:// where fetch does not,
 * then renders the runs, their params, metrics and metric curves side by side into
 * #compare. No server, no framework.
 *
 * Every string in the run data is untrusted. It reaches the page only through
 * textContent and harmless attributes (aria-label, title), and reaches the Vega-Lite
 * specs only as data values or as a plain-string title: field names are fixed and no
 * expression is ever built from data.
 */
(function () {
  'use strict';

  const VIEW = document.getElementById('compare');
  if (!VIEW) {
    return;
  }

  const SITE_ROOT = (document.documentElement.dataset.root || '.').replace(/\/+$/, '') || '.';
  const STATS = ['last', 'min', 'max'];
  const DIRECTIONS = { minimize: 'lower is better', maximize: 'higher is better' };
  const NON_FINITE = new Set(['NaN', 'inf', '-inf']);
  const CHART_HEIGHT = 240;
  const SHORT_CURVE = 30; // curves of at most this many points show their points
  // Tableau 10: each run keeps its colour in every chart and in the runs table.
  const PALETTE = [
    '#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b',
    '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac',
  ];

  const state = {
    refs: [], // every ref of the URL, in order (valid or not)
    runs: [], // the loaded runs, in URL order
    missing: [], // refs that are invalid or did not load
    onlyDifferences: false,
    views: [], // vega-embed results of the drawn charts, finalized on re-render
    pending: [], // charts rendered into the DOM, waiting to be drawn
    generation: 0, // counts renders; a late chart promise of an old render is ignored
    nextId: 0, // generated element ids (never derived from data)
  };

  // --- refs --------------------------------------------------------------------------

  /** Own-property test that a polluted prototype cannot answer. */
  function own(object, key) {
    return Object.prototype.hasOwnProperty.call(object, key);
  }

  /** Decode one ref segment; null when it is malformed or could leave its folder. */
  function decodeSegment(segment) {
    let text;
    try {
      text = decodeURIComponent(segment);
    } catch (error) {
      return null;
    }
    if (text === '' || text === '.' || text === '..' || text.includes('/') || text.includes('\\')) {
      return null;
    }
    return text;
  }

  /** Parse one ref ("<slug>/<run_id>", each part percent-encoded) as the contract says. */
  function parseRef(given) {
    const parts = given.split('/');
    const segments = parts.length === 2 ? parts.map(decodeSegment) : [null];
    if (segments.includes(null)) {
      return { given, valid: false };
    }
    const [slug, id] = segments;
    const slugPart = encodeURIComponent(slug);
    const idPart = encodeURIComponent(id);
    return {
      given,
      valid: true,
      slug,
      id,
      key: slugPart + '/' + idPart,
      script: SITE_ROOT + '/experiments/' + slugPart + '/runs/' + idPart + '.js',
      page: 'experiments/' + slugPart + '/runs/' + idPart + '.html',
    };
  }

  /** Return the refs of ?runs=, de-duplicated, in order. */
  function readRefs(search) {
    const value = new URLSearchParams(search).get('runs') || '';
    const seen = new Set();
    const refs = [];
    for (const piece of value.split(',')) {
      const given = piece.trim();
      if (!given) {
        continue;
      }
      const ref = parseRef(given);
      const identity = ref.valid ? 'ok:' + ref.key : 'bad:' + given;
      if (!seen.has(identity)) {
        seen.add(identity);
        refs.push(ref);
      }
    }
    return refs;
  }

  /** Name a ref for people: decoded when valid, as given otherwise. */
  function refText(ref) {
    return ref.valid ? ref.slug + '/' + ref.id : ref.given;
  }

  // --- loading -----------------------------------------------------------------------

  /** Find a loaded run's data, whatever percent-encoding (or none) its key used. */
  function findRunData(ref) {
    const runs = window.runfolioRuns;
    if (!runs || typeof runs !== 'object') {
      return null;
    }
    if (own(runs, ref.key)) {
      return runs[ref.key];
    }
    const plain = ref.slug + '/' + ref.id;
    if (own(runs, plain)) {
      return runs[plain];
    }
    for (const key of Object.keys(runs)) {
      const other = parseRef(key);
      if (other.valid && other.slug === ref.slug && other.id === ref.id) {
        return runs[key];
      }
    }
    return null;
  }

  /** Load a run's data file; resolve to its normalised data, or null. */
  function loadRun(ref) {
    return new Promise((resolve) => {
      const script = document.createElement('script');
      script.addEventListener('load', () => {
        const data = findRunData(ref);
        resolve(data && typeof data === 'object' ? normaliseRun(data, ref) : null);
      });
      script.addEventListener('error', () => resolve(null));
      script.src = ref.script;
      document.head.appendChild(script);
    });
  }

  /** Return a plain own-keyed object, or an empty one. */
  function objectOr(value) {
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  }

  /** Return a string, or '' for anything else. */
  function stringOr(value) {
    return typeof value === 'string' ? value : '';
  }

  /** Copy the fields the page uses, with their types checked. */
  function normaliseRun(data, ref) {
    return {
      ref,
      id: stringOr(data.id) || ref.id,
      name: stringOr(data.name),
      experiment: stringOr(data.experiment) || ref.slug,
      status: stringOr(data.status),
      // Built from the checked ref, not read from the data: the same page by contract,
      // always percent-encoded, and never a "javascript:" or off-site URL.
      href: SITE_ROOT + '/' + ref.page,
      params: objectOr(data.params),
      metrics: objectOr(data.metrics),
      directions: objectOr(data.directions),
      history: objectOr(data.history),
    };
  }

  // --- values ------------------------------------------------------------------------

  /** Return a finite number, or null (null, "NaN", "inf", strings, ...). */
  function finite(value) {
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  }

  /** Format a metric value: 6 significant digits, the non-finite markers as given. */
  function formatMetric(value) {
    if (typeof value === 'string' && NON_FINITE.has(value)) {
      return value;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return null;
    }
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  }

  /** Format a param value exactly (params are inputs: no rounding). */
  function formatParam(value) {
    if (value === null) {
      return 'null';
    }
    if (typeof value === 'string') {
      return value === '' ? '""' : value;
    }
    if (typeof value === 'object') {
      return JSON.stringify(value);
    }
    return String(value);
  }

  /** Compare keys the way people read them: "lr2" before "lr10". */
  function byName(a, b) {
    return a.localeCompare(b, undefined, { numeric: true });
  }

  /** Union of the own keys of one field of every run, sorted. */
  function unionKeys(runs, field) {
    const keys = new Set();
    for (const run of runs) {
      Object.keys(run[field]).forEach((key) => keys.add(key));
    }
    return [...keys].sort(byName);
  }

  /** Shortest unique prefix (>= 7) of each id's random part; other ids stay whole. */
  function shortIds(ids) {
    const randoms = ids.map((id) => {
      const match = /^\d{8}-\d{6}-([0-9a-f]{10})$/.exec(id);
      return match ? match[1] : null;
    });
    return ids.map((id, index) => {
      const random = randoms[index];
      if (random === null) {
        return id;
      }
      for (let length = 7; length <= random.length; length += 1) {
        const prefix = random.slice(0, length);
        const clash = randoms.some(
          (other, j) => j !== index && other !== null && other.startsWith(prefix),
        );
        if (!clash) {
          return prefix;
        }
      }
      return id;
    });
  }

  /** A distinct label per run: "name (short id)", or the id when the run has no name. */
  function runLabels(runs) {
    const shorts = shortIds(runs.map((run) => run.id));
    const taken = new Set();
    return runs.map((run, index) => {
      const base = run.name ? run.name + ' (' + shorts[index] + ')' : run.id;
      let label = base;
      for (let n = 2; taken.has(label); n += 1) {
        label = base + ' #' + n;
      }
      taken.add(label);
      return label;
    });
  }

  /** The one direction the runs agree on for a metric, or null. */
  function directionOf(runs, metric) {
    const found = new Set();
    for (const run of runs) {
      if (own(run.directions, metric) && own(DIRECTIONS, run.directions[metric])) {
        found.add(run.directions[metric]);
      }
    }
    return found.size === 1 ? [...found][0] : null;
  }

  /** Return a run's stat of a metric, undefined when the run has no such metric. */
  function metricStat(run, metric, stat) {
    if (!own(run.metrics, metric)) {
      return undefined;
    }
    const summary = objectOr(run.metrics[metric]);
    return own(summary, stat) ? summary[stat] : undefined;
  }

  /** Indexes of the runs whose last value is best (ties included); empty when unranked. */
  function bestRuns(runs, metric, direction) {
    if (!direction) {
      return new Set();
    }
    const values = runs.map((run) => finite(metricStat(run, metric, 'last')));
    const ranked = values.filter((value) => value !== null);
    // Best of one is not a comparison.
    if (ranked.length < 2) {
      return new Set();
    }
    const best = direction === 'minimize' ? Math.min(...ranked) : Math.max(...ranked);
    const winners = new Set();
    values.forEach((value, index) => {
      if (value === best) {
        winners.add(index);
      }
    });
    return winners;
  }

  // --- DOM helpers -------------------------------------------------------------------

  /** Create an element with a class and text (text is always set as textContent). */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  /** Text only screen readers read. */
  function hiddenText(text) {
    return el('span', 'visually-hidden', text);
  }

  /** The em dash of a missing value, read out as "not set". */
  function missingMark(spoken) {
    const mark = el('span', 'compare-missing');
    const dash = el('span', null, '\u2014');
    dash.setAttribute('aria-hidden', 'true');
    mark.append(dash, hiddenText(spoken));
    return mark;
  }

  /** A section labelled by its h2 (focusable, to take focus when its content goes). */
  function section(className, title) {
    const id = nextId(className);
    const node = el('section', 'compare-section ' + className);
    const heading = el('h2', null, title);
    heading.id = id;
    heading.tabIndex = -1;
    node.setAttribute('aria-labelledby', id);
    node.append(heading);
    return node;
  }

  /** A keyboard-scrollable wrapper, so a wide table scrolls sideways on a phone. */
  function tableWrap(table, label) {
    const wrap = el('div', 'compare-table-wrap');
    wrap.setAttribute('role', 'region');
    wrap.setAttribute('aria-label', label);
    wrap.tabIndex = 0;
    wrap.append(table);
    return wrap;
  }

  /** A generated element id (never derived from data). */
  function nextId(stem) {
    state.nextId += 1;
    return 'compare-' + stem + '-' + state.nextId;
  }

  /** A colour swatch for run `index`. */
  function swatch(index) {
    const mark = el('span', 'compare-swatch');
    mark.style.backgroundColor = PALETTE[index % PALETTE.length];
    mark.setAttribute('aria-hidden', 'true');
    return mark;
  }

  /** A header cell naming a run (swatch + label). */
  function runHeader(label, index, scope) {
    const th = el('th', 'compare-run-head');
    th.scope = scope;
    const text = el('span', 'compare-run-label');
    text.append(swatch(index), label);
    th.append(text);
    return th;
  }

  // --- sections ----------------------------------------------------------------------

  /** The notices: refs that did not load, and the two-runs hint. */
  function renderNotices(container) {
    const list = el('ul', 'compare-notices');
    for (const ref of state.missing) {
      const item = el('li', 'compare-notice compare-notice-missing');
      item.textContent = 'Run ' + refText(ref) + ' is not in this site.';
      list.append(item);
    }
    if (state.runs.length < 2) {
      const item = el('li', 'compare-notice compare-notice-hint');
      item.append(
        state.runs.length === 1 ? 'Only one run to show. ' : 'No runs to compare. ',
        'Select at least two runs on an experiment\u2019s leaderboard to compare them. ',
      );
      const link = el('a', null, 'Browse the experiments');
      link.href = SITE_ROOT + '/index.html';
      item.append(link);
      list.append(item);
    }
    if (list.childElementCount) {
      container.append(list);
    }
  }

  /** The runs compared, one card each: name (linked), id, experiment, status, remove. */
  function renderRuns(container, labels) {
    const node = section('compare-runs', 'Runs');
    const list = el('ul', 'compare-run-list');
    state.runs.forEach((run, index) => {
      const card = el('li', 'compare-run-card');
      const title = el('h3', 'compare-run-name');
      const link = el('a', null, run.name || run.id);
      link.href = run.href;
      title.append(swatch(index), link);
      const facts = el('dl', 'compare-run-facts');
      const status = el('span', 'compare-status', run.status || 'unknown');
      status.dataset.status = run.status.toLowerCase();
      for (const [term, value] of [
        ['Run id', el('code', null, run.id)],
        ['Experiment', run.experiment],
        ['Status', status],
      ]) {
        const item = el('div');
        const detail = el('dd');
        detail.append(value);
        item.append(el('dt', null, term), detail);
        facts.append(item);
      }
      const button = el('button', 'compare-remove', 'Remove');
      button.type = 'button';
      button.setAttribute('aria-label', 'Remove ' + labels[index] + ' from the comparison');
      button.addEventListener('click', () => removeRun(index));
      card.append(title, facts, button);
      list.append(card);
    });
    node.append(list);
    container.append(node);
  }

  /** The params table: one row per key, differing rows marked, a differences filter. */
  function renderParams(container, labels) {
    const node = section('compare-params', 'Params');
    const keys = unionKeys(state.runs, 'params');
    if (!keys.length) {
      node.append(el('p', 'compare-empty', 'None of these runs has params.'));
      container.append(node);
      return;
    }
    const controls = el('div', 'compare-controls');
    const toggle = el('input', 'compare-only-differences');
    toggle.type = 'checkbox';
    toggle.checked = state.onlyDifferences;
    const toggleLabel = el('label', 'compare-toggle');
    toggleLabel.append(toggle, ' Only show differences');
    const summary = el('p', 'compare-summary');
    controls.append(toggleLabel, summary);
    node.append(controls);

    const table = el('table', 'compare-table compare-params-table');
    table.append(el('caption', 'visually-hidden', 'Params of each run; differing rows marked'));
    const head = table.createTHead().insertRow();
    const corner = el('th', null, 'Param');
    corner.scope = 'col';
    head.append(corner);
    labels.forEach((label, index) => head.append(runHeader(label, index, 'col')));
    const body = table.createTBody();
    const rows = [];
    for (const key of keys) {
      const row = body.insertRow();
      const seen = new Set();
      const keyCell = el('th', 'compare-key');
      keyCell.append(el('span', 'compare-key-text', key));
      keyCell.scope = 'row';
      row.append(keyCell);
      for (const run of state.runs) {
        const cell = row.insertCell();
        if (own(run.params, key)) {
          const value = run.params[key];
          seen.add(JSON.stringify(value));
          cell.textContent = formatParam(value);
        } else {
          seen.add('\u0000missing');
          cell.append(missingMark('not set'));
        }
      }
      const differs = seen.size > 1;
      if (differs) {
        row.classList.add('differs');
        keyCell.append(hiddenText(' (differs)'));
      }
      rows.push({ row, differs });
    }
    const allSame = el('p', 'compare-empty', 'Every param is the same in all runs.');
    node.append(tableWrap(table, 'Params'), allSame);

    const differing = rows.filter((entry) => entry.differs).length;
    summary.textContent =
      differing === 1
        ? '1 of ' + keys.length + ' params differs.'
        : differing + ' of ' + keys.length + ' params differ.';
    const apply = () => {
      state.onlyDifferences = toggle.checked;
      rows.forEach((entry) => {
        entry.row.hidden = state.onlyDifferences && !entry.differs;
      });
      allSame.hidden = !(state.onlyDifferences && differing === 0);
    };
    toggle.addEventListener('change', apply);
    apply();
    container.append(node);
  }

  /** The metrics table: last / min / max per run, best last value marked. */
  function renderMetrics(container, labels) {
    const node = section('compare-metrics', 'Metrics');
    const metrics = unionKeys(state.runs, 'metrics');
    if (!metrics.length) {
      node.append(el('p', 'compare-empty', 'None of these runs has metrics.'));
      container.append(node);
      return;
    }
    const table = el('table', 'compare-table compare-metrics-table');
    table.append(
      el('caption', 'visually-hidden', 'Last, min and max of each metric per run; best marked'),
    );
    const groups = el('colgroup');
    groups.append(el('col'));
    table.append(groups);
    state.runs.forEach(() => {
      const group = el('colgroup', 'compare-run-group');
      group.span = STATS.length;
      table.append(group);
    });
    const thead = table.createTHead();
    const top = thead.insertRow();
    const corner = el('th', null, 'Metric');
    corner.scope = 'col';
    corner.rowSpan = 2;
    corner.id = nextId('metric-head');
    top.append(corner);
    const runIds = labels.map((label, index) => {
      const th = runHeader(label, index, 'colgroup');
      th.colSpan = STATS.length;
      th.id = nextId('metric-run');
      top.append(th);
      return th.id;
    });
    const sub = thead.insertRow();
    const statIds = state.runs.map(() =>
      STATS.map((stat) => {
        const th = el('th', 'compare-stat-head', stat);
        th.scope = 'col';
        th.id = nextId('metric-stat');
        sub.append(th);
        return th.id;
      }),
    );
    const body = table.createTBody();
    for (const metric of metrics) {
      const row = body.insertRow();
      const direction = directionOf(state.runs, metric);
      const keyCell = el('th', 'compare-key');
      keyCell.append(el('span', 'compare-key-text', metric));
      keyCell.scope = 'row';
      keyCell.id = nextId('metric-row');
      if (direction) {
        const symbol = direction === 'minimize' ? ' \u2193' : ' \u2191';
        const arrow = el('span', 'compare-direction', symbol);
        arrow.setAttribute('aria-hidden', 'true');
        arrow.title = DIRECTIONS[direction];
        keyCell.append(arrow, hiddenText(' (' + DIRECTIONS[direction] + ')'));
      }
      row.append(keyCell);
      const best = bestRuns(state.runs, metric, direction);
      state.runs.forEach((run, index) => {
        STATS.forEach((stat, statIndex) => {
          const cell = row.insertCell();
          cell.className = 'compare-num compare-' + stat;
          const headers = [keyCell.id, runIds[index], statIds[index][statIndex]];
          cell.setAttribute('headers', headers.join(' '));
          const value = metricStat(run, metric, stat);
          const text = formatMetric(value);
          if (text === null) {
            cell.append(missingMark('not logged'));
          } else {
            cell.textContent = text;
            if (typeof value === 'number' && text !== String(value)) {
              cell.title = String(value);
            }
          }
          if (stat === 'last' && best.has(index)) {
            cell.classList.add('best');
            const badge = el('span', 'compare-best-badge');
            const star = el('span', null, '\u2605');
            star.setAttribute('aria-hidden', 'true');
            badge.append(star, ' best', hiddenText(' (' + DIRECTIONS[direction] + ')'));
            cell.append(' ', badge);
          }
        });
      });
    }
    node.append(tableWrap(table, 'Metrics'));
    container.append(node);
  }

  /** Chart colours from the page's CSS custom properties (light or dark). */
  function chartConfig() {
    const style = getComputedStyle(VIEW);
    const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    const fg = read('--compare-fg', '#1b1f24');
    const muted = read('--compare-muted', '#5b6470');
    const border = read('--compare-border', '#d0d7de');
    return {
      background: null,
      view: { stroke: border },
      axis: {
        labelColor: muted,
        titleColor: fg,
        gridColor: border,
        domainColor: muted,
        tickColor: muted,
      },
      legend: { labelColor: fg, titleColor: fg, labelFontSize: 11, labelLimit: 360 },
      title: { color: fg, anchor: 'start', fontSize: 14, fontWeight: 600 },
    };
  }

  /**
   * Build the Vega-Lite spec of one metric's curves; data values only, fixed fields.
   * Points are drawn when a curve is short (a lone point makes no line); otherwise they
   * are transparent, there only to give the tooltip something to hover.
   */
  function curveSpec(metric, rows, labels, colours, showPoints) {
    return {
      title: metric,
      data: { values: rows },
      mark: {
        type: 'line',
        interpolate: 'linear',
        point: showPoints ? { filled: true, size: 28 } : 'transparent',
        tooltip: true,
      },
      encoding: {
        x: {
          field: 'step',
          type: 'quantitative',
          title: 'step',
          // Steps are whole numbers; "d" also keeps a lone step from printing as 25.000000.
          axis: { format: 'd', tickMinStep: 1 },
        },
        y: {
          field: 'value',
          type: 'quantitative',
          title: null,
          scale: { zero: false },
          // Vega derives the precision from the tick step: "r" never turns to exponents.
          axis: { format: '~r' },
        },
        color: {
          field: 'run',
          type: 'nominal',
          title: null,
          scale: { domain: labels, range: colours },
          legend: { orient: 'bottom', direction: 'vertical' },
        },
        tooltip: [
          { field: 'run', type: 'nominal', title: 'run' },
          { field: 'step', type: 'quantitative', title: 'step' },
          { field: 'value', type: 'quantitative', title: 'value', format: '.6~g' },
        ],
      },
      width: 'container',
      height: CHART_HEIGHT,
      config: chartConfig(),
    };
  }

  /** One figure per metric with history, the runs' curves overlaid. */
  function renderCurves(container, labels) {
    const node = section('compare-curves', 'Curves');
    const metrics = unionKeys(state.runs, 'history');
    if (!metrics.length) {
      node.append(el('p', 'compare-empty', 'None of these runs has metric history.'));
      container.append(node);
      return;
    }
    const canDraw = typeof window.vegaEmbed === 'function';
    if (!canDraw) {
      const why = 'The charts cannot be drawn: their scripts did not load.';
      node.append(el('p', 'compare-empty', why));
    }
    const grid = el('div', 'compare-charts');
    for (const metric of metrics) {
      const rows = [];
      const present = [];
      const lengths = [];
      let dropped = 0;
      state.runs.forEach((run, index) => {
        if (!own(run.history, metric) || !Array.isArray(run.history[metric])) {
          return;
        }
        let drawn = 0;
        for (const point of run.history[metric]) {
          const step = Array.isArray(point) ? finite(point[0]) : null;
          const value = Array.isArray(point) ? finite(point[1]) : null;
          if (step === null || value === null) {
            dropped += 1;
          } else {
            rows.push({ step, value, run: labels[index] });
            drawn += 1;
          }
        }
        if (drawn) {
          present.push(index);
          lengths.push(drawn);
        }
      });
      const figure = el('figure', 'compare-chart');
      const captionId = nextId('chart-caption');
      const caption = el('figcaption', 'compare-chart-caption');
      caption.id = captionId;
      caption.append(el('span', 'compare-chart-name', metric));
      const details = [];
      const direction = directionOf(state.runs, metric);
      if (direction) {
        details.push(DIRECTIONS[direction]);
      }
      details.push(present.length + ' of ' + state.runs.length + ' runs drawn');
      if (dropped) {
        const points = dropped === 1 ? ' point' : ' points';
        details.push(dropped + ' missing or non-finite' + points + ' left out');
      }
      caption.append(' \u2014 ' + details.join('; ') + '.');
      figure.setAttribute('aria-labelledby', captionId);
      const target = el('div', 'compare-chart-canvas');
      figure.append(target, caption);
      grid.append(figure);
      if (!rows.length) {
        target.append(el('p', 'compare-empty', 'No finite values to draw.'));
        continue;
      }
      if (canDraw) {
        const names = present.map((index) => labels[index]);
        const spec = curveSpec(
          metric,
          rows,
          names,
          present.map((index) => PALETTE[index % PALETTE.length]),
          Math.min(...lengths) < 2 || Math.max(...lengths) <= SHORT_CURVE,
        );
        // Vega makes the description the chart's aria-label (a plain string, not code).
        spec.description = 'Line chart of ' + metric + ' by step for ' + names.join(', ');
        figure.dataset.chart = 'pending';
        state.pending.push({ figure, target, spec });
      }
    }
    node.append(grid);
    container.append(node);
  }

  /** vega-embed's options: site.js's, which the Content-Security-Policy needs, plus ours. */
  function embedOptions() {
    const shared = window.runfolio && window.runfolio.safeEmbedOptions;
    return Object.assign(shared ? shared() : {}, { actions: false, renderer: 'svg' });
  }

  /** Draw the queued charts once they are in the document (width: container needs it). */
  function drawCharts() {
    const jobs = state.pending.map(({ figure, target, spec }) => {
      // A legend wider than the chart would widen the page on a phone.
      spec.config.legend.labelLimit = Math.max(80, target.clientWidth - 40);
      return window
        .vegaEmbed(target, spec, embedOptions())
        .then((result) => {
          state.views.push(result);
          figure.dataset.chart = 'drawn';
        })
        .catch(() => {
          figure.dataset.chart = 'failed';
          target.replaceChildren(el('p', 'compare-empty', 'This chart could not be drawn.'));
        });
    });
    state.pending = [];
    return Promise.all(jobs);
  }

  // --- render ------------------------------------------------------------------------

  /** Render everything from `state` into #compare. */
  function render() {
    state.views.forEach((view) => view.finalize());
    state.views = [];
    state.pending = [];
    state.generation += 1;
    const content = document.createDocumentFragment();
    renderNotices(content);
    if (state.runs.length) {
      const labels = runLabels(state.runs);
      renderRuns(content, labels);
      renderParams(content, labels);
      renderMetrics(content, labels);
      renderCurves(content, labels);
    }
    VIEW.replaceChildren(content);
    VIEW.dataset.state = 'ready';
    VIEW.dataset.runs = String(state.runs.length);
    VIEW.dataset.charts = 'pending';
    const generation = state.generation;
    drawCharts().then(() => {
      if (generation === state.generation) {
        VIEW.dataset.charts = 'done';
      }
    });
  }

  /** Drop a run from the comparison, the URL and the page; keep the keyboard focus near. */
  function removeRun(index) {
    const [removed] = state.runs.splice(index, 1);
    state.refs = state.refs.filter((ref) => ref !== removed.ref);
    try {
      const url = new URL(window.location.href);
      const refs = state.refs.map((ref) => (ref.valid ? ref.key : ref.given));
      url.searchParams.set('runs', refs.join(','));
      window.history.replaceState(window.history.state, '', url.href);
    } catch (error) {
      // Some file:// setups refuse replaceState; the page itself is still right.
    }
    render();
    const buttons = VIEW.querySelectorAll('.compare-remove');
    const next = buttons[Math.min(index, buttons.length - 1)];
    const fallback =
      VIEW.querySelector('.compare-runs h2') || VIEW.querySelector('.compare-notices');
    if (next) {
      next.focus();
    } else if (fallback) {
      if (!fallback.hasAttribute('tabindex')) {
        fallback.tabIndex = -1;
      }
      fallback.focus();
    }
  }

  /** Read the URL, load every valid run, render. */
  function start() {
    state.refs = readRefs(window.location.search);
    const valid = state.refs.filter((ref) => ref.valid);
    VIEW.dataset.state = 'loading';
    const loading =
      valid.length === 1 ? 'Loading 1 run\u2026' : 'Loading ' + valid.length + ' runs\u2026';
    VIEW.replaceChildren(el('p', 'compare-loading', valid.length ? loading : ''));
    Promise.all(valid.map(loadRun)).then((loaded) => {
      state.runs = loaded.filter(Boolean);
      state.missing = state.refs.filter((ref) => !ref.valid || !loaded[valid.indexOf(ref)]);
      render();
    });
    // Redraw the charts in the other palette when the colour scheme changes.
    if (window.matchMedia) {
      window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
        if (VIEW.dataset.state === 'ready') {
          render();
        }
      });
    }
  }

  start();
})();
