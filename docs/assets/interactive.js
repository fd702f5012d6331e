/* llmnotes: interactive figures, drawn in the browser from the JSON an experiment wrote.
 *
 * A figure with `data-llmnotes-plot="NAME.json"` (a file beside its SVG) keeps its static SVG as the fallback: the data is
 * fetched, an interactive SVG is drawn beside the image, and only then is the image hidden. No
 * library and no network beyond the site itself. Two kinds:
 *   scatter   labelled points; hover or focus one for its details
 *   heatmaps  a stack of matrices (say layer × head); pick one with the controls, hover a cell
 */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(name, attrs, parent) {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function tooltip(figure) {
    const tip = html("div", { class: "llmnotes-tooltip", role: "status" }, figure);
    return {
      show(text, event, target) {
        tip.textContent = text;
        const box = figure.getBoundingClientRect();
        const at = event && event.clientX !== undefined ? event : target.getBoundingClientRect();
        tip.style.left = `${(at.clientX ?? at.left) - box.left + 12}px`;
        tip.style.top = `${(at.clientY ?? at.top) - box.top + 12}px`;
        tip.hidden = false;
      },
      hide() {
        tip.hidden = true;
      },
    };
  }

  function scale(values, from, to) {
    let low = Math.min(...values);
    let high = Math.max(...values);
    const pad = (high - low) * 0.08 || 1;
    low -= pad;
    high += pad;
    return (v) => from + ((v - low) / (high - low)) * (to - from);
  }

  function scatter(figure, data, alt) {
    const width = 640, height = 440, left = 56, right = 150, top = 36, bottom = 48;
    const svg = el("svg", {
      viewBox: `0 0 ${width} ${height}`, role: "group", class: "llmnotes-plot",
      "aria-label": `${alt} (interactive: hover or focus a point for its nearest words)`,
    });
    const x = scale(data.points.map((p) => p.x), left, width - right);
    const y = scale(data.points.map((p) => p.y), height - bottom, top);
    el("text", { x: width / 2, y: 20, class: "title", "text-anchor": "middle" }, svg)
      .textContent = data.title;
    el("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }, svg);
    el("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }, svg);
    el("text", { x: (left + width - right) / 2, y: height - 14, "text-anchor": "middle" }, svg)
      .textContent = data.xlabel;
    el("text", {
      x: 18, y: (top + height - bottom) / 2, "text-anchor": "middle",
      transform: `rotate(-90 18 ${(top + height - bottom) / 2})`,
    }, svg).textContent = data.ylabel;
    const colour = (group) => data.colours[data.groups.indexOf(group)] || "currentColor";
    data.groups.forEach((group, i) => {
      const row = el("g", { transform: `translate(${width - right + 16} ${top + 16 + i * 20})` }, svg);
      el("circle", { r: 5, fill: colour(group) }, row);
      el("text", { x: 10, y: 4, class: "legend" }, row).textContent = group;
    });
    const tip = tooltip(figure);
    for (const point of data.points) {
      const text = `${point.label} (${point.group}): ${point.detail}`;
      const dot = el("g", { class: "point", tabindex: 0, role: "img", "aria-label": text }, svg);
      el("circle", { cx: x(point.x), cy: y(point.y), r: 6, fill: colour(point.group) }, dot);
      el("text", { x: x(point.x) + 8, y: y(point.y) - 6, class: "label" }, dot).textContent = point.label;
      dot.addEventListener("mouseenter", (event) => tip.show(text, event, dot));
      dot.addEventListener("mousemove", (event) => tip.show(text, event, dot));
      dot.addEventListener("focus", () => tip.show(text, null, dot));
      dot.addEventListener("mouseleave", () => tip.hide());
      dot.addEventListener("blur", () => tip.hide());
    }
    return svg;
  }

  function colourAt(stops, t) {
    const position = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    const i = Math.min(Math.floor(position), stops.length - 2);
    const mix = position - i;
    const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
    const [a, b] = [rgb(stops[i]), rgb(stops[i + 1])];
    return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * mix)).join(",")})`;
  }

  function heatmaps(figure, data, alt) {
    const wrapper = html("div", { class: "llmnotes-heatmaps" });
    const controls = html("div", { class: "llmnotes-controls" }, wrapper);
    const selected = data.selected.slice();
    const selects = data.axes.map((axis, k) => {
      const id = `llmnotes-${axis.name}-${Math.random().toString(36).slice(2, 8)}`;
      html("label", { for: id }, controls).textContent = axis.name;
      const select = html("select", { id }, controls);
      axis.labels.forEach((label, i) => {
        const option = html("option", { value: i }, select);
        option.textContent = label;
      });
      select.value = selected[k];
      return select;
    });
    const n = data.rows.length, cell = 26, left = 80, top = 30, bottom = 70;
    const width = left + n * cell + 20, height = top + n * cell + bottom;
    const svg = el("svg", {
      viewBox: `0 0 ${width} ${height}`, role: "img", class: "llmnotes-plot",
      "aria-label": `${alt} (interactive: pick the ${data.axes.map((a) => a.name).join(" and ")})`,
    }, wrapper);
    const title = el("text", { x: left + (n * cell) / 2, y: 18, class: "title", "text-anchor": "middle" }, svg);
    data.rows.forEach((token, i) => {
      el("text", { x: left - 6, y: top + i * cell + cell / 2 + 4, "text-anchor": "end", class: "tick" }, svg)
        .textContent = token;
    });
    data.columns.forEach((token, j) => {
      const cx = left + j * cell + cell / 2, cy = top + n * cell + 8;
      el("text", { x: cx, y: cy, "text-anchor": "end", class: "tick", transform: `rotate(-60 ${cx} ${cy})` }, svg)
        .textContent = token;
    });
    const tip = tooltip(figure);
    const cells = data.rows.map((_, i) => data.columns.map((_, j) => {
      const rect = el("rect", { x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1 }, svg);
      rect.addEventListener("mousemove", (event) => tip.show(rect.dataset.text, event, rect));
      rect.addEventListener("mouseleave", () => tip.hide());
      return rect;
    }));
    function draw() {
      const matrix = selected.reduce((m, i) => m[i], data.matrices);
      const high = Math.max(1e-6, ...matrix.flat());
      matrix.forEach((row, i) => row.forEach((value, j) => {
        cells[i][j].setAttribute("fill", colourAt(data.colormap, value / high));
        cells[i][j].dataset.text = `${data.rows[i]} → ${data.columns[j]}: ${value.toFixed(3)}`;
      }));
      title.textContent = `${data.title}: ${data.axes.map((a, k) => `${a.name} ${a.labels[selected[k]]}`).join(", ")}`;
    }
    selects.forEach((select, k) => select.addEventListener("change", () => {
      selected[k] = Number(select.value);
      draw();
    }));
    draw();
    return wrapper;
  }

  const KINDS = { scatter, heatmaps };

  async function enhance(figure) {
    if (figure.dataset.llmnotesReady) return;
    figure.dataset.llmnotesReady = "loading";
    const image = figure.querySelector("img");
    try {
      // The data file sits beside the SVG, so it resolves against the image's address.
      const address = new URL(figure.dataset.llmnotesPlot, image ? image.src : document.baseURI);
      const response = await fetch(address);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      const draw = KINDS[data.kind];
      if (!draw) throw new Error(`unknown kind ${data.kind}`);
      const plot = draw(figure, data, image ? image.alt : "");
      // Before the images' own block (a paragraph of links, one image per palette).
      figure.insertBefore(plot, image ? image.closest("figure > *") : figure.firstChild);
      figure.classList.add("llmnotes-interactive");
      figure.dataset.llmnotesReady = "yes";
    } catch (error) {
      figure.dataset.llmnotesReady = "failed";  // the static SVG stays
      console.warn(`llmnotes: interactive figure unavailable (${error.message}); showing the SVG`);
    }
  }

  function enhanceAll() {
    document.querySelectorAll("figure[data-llmnotes-plot]").forEach(enhance);
  }

  // Material's instant navigation swaps pages without a reload; document$ fires on each one.
  if (typeof window.document$ !== "undefined") window.document$.subscribe(enhanceAll);
  else document.addEventListener("DOMContentLoaded", enhanceAll);
})();
