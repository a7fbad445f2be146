// Small enhancements on top of htmx; the pages work without them.
//
// The modal: a section action loads its form into <dialog id="modal"> (hx-target="#modal");
// the dialog opens when content arrives and closes when the server sends the "closeModal"
// event with HX-Trigger after a successful save.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var modal = document.getElementById("modal");
    if (modal && event.detail.target === modal && !modal.open) {
      modal.showModal();
      var first = modal.querySelector("[autofocus], input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    }
  });
  document.body.addEventListener("closeModal", function () {
    var modal = document.getElementById("modal");
    if (modal && modal.open) modal.close();
  });
  document.addEventListener("close", function (event) {
    if (event.target.id === "modal") event.target.replaceChildren();
  }, true);
})();
