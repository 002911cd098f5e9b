#pragma once

// The report page's own style and script: static, inline (the page loads nothing), and allowed by
// their SHA-256 in the page's Content-Security-Policy.

#include <string_view>

namespace podmortem::report::internal {

inline constexpr std::string_view kPageStyle = R"css(
:root { color-scheme: light; --ink: #1d232b; --muted: #5b6673; --line: #d9dee4; --ok: #17633a; --bad: #a4161a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; padding: 24px 32px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.sub, footer, .muted { color: var(--muted); }
code, .hash, time { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.hash { word-break: break-all; }
#verification { border: 2px solid; border-radius: 6px; padding: 10px 16px; margin: 16px 0; }
#verification.intact { border-color: var(--ok); background: #eef8f1; }
#verification.tampered { border-color: var(--bad); background: #fdf0f0; }
#verification h2 { margin: 0 0 4px; }
#verification.intact h2 { color: var(--ok); }
#verification.tampered h2 { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { background: #f3f5f7; position: sticky; top: 0; }
#summary th { width: 12em; position: static; }
.kind { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; font-weight: 600; color: #fff; background: #6b7785; }
.kind-admission { background: #7a3fb0; } .kind-audit { background: #1f5fa8; } .kind-event { background: #a86a1f; }
.kind-log { background: #56606b; } .kind-pod { background: #2f7f7a; } .kind-capture { background: #a4161a; }
.kind-action { background: #b0443f; } .kind-addendum { background: #7f2f52; }
tr.entry-capture td, tr.entry-action td { background: #fff6f5; }
dl { margin: 0; display: grid; grid-template-columns: max-content auto; gap: 0 8px; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-word; }
details summary { color: var(--muted); cursor: pointer; font-size: 12px; }
#entries td:nth-child(4) { max-width: 28em; }
#entries td:first-child { white-space: nowrap; }
#filters { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; margin: 8px 0 12px; }
#filters fieldset { border: 0; padding: 0; margin: 0; display: flex; gap: 10px; }
.problem { color: var(--bad); }
)css";

inline constexpr std::string_view kPageScript = R"js(
(function () {
  'use strict';
  var form = document.getElementById('filters');
  var actor = document.getElementById('actor-filter');
  var kinds = Array.prototype.slice.call(document.querySelectorAll('#kind-filter input'));
  var rows = Array.prototype.slice.call(document.querySelectorAll('#entries tbody tr'));
  var shown = document.getElementById('shown');

  // #actor=mallory&hide=log,event: a filtered view can be shared as a link.
  function readHash() {
    location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      var parts = pair.split('=');
      var value;
      try { value = decodeURIComponent(parts[1] || ''); } catch (ignored) { return; }  // a bad link
      if (parts[0] === 'actor') actor.value = value;
      if (parts[0] === 'hide') {
        var hidden = value.split(',');
        kinds.forEach(function (box) { box.checked = hidden.indexOf(box.value) < 0; });
      }
    });
  }

  function writeHash() {
    var parts = [];
    if (actor.value) parts.push('actor=' + encodeURIComponent(actor.value));
    var hidden = kinds.filter(function (box) { return !box.checked; }).map(function (box) { return box.value; });
    if (hidden.length) parts.push('hide=' + hidden.join(','));
    var hash = parts.length ? '#' + parts.join('&') : '';
    if (hash !== location.hash) {
      try { location.replace(hash || '#'); } catch (ignored) { /* a viewer that forbids it keeps the filter */ }
    }
  }

  function apply() {
    var wanted = {};
    kinds.forEach(function (box) { wanted[box.value] = box.checked; });
    var count = 0;
    rows.forEach(function (row) {
      var visible = wanted[row.getAttribute('data-kind')] === true &&
                    (actor.value === '' || row.getAttribute('data-actor') === actor.value);
      row.hidden = !visible;
      if (visible) count++;
    });
    shown.textContent = count + ' of ' + rows.length + ' entries shown';
  }

  function changed() { apply(); writeHash(); }

  readHash();
  actor.addEventListener('change', changed);
  kinds.forEach(function (box) { box.addEventListener('change', changed); });
  form.hidden = false;
  apply();
})();
)js";

}  // namespace podmortem::report::internal
