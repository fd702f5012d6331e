/* llmnotes: small accessibility fixes that axe-core asks for, made where the markup comes from a
 * plugin rather than from us.
 *   - Material's search dialog has no name (aria-dialog-name); it only works with JavaScript, so
 *     naming it from JavaScript loses nothing.
 *   - Notebook code cells and wide tables that scroll sideways get a tab stop, as Material gives
 *     its own code blocks, so keyboard users can scroll them (scrollable-region-focusable). */
(function () {
  "use strict";
  function fix() {
    const dialog = document.querySelector(".md-search[role=dialog]");
    if (dialog && !dialog.hasAttribute("aria-label")) dialog.setAttribute("aria-label", "Search");
    document.querySelectorAll(".jupyter-wrapper .highlight-ipynb, .md-typeset__scrollwrap").forEach((block) => {
      if (block.scrollWidth > block.clientWidth) block.setAttribute("tabindex", "0");
    });
  }
  if (typeof window.document$ !== "undefined") window.document$.subscribe(fix);
  else document.addEventListener("DOMContentLoaded", fix);
})();
