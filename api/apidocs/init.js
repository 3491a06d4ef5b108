// Renders the API reference from the spec the server serves. A file of its
// own, not an inline script: the page's Content-Security-Policy runs none.
(function () {
  var el = document.getElementById("redoc");
  Redoc.init(el.getAttribute("data-spec-url"), { disableSearch: true, hideDownloadButtons: false }, el);
})();
