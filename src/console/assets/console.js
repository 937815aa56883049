// The console works without this script. With it, the answers form says when it holds changes not yet saved.
(function () {
  "use strict";
  var form = document.getElementById("answers");
  if (!form) { return; }
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  status.className = "hint";
  form.insertBefore(status, form.firstChild);
  form.addEventListener("change", function () {
    status.textContent = "You have changes that are not saved yet.";
  });
})();
