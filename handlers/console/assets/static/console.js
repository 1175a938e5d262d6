// The queue follows the store: the server says when the open cases changed
// (server-sent events) and the list is fetched again. A CM typing in a case's
// form is not interrupted: the list waits until the field is left.
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
      queue.innerHTML = html;
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
