// Renders the API reference from the spec the server serves. A file of its
// own, not an inline script: the page's Content-Security-Policy runs none.
// Search is off: Redoc runs it in a worker made from a blob: URL, which the
// policy (scripts of this server only) refuses.
(function () {
  var el = document.getElementById("redoc");
  Redoc.init(el.getAttribute("data-spec-url"), { disableSearch: true }, el);
})();
