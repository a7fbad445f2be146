// Small enhancements on top of htmx; the pages work without them.
//
// The modal: a section action loads its form into <dialog id="modal"> (hx-target="#modal");
// the dialog opens when content arrives and closes when the server sends the "closeModal"
// event with HX-Trigger after a successful save.
(function () {
  "use strict";
  // afterSettle, not afterSwap: htmx has wired the new content by then, so typing at once
  // into an as-you-type field already triggers its requests.
  document.addEventListener("htmx:afterSettle", function (event) {
    var modal = document.getElementById("modal");
    if (!modal || event.detail.target !== modal) return;
    if (!modal.open && modal.children.length) modal.showModal();
    var first =
      modal.querySelector("[autofocus]") ||
      modal.querySelector("[aria-invalid=true], .field--error input, .field--error select") ||
      modal.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  });
  document.body.addEventListener("closeModal", function () {
    var modal = document.getElementById("modal");
    if (modal && modal.open) modal.close();
  });
  document.addEventListener("close", function (event) {
    if (event.target.id === "modal") event.target.replaceChildren();
  }, true);
})();

// The top bar's search: htmx fills #topsearch-panel as the user types. Arrow keys move
// through its options (focus stays in the box), Enter opens the chosen one, Escape closes
// the panel. Enter with nothing chosen submits the form to the full results page.
(function () {
  "use strict";
  var input = document.getElementById("topsearch-q");
  var panel = document.getElementById("topsearch-panel");
  if (!input || !panel) return;

  function options() { return Array.prototype.slice.call(panel.querySelectorAll("[role=option]")); }
  function active() { return panel.querySelector("[role=option].is-active"); }
  function choose(option) {
    options().forEach(function (each) {
      each.classList.toggle("is-active", each === option);
      each.setAttribute("aria-selected", each === option ? "true" : "false");
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  function show(open) {
    panel.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) choose(null);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === panel) show(panel.children.length > 0);
  });
  input.addEventListener("keydown", function (event) {
    var list = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!list.length) return;
      event.preventDefault();
      show(true);
      var index = list.indexOf(active()) + (event.key === "ArrowDown" ? 1 : -1);
      if (index < 0) index = list.length - 1;
      if (index >= list.length) index = 0;
      choose(list[index]);
    } else if (event.key === "Enter" && !panel.hidden && active()) {
      event.preventDefault();
      window.location.assign(active().href);
    } else if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      show(false);
    }
  });
  input.addEventListener("focus", function () {
    if (panel.children.length && input.value.trim()) show(true);
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".topsearch")) show(false);
  });
})();
