// The queue follows the store: the server says when the open cases changed
// (server-sent events) and the list is fetched again. A CM typing in a case's
// form is not interrupted: the list waits until the field is left; and the
// case at the top of the screen keeps its place.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue || !window.EventSource) return;
  var stale = false;
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
      return r.ok ? r.text() : undefined;
    }).then(function (html) {
      if (html === undefined) return;
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
    });
  }
  queue.addEventListener("focusout", function () { if (stale) setTimeout(refresh, 0); });
  var es = new EventSource("/queue/live?v=" + encodeURIComponent(document.body.dataset.version || ""));
  es.addEventListener("queue", refresh);
  // A page brought back by the browser's back button was frozen with its
  // stream: ask for the list now, and the stream reconnects by itself.
  window.addEventListener("pageshow", function (e) { if (e.persisted) refresh(); });
})();
