// jindianzi: progressive enhancements only; every page works without JavaScript.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // Expose the CSRF token for fetch() calls made by later scripts.
  window.jdz = { csrf: meta ? meta.content : "" };

  // Prevent double submits: ignore a second submit of the same form.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.submitted === "1") { e.preventDefault(); return; }
    form.dataset.submitted = "1";
    Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"]'), function (b) {
      b.setAttribute("aria-disabled", "true");
    });
  });

  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // Region: show only the chosen province's cities.
  var province = document.getElementById("province");
  var city = document.getElementById("city");
  if (province && city) {
    var filterCities = function () {
      var p = province.value;
      Array.prototype.forEach.call(city.querySelectorAll("optgroup"), function (g) {
        var match = !p || g.dataset.province === p;
        g.hidden = !match;
        g.disabled = !match;
      });
      var sel = city.options[city.selectedIndex];
      if (sel && sel.parentNode.dataset && sel.parentNode.dataset.province && p && sel.parentNode.dataset.province !== p) {
        city.value = "";
      }
    };
    province.addEventListener("change", filterCities);
    filterCities();
  }

  // Similar ideas and the suggested theme while the resident types.
  var form = document.getElementById("idea-form");
  var panel = document.getElementById("similar");
  if (form && panel) {
    var title = document.getElementById("title");
    var body = document.getElementById("body");
    var theme = document.getElementById("theme");
    var campaign = panel.dataset.campaign;
    var timer = null;
    var lookup = function () {
      var text = (title.value + " " + body.value).trim();
      if (text.length < 8) { panel.hidden = true; return; }
      var q = "?campaign=" + encodeURIComponent(campaign) + "&text=" + encodeURIComponent(text.slice(0, 500));
      fetch("/api/v1/ideas/similar" + q, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          var list = panel.querySelector("ul");
          list.textContent = "";
          var hits = (data && data.ideas) || [];
          hits.forEach(function (h) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = "/ideas/" + h.id;
            a.target = "_blank";
            a.textContent = h.title;
            li.appendChild(a);
            list.appendChild(li);
          });
          panel.hidden = hits.length === 0;
        })
        .catch(function () { panel.hidden = true; });
      if (theme && !theme.value) {
        fetch("/api/v1/campaigns/" + encodeURIComponent(campaign) + "/suggest-theme?text=" + encodeURIComponent(text.slice(0, 2000)))
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            var first = theme.options[0];
            first.textContent = data && data.theme ? "让系统推荐（推荐：" + data.theme + "）" : "让系统推荐";
          })
          .catch(function () {});
      }
    };
    var schedule = function () { clearTimeout(timer); timer = setTimeout(lookup, 600); };
    title.addEventListener("input", schedule);
    body.addEventListener("input", schedule);
  }
})();

// Moderation queue keyboard triage: j/k move, a approve, r reject (needs a
// reason chosen first), m merge into the first duplicate, x select for bulk.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) { return; }
  var items = Array.prototype.slice.call(queue.querySelectorAll(".queue-item"));
  if (items.length === 0) { return; }
  var current = 0;
  var focus = function (i) {
    current = Math.max(0, Math.min(items.length - 1, i));
    items[current].focus();
  };
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) { return; }
    var item = items[current];
    var press = function (action) {
      var b = item.querySelector('button[name="action"][value="' + action + '"]');
      if (b) { b.click(); }
    };
    switch (e.key) {
      case "j": focus(current + 1); break;
      case "k": focus(current - 1); break;
      case "a": press("approve"); break;
      case "r":
        var reason = item.querySelector('[data-role="reason"]');
        if (reason && !reason.value) { reason.focus(); return; }
        press("reject"); break;
      case "m":
        var target = item.querySelector('[data-role="target"]');
        if (target && !target.value) { target.focus(); return; }
        press("merge"); break;
      case "x":
        var box = item.querySelector('input[type="checkbox"]');
        if (box) { box.checked = !box.checked; }
        break;
      default: return;
    }
    e.preventDefault();
  });
  items.forEach(function (el, i) { el.addEventListener("focus", function () { current = i; }); });
})();
