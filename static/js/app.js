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

// Behaviour that would otherwise be inline handlers (hx-on, onclick...), which the
// Content-Security-Policy forbids: delegated listeners keyed on data attributes.
//   <form data-escape-cancels>   Escape inside it clicks its [data-cancel] (inline edits)
//   <input data-check-all="cta"> checks or clears every input[name=cta] of its form
//   <form data-filters-change="EVENT">  a change to any field but [data-filters-ignore]
//                                fires EVENT on the form (its hx-trigger reloads the results)
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !(event.target instanceof Element)) return;
    var form = event.target.closest("form[data-escape-cancels]");
    var cancel = form && form.querySelector("[data-cancel]");
    if (!cancel) return;
    event.preventDefault();
    cancel.click();
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var name = target.getAttribute("data-check-all");
    if (name && target.form) {
      target.form.querySelectorAll("input[name='" + name + "']").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    var filters = target.closest("form[data-filters-change]");
    if (filters && !target.hasAttribute("data-filters-ignore") && window.htmx) {
      window.htmx.trigger(filters, filters.getAttribute("data-filters-change"));
    }
  });
})();

// When an htmx request fails — the server answers an error (htmx:responseError) or cannot be
// reached (htmx:sendError) — htmx swaps nothing; without this the click seems to do nothing.
// A small banner says so in the section (or dialog, or page) the request was for, with a
// button to dismiss it. A short plain-text reason from the server (a 400 "Say which field to
// edit.") is shown as it is; anything else gets the general sentence. An expired session
// never lands here: the server answers HX-Redirect to the sign-in page.
(function () {
  "use strict";
  var GENERAL = "Something went wrong — reload the page.";
  var OFFLINE = "Could not reach the server — check your connection and try again.";

  function host(element) {
    if (!(element instanceof Element)) return document.getElementById("main") || document.body;
    if (element.id === "modal") return element;
    return element.closest("#modal, .section, .card") || document.getElementById("main") || document.body;
  }

  function reason(xhr) {
    var type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    var text = xhr && typeof xhr.responseText === "string" ? xhr.responseText.trim() : "";
    if (xhr && xhr.status >= 400 && xhr.status < 500 && type.indexOf("text/plain") === 0 &&
        text && text.length <= 200) {
      return text;
    }
    return GENERAL;
  }

  function show(element, message) {
    var place = host(element);
    var old = place.querySelector(":scope > .htmx-error, :scope > * > .htmx-error");
    if (old) old.remove();
    var banner = document.createElement("div");
    banner.className = "htmx-error";
    banner.setAttribute("role", "alert");
    var text = document.createElement("span");
    text.className = "htmx-error__text";
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "htmx-error__close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { banner.remove(); });
    banner.append(text, close);
    // Below a section's header (so it stays visible when the section is open), else on top.
    var header = place.querySelector(":scope > details > summary");
    if (header) header.after(banner); else place.prepend(banner);
    if (place.id === "modal" && !place.open && place.children.length) place.showModal();
  }

  document.addEventListener("htmx:responseError", function (event) {
    show(event.detail.target || event.detail.elt, reason(event.detail.xhr));
  });

  // A section marked data-skip-own-events does not reload on an event one of its own saves
  // sent (the save answered with its row); events from elsewhere on the page still reload it.
  // (An hx-trigger filter would say this, but the Content-Security-Policy allows no eval.)
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    var trigger = event.detail.triggeringEvent;
    if (elt && trigger && elt.hasAttribute("data-skip-own-events") &&
        trigger.target instanceof Node && elt.contains(trigger.target)) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    show(event.detail.target || event.detail.elt, OFFLINE);
  });
})();
