// The rule editor: the draft is checked a moment after the CM stops typing,
// and its problems shown at their line and column; its tests and a backtest
// on recent events run on demand. Applying is the form's own submit.
(function () {
  "use strict";
  var form = document.getElementById("editor");
  var draft = document.getElementById("draft");
  var out = document.getElementById("problems");
  var results = document.getElementById("results");
  if (!form || !draft || !out) return;

  function post(action) {
    var body = new URLSearchParams(new FormData(form));
    return fetch("/rules/" + action, {method: "POST", body: body, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : r.text().then(function (t) { throw new Error(t); }); });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // goTo puts the caret at a line and column of the draft.
  function goTo(line, col) {
    var lines = draft.value.split("\n"), at = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
    at += Math.max(0, col - 1);
    draft.focus();
    draft.setSelectionRange(at, at);
    var lh = draft.scrollHeight / Math.max(1, lines.length);
    draft.scrollTop = Math.max(0, (line - 5) * lh);
  }
  function showProblems(ps) {
    out.textContent = "";
    var errors = ps.filter(function (p) { return !p.warning; });
    out.className = "problems " + (errors.length ? "bad" : "good");
    if (!ps.length) { out.textContent = "The file loads."; return; }
    var ul = el("ul");
    ps.forEach(function (p) {
      var li = el("li", p.warning ? "warning" : "error");
      var a = el("a", "at", p.line + ":" + p.col);
      a.href = "#";
      a.dataset.line = p.line;
      a.dataset.col = p.col;
      a.addEventListener("click", function (e) { e.preventDefault(); goTo(p.line, p.col); });
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + (p.warning ? "warning: " : "") + p.message));
      ul.appendChild(li);
    });
    out.appendChild(ul);
  }
  // A check the console refuses (the session ended, the draft too large)
  // says so: "Checking…" would stay for ever.
  function check() {
    post("check").then(function (r) { showProblems(r.problems); }).catch(function (e) {
      out.className = "problems bad";
      out.textContent = "Not checked: " + e.message;
    });
  }
  var timer;
  draft.addEventListener("input", function () {
    clearTimeout(timer);
    out.className = "problems";
    out.textContent = "Checking…";
    timer = setTimeout(check, 500);
  });
  // A refused Apply brings the draft back: its problems are shown at once.
  if (form.hasAttribute("data-kept")) check();

  document.getElementById("test").addEventListener("click", function () {
    results.textContent = "Running the tests…";
    post("test").then(function (r) {
      results.textContent = "";
      if (r.problems) { showProblems(r.problems); results.textContent = "The file does not load."; return; }
      results.appendChild(el("h2", "", r.passed + " passed, " + r.failed + " failed"));
      var ul = el("ul", "tests");
      r.results.forEach(function (t) {
        var li = el("li", t.failures ? "fail" : "pass", (t.failures ? "FAIL " : "PASS ") + "line " + t.line + ": " + t.name);
        (t.failures || []).forEach(function (f) { li.appendChild(el("div", "why", f)); });
        ul.appendChild(li);
      });
      results.appendChild(ul);
    }).catch(function (e) { results.textContent = e.message; });
  });

  document.getElementById("backtest").addEventListener("click", function () {
    results.textContent = "Backtesting…";
    post("backtest").then(function (r) {
      results.textContent = "";
      if (r.problems) { showProblems(r.problems); results.textContent = "The file does not load."; return; }
      results.appendChild(el("h2", "", "Backtest on " + r.events + " recent events (" + r.took + ")"));
      if (!r.changed.length) { results.appendChild(el("p", "empty", "No rule would have flagged anything differently.")); return; }
      var table = el("table", "backtest");
      var head = el("tr");
      ["rule", "now", "with the draft", "newly flagged", "no longer flagged"].forEach(function (h) { head.appendChild(el("th", "", h)); });
      table.appendChild(head);
      r.changed.forEach(function (d) {
        var tr = el("tr");
        tr.dataset.rule = d.rule;
        tr.appendChild(el("td", "", d.rule));
        tr.appendChild(el("td", "", String(d.before)));
        tr.appendChild(el("td", "", String(d.after)));
        [d.added || [], d.removed || []].forEach(function (ex) {
          var td = el("td");
          ex.forEach(function (x) { td.appendChild(el("div", "example", x)); });
          tr.appendChild(td);
        });
        table.appendChild(tr);
      });
      var wrap = el("div", "scroll");
      wrap.appendChild(table);
      results.appendChild(wrap);
    }).catch(function (e) { results.textContent = e.message; });
  });
})();
