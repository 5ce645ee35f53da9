/* Django's DateTimeShortcuts adds "Note: Enter times in the <server> timezone" beside
 * every date field when the browser's clock differs from the server's, date-only fields
 * included, where no time is entered. It skips a field whose row already holds an element
 * of class "timezonewarning"; this puts an empty, hidden one beside each date-only field
 * before it runs (it runs on window "load"; this on DOMContentLoaded). Date and time pairs
 * (a .vTimeField in the same row) keep their note. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input.vDateField").forEach(function (input) {
      var row = input.parentNode && input.parentNode.parentNode;
      if (!row || row.querySelector("input.vTimeField")) { return; }
      var marker = document.createElement("span");
      marker.className = "timezonewarning";
      marker.hidden = true;
      row.appendChild(marker);
    });
  });
})();
