// jindianzi: progressive enhancements only; every page works without JavaScript.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // Expose the CSRF token for fetch() calls made by later scripts.
  window.jdz = { csrf: meta ? meta.content : "" };
  // Prevent double submits: disable a form's submit buttons once it is sent.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.submitted === "1") { e.preventDefault(); return; }
    form.dataset.submitted = "1";
    Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"]'), function (b) {
      b.setAttribute("aria-disabled", "true");
    });
  });
})();
