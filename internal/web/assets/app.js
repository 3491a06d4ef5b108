// The board's behaviour: the decide dialog (opened by a card's move
// controls or by dragging a card), and redrawing an open board when the
// ledger moves on. Everything it sends is a plain form post the server
// checks; without this script the pages still read.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) { return; }
  var dialog = document.getElementById("decide");
  var form = document.getElementById("decide-form");
  var undo = null; // puts a dragged card back when the dialog is cancelled

  var names = { now: "Now", next: "Next", later: "Later" };

  function open(card, action, horizon, rank) {
    if (!dialog) { return; }
    var title = card.getAttribute("data-title");
    var what;
    if (action === "move") {
      what = "Move “" + title + "” to " + names[horizon] + (rank ? ", position " + rank : ", last") + ".";
    } else if (action === "deliver") {
      what = "Record that “" + title + "” was delivered.";
    } else {
      what = "Remove “" + title + "” from the roadmap.";
    }
    document.getElementById("decide-what").textContent = what;
    form.action = "/items/" + encodeURIComponent(card.getAttribute("data-id")) + "/decide";
    form.elements.action.value = action;
    form.elements.horizon.value = horizon || "";
    form.elements.rank.value = rank || "";
    dialog.showModal();
    document.getElementById("decide-rationale").focus();
  }

  function close() {
    dialog.close();
  }

  if (dialog) {
    document.getElementById("decide-cancel").addEventListener("click", close);
    dialog.addEventListener("close", function () {
      if (undo) { undo(); undo = null; }
    });
    form.addEventListener("submit", function () { undo = null; });
  }

  board.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-act]");
    if (!button) { return; }
    var card = button.closest(".card");
    open(card, button.getAttribute("data-act"), button.getAttribute("data-horizon"), button.getAttribute("data-rank"));
  });

  // rankIn is the 1-based position of card among the cards of its product
  // in its column, which is what a rank means.
  function rankIn(card) {
    var product = card.getAttribute("data-product");
    var rank = 1;
    for (var el = card.previousElementSibling; el; el = el.previousElementSibling) {
      if (el.classList.contains("card") && el.getAttribute("data-product") === product) { rank++; }
    }
    return rank;
  }

  function sortable() {
    if (!window.Sortable || !board.hasAttribute("data-decide")) { return; }
    board.querySelectorAll("ol.cards").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board", draggable: ".card", filter: "a, button, summary, .moves", preventOnFilter: false,
        animation: 120, forceFallback: true, fallbackTolerance: 4,
        onStart: function (ev) { ev.item._home = [ev.from, ev.item.nextElementSibling]; },
        onEnd: function (ev) {
          if (ev.from === ev.to && ev.oldIndex === ev.newIndex) { return; }
          var card = ev.item, home = card._home;
          undo = function () { home[0].insertBefore(card, home[1]); };
          open(card, "move", ev.to.getAttribute("data-horizon"), String(rankIn(card)));
        }
      });
    });
  }
  sortable();

  // Live: an open board of the present asks the ledger's position every
  // few seconds and redraws its columns when it has moved on, unless
  // someone is deciding.
  if (board.hasAttribute("data-live")) {
    var seen = board.getAttribute("data-sequence");
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden || (dialog && dialog.open) || document.querySelector(".moves[open]")) { return; }
      busy = true;
      fetch("/live", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : seen; }).then(function (seq) {
        if (seq.trim() === seen) { return null; }
        return fetch(location.pathname + location.search, { credentials: "same-origin", headers: { "X-Board-Refresh": "1" } })
          .then(function (r) { return r.ok ? r.text() : null; });
      }).then(function (html) {
        if (html === null || html === undefined) { return; }
        var doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
        board.replaceChildren.apply(board, Array.from(doc.body.firstChild.childNodes));
        var pos = board.querySelector("[data-position]");
        seen = pos ? pos.getAttribute("data-position") : seen;
        board.setAttribute("data-sequence", seen);
        sortable();
      }).finally(function () { busy = false; });
    }, 3000);
  }
})();
