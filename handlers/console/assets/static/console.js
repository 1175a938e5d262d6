// The queue follows the store: the server says when the open cases changed
// (server-sent events) and the list is fetched again. A CM typing in a case's
// form is not interrupted: the list waits until the field is left; and the
// case at the top of the screen keeps its place.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue || !window.EventSource) return;
  var stale = false;
  // A refresh that fails is said on the page, not only kept from it: the list
  // shown is then as old as the last one that came, and the CM must know.
  // The line is there from the start (empty), so that a screen reader reads
  // it out when it says something.
  var line = document.createElement("p");
  line.id = "live-status";
  line.setAttribute("role", "status");
  line.setAttribute("aria-live", "polite");
  queue.parentNode.insertBefore(line, queue);
  var since = new Date(), retry = null;
  function hhmm(d) { return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2); }
  function failing(why) {
    line.className = "flash failed";
    line.textContent = "Not up to date since " + hhmm(since) + " \u2014 " + why + "; retrying";
    if (!retry) retry = setTimeout(function () { retry = null; refresh(); }, 5000);
  }
  function fresh() {
    since = new Date();
    line.className = "";
    line.textContent = "";
    if (retry) { clearTimeout(retry); retry = null; }
  }
  function typing() {
    var a = document.activeElement;
    return a && a.tagName === "INPUT" && queue.contains(a);
  }
  function refresh() {
    if (typing()) { stale = true; return; }
    stale = false;
    var u = new URL(location.href);
    u.searchParams.set("part", "list");
    u.searchParams.delete("flash");
    u.searchParams.delete("failed");
    fetch(u, {credentials: "same-origin"}).then(function (r) {
      if (r.status === 401) { location.reload(); return; }
      if (r.ok) return r.text();
      failing(r.status === 503 ? "the store does not answer" : "vigie answered " + r.status);
    }).then(function (html) {
      if (html === undefined) return;
      fresh();
      // The case at the top of the screen stays where it is: a case opened
      // above it (high priority) must not slide another under the thumb.
      var anchor = null, top = 0;
      var cases = queue.querySelectorAll("article[data-case]");
      for (var i = 0; i < cases.length; i++) {
        var r = cases[i].getBoundingClientRect();
        if (r.bottom > 0) { anchor = cases[i].dataset.case; top = r.top; break; }
      }
      queue.innerHTML = html;
      if (anchor) {
        var again = queue.querySelector('article[data-case="' + anchor + '"]');
        if (again) window.scrollBy(0, again.getBoundingClientRect().top - top);
      }
      var h = queue.querySelector("h1[data-total]");
      if (h) document.title = "vigie · " + h.dataset.total + " open";
    }).catch(function () { failing("vigie does not answer (network)"); });
  }
  queue.addEventListener("focusout", function () { if (stale) setTimeout(refresh, 0); });
  var es, broken = false;
  function listen() {
    es = new EventSource("/queue/live?v=" + encodeURIComponent(document.body.dataset.version || ""));
    es.addEventListener("queue", refresh);
    es.addEventListener("stale", function (e) { failing(e.data || "the store does not answer"); });
    // The session ended (logged out elsewhere, a new password): the page
    // loads itself again, which leads to the login page.
    es.addEventListener("ended", function () { es.close(); location.reload(); });
    es.addEventListener("open", function () { if (broken) { broken = false; refresh(); } });
    es.addEventListener("error", function () {
      broken = true;
      failing("vigie does not answer");
      // A stream refused (a 503) is not tried again by the browser.
      if (es.readyState === EventSource.CLOSED) setTimeout(listen, 5000);
    });
  }
  listen();
  // A page brought back by the browser's back button was frozen with its
  // stream: ask for the list now, and the stream reconnects by itself.
  window.addEventListener("pageshow", function (e) { if (e.persisted) refresh(); });
})();
