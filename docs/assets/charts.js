/* llmnotes: interactive charts, drawn with Vega-Lite from the spec an experiment wrote.
 *
 * A figure with `data-llmnotes-chart` names its spec (a file beside its static SVG, which the
 * build rendered from the same spec) and `data-llmnotes-chart-dark` the spec for the dark
 * palette. Vega, Vega-Lite and vega-embed are served by the site (assets/vega) and loaded only
 * on a page that has a chart. The SVG image is hidden only once the chart is drawn, so without
 * JavaScript, or when the spec or a library fails to load, the static figure is what shows.
 * A palette switch redraws the chart with the other spec, keeping what the reader picked.
 */
(function () {
  "use strict";
  const here = document.currentScript ? document.currentScript.src : document.baseURI;
  const LIBRARIES = ["vega", "vega-lite", "vega-embed"].map(
    (name) => new URL(`vega/${name}.min.js`, here).href,
  );
  let loading = null;

  function script(src) {
    return new Promise((resolve, reject) => {
      const node = document.createElement("script");
      node.src = src;
      node.onload = resolve;
      node.onerror = () => reject(new Error(`cannot load ${src}`));
      document.head.appendChild(node);
    });
  }

  function libraries() {
    // In order: vega-lite needs vega, vega-embed needs both.
    loading ??= LIBRARIES.reduce((done, src) => done.then(() => script(src)), Promise.resolve());
    return loading;
  }

  const dark = () => document.body.getAttribute("data-md-color-scheme") === "slate";

  function picked(view, spec) {
    // The values of the chart's parameters (sliders, buttons) as the reader left them.
    const names = (spec.params || []).filter((p) => p.bind).map((p) => p.name);
    return view ? Object.fromEntries(names.map((name) => [name, view.signal(name)])) : {};
  }

  async function draw(figure) {
    const image = figure.querySelector("img");
    const name = dark() ? figure.dataset.llmnotesChartDark : figure.dataset.llmnotesChart;
    const attempt = (figure.llmnotesAttempt = (figure.llmnotesAttempt || 0) + 1);
    let holder = null;
    try {
      // The spec sits beside the SVG, so it resolves against the image's address.
      const address = new URL(name, image ? image.src : document.baseURI);
      const [response] = await Promise.all([fetch(address), libraries()]);
      if (!response.ok) throw new Error(`HTTP ${response.status} for ${address}`);
      const spec = await response.json();
      if (attempt !== figure.llmnotesAttempt) return; // a newer draw (palette switch) won
      spec.description = image ? image.alt : spec.description;
      holder = document.createElement("div");
      holder.className = "llmnotes-chart";
      const before = figure.querySelector(".llmnotes-chart") || (image && image.closest("figure > *"));
      figure.insertBefore(holder, before || figure.firstChild);
      const kept = picked(figure.llmnotesView, spec);
      const result = await window.vegaEmbed(holder, spec, {
        actions: false,
        renderer: "svg",
        config: { background: "transparent" }, // the page's own colour, and its scroll cue
        tooltip: { theme: dark() ? "dark" : "light" },
      });
      for (const [key, value] of Object.entries(kept)) result.view.signal(key, value);
      await result.view.runAsync();
      if (figure.llmnotesView) {
        figure.llmnotesView.finalize();
        figure.querySelectorAll(".llmnotes-chart").forEach((old) => old !== holder && old.remove());
      }
      figure.llmnotesView = result.view;
      figure.classList.add("llmnotes-interactive");
      figure.dataset.llmnotesReady = "yes";
    } catch (error) {
      if (holder) holder.remove();
      if (!figure.llmnotesView) figure.dataset.llmnotesReady = "failed"; // the static SVG stays
      console.warn(`llmnotes: chart unavailable (${error.message}); showing the static figure`);
    }
  }

  function drawAll() {
    document.querySelectorAll("figure[data-llmnotes-chart]").forEach(draw);
  }

  // Material's instant navigation swaps pages without a reload; document$ fires on each one.
  if (typeof window.document$ !== "undefined") window.document$.subscribe(drawAll);
  else document.addEventListener("DOMContentLoaded", drawAll);
  new MutationObserver(drawAll).observe(document.body, {
    attributes: true,
    attributeFilter: ["data-md-color-scheme"],
  });
})();
