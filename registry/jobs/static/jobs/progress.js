// The job page's progress bar: polls the job's JSON status once a second until the job
// has finished; the cancel button posts to the job's cancel URL. No inline script, so the
// page works under a strict Content-Security-Policy.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("job");
    if (!root) { return; }
    var url = root.dataset.statusUrl;
    var bar = root.querySelector(".job-bar");
    function show(s) {
      root.querySelector(".job-status").textContent = s.status_display;
      bar.max = s.total || 1;
      bar.value = s.done;
      var text = s.done + " / " + s.total + " " + root.dataset.labelRows + " · " +
        root.dataset.labelElapsed + " " + s.elapsed + " " + root.dataset.labelSeconds;
      if (s.estimate !== null) {
        text += " · " + root.dataset.labelEstimate.replace("%(seconds)s", s.estimate);
      }
      root.querySelector(".job-figures").textContent = text;
      root.querySelector(".job-summary").textContent = s.summary || "";
      var error = root.querySelector(".job-error");
      error.textContent = s.error || "";
      error.hidden = !s.error;
      var file = root.querySelector(".job-file");
      if (s.file_url) { file.querySelector("a").href = s.file_url; }
      file.hidden = !s.file_url;
      root.querySelector(".job-cancel").hidden = s.finished;
      var confirm = root.querySelector(".job-confirm");
      if (confirm) { confirm.hidden = s.status !== "succeeded"; }
      return s.finished;
    }
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) { if (!show(s)) { window.setTimeout(poll, 1000); } })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    var form = root.querySelector(".job-cancel");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": token, Accept: "application/json" }
      }).then(function (r) { return r.json(); }).then(show);
    });
    poll();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();
