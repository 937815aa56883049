// The console works without this script. With it, the answers form says when it holds changes not yet saved, and
// shows or hides the questions that depend on an answer as that answer changes, before it is saved: a question is
// asked when the question it depends on (data-when-question) is itself asked and has one of the answers in
// data-when-any-of. A hidden question's fields are disabled, so they are not sent; the server still decides what is
// asked when the answers are saved.
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
  if (!form.hasAttribute("data-live")) { return; }

  var questions = Array.prototype.slice.call(form.querySelectorAll(".question[data-question]"));
  var byId = {};
  questions.forEach(function (q) { byId[q.getAttribute("data-question")] = q; });
  var news = document.createElement("p");
  news.setAttribute("aria-live", "polite");
  news.className = "visually-hidden";
  form.insertBefore(news, status.nextSibling);
  var note = document.getElementById("asked-note");
  if (note) { note.textContent = "Questions that depend on another answer appear as soon as you give that answer."; }

  // The answers chosen in a question: the values of its checked choices.
  function chosen(q) {
    var values = [];
    Array.prototype.forEach.call(q.querySelectorAll("input[type=radio], input[type=checkbox]"), function (input) {
      if (input.checked) { values.push(input.value); }
    });
    return values;
  }

  // Conditions only read earlier questions, so one pass in page order settles chains.
  function isAsked(q, asked) {
    var on = q.getAttribute("data-when-question");
    if (!on) { return true; }
    if (!byId[on] || !asked[on]) { return false; }
    var anyOf = JSON.parse(q.getAttribute("data-when-any-of") || "[]");
    return chosen(byId[on]).some(function (value) { return anyOf.indexOf(value) >= 0; });
  }

  function show(q, on) {
    q.hidden = !on;
    q.classList.toggle("not-asked", !on);
    Array.prototype.forEach.call(q.querySelectorAll("input, textarea, select"), function (field) {
      field.disabled = !on;
    });
  }

  function update(announce) {
    var asked = {};
    var appeared = [];
    var went = [];
    questions.forEach(function (q) {
      var id = q.getAttribute("data-question");
      var on = isAsked(q, asked);
      asked[id] = on;
      if (on === q.hidden) {
        show(q, on);
        (on ? appeared : went).push(id);
      }
    });
    if (!announce || (appeared.length === 0 && went.length === 0)) { return; }
    var parts = [];
    if (appeared.length) { parts.push("Now asked: " + appeared.join(", ") + "."); }
    if (went.length) { parts.push("No longer asked: " + went.join(", ") + "."); }
    news.textContent = parts.join(" ");
  }

  update(false);
  form.addEventListener("change", function () { update(true); });
})();
