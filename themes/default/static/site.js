/* runfolio: draws every chart of a page.
   A chart is a <div data-chart="ID"> next to <script type="application/json" id="ID">
   holding a Vega-Lite spec the build wrote. Specs are data; nothing from them is
   inserted as markup. Charts follow the system's light or dark scheme. */
'use strict';
(function () {
  // Pages with at most this many charts draw them all at once; longer pages lazily.
  var EAGER_CHARTS = 12;

  function darkScheme() {
    return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  }

  /* What every chart needs under the pages' Content-Security-Policy (no 'unsafe-eval',
     no inline style): `ast` makes vega-embed evaluate Vega expressions with the
     interpreter it bundles instead of compiling them with `new Function`; the two style
     switches keep vega-embed and its tooltip from adding <style> elements, whose rules
     site.css carries instead. compare.js builds on these options too. */
  function safeOptions() {
    return { ast: true, defaultStyle: false, tooltip: { disableDefaultStyle: true } };
  }

  function embedOptions() {
    var options = Object.assign(safeOptions(), { actions: false, renderer: 'svg' });
    if (darkScheme()) {
      options.theme = 'dark';
      options.config = { background: null };
    }
    return options;
  }

  function drawChart(element) {
    var source = document.getElementById(element.getAttribute('data-chart'));
    if (!source || typeof window.vegaEmbed !== 'function') return;
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      showError(element, 'This chart could not be read.');
      return;
    }
    window.vegaEmbed(element, spec, embedOptions()).catch(function () {
      showError(element, 'This chart could not be drawn.');
    });
  }

  function showError(element, message) {
    var note = document.createElement('p');
    note.className = 'chart-error';
    note.textContent = message;
    element.replaceChildren(note);
  }

  function drawAll() {
    var charts = document.querySelectorAll('[data-chart]');
    if (charts.length <= EAGER_CHARTS || !('IntersectionObserver' in window)) {
      charts.forEach(drawChart);
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          drawChart(entry.target);
        }
      });
    }, { rootMargin: '400px' });
    charts.forEach(function (chart) { observer.observe(chart); });
  }

  window.runfolio = window.runfolio || {};
  window.runfolio.embedOptions = embedOptions;
  window.runfolio.safeEmbedOptions = safeOptions;

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', drawAll);
  } else {
    drawAll();
  }
})();
