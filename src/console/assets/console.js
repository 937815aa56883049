// The console works without this script. With it, the answers form shows or hides the questions that depend on an
// answer as that answer changes, before it is saved: a question is asked when the question it depends on
// (data-when-question) is itself asked and has one of the answers in data-when-any-of. A hidden question's fields
// are disabled, so they are not sent; the server still decides what is asked when the answers are saved.
//
// And it saves the answers as they are given: shortly after typing stops, and at once when a choice changes or a
// field is left, it sends the form (its CSRF token and the version it holds) to the same address as the Save button,
// asking for JSON. One save at a time, in order; each answer's new version goes into every form on the page that
// holds the assessment's version (data-assessment-version), so that the next save, an upload or the submission is
// made on it. The status region says "Saved at ..." or "Not saved: ..." with the question and the reason. A version
// someone else moved on is never overwritten: saving stops and the vendor is asked to reload.
(function () {
  "use strict";
  var form = document.getElementById("answers");
  if (!form) { return; }
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  status.id = "save-status";
  status.className = "hint save-status";
  form.insertBefore(status, form.firstChild);
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

  // --- Answers saved as they are given.
  var saveNote = document.getElementById("save-note");
  if (saveNote) { saveNote.textContent = "Your answers are saved as you give them; submit when you are done."; }
  var timer = null;
  var inFlight = false;
  var again = false;
  var stale = false;
  var submitAfter = null;
  // The answers as last stored (or as the page was read): a form holding the same is not sent again.
  var lastSaved = answersOf();

  function answersOf() {
    var data = new URLSearchParams(new FormData(form));
    data.delete("csrf");
    data.delete("version");
    return data.toString();
  }

  // The status region's text, and its state for styles and tests: pending, saved, failed or stale.
  function say(text, state) {
    status.textContent = text;
    status.setAttribute("data-save-state", state);
  }

  function mark(state) { status.setAttribute("data-save-state", state); }

  function setVersion(version) {
    if (!version) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("input[data-assessment-version]"), function (field) {
      field.value = version;
    });
  }

  function faults(errors) {
    return errors.map(function (e) {
      return (e.question_id ? e.question_id + ": " : "") + e.message;
    }).join("; ");
  }

  function schedule(delay) {
    if (stale) { return; }
    if (timer !== null) { clearTimeout(timer); }
    mark("pending");
    timer = setTimeout(save, delay);
  }

  function pending() { return timer !== null || inFlight; }

  // After a save: a form whose submission waited for it goes now (the answers form even when the save was refused,
  // so that its page shows each fault at its question; any other only when the answers are stored).
  function settled(ok) {
    if (pending() || !submitAfter) { return; }
    var next = submitAfter;
    submitAfter = null;
    if (ok || (next === form && !stale)) { next.submit(); }
  }

  function save() {
    timer = null;
    if (stale) { return; }
    if (inFlight) { again = true; return; }
    var answers = answersOf();
    if (answers === lastSaved) {
      if (!inFlight && status.getAttribute("data-save-state") === "pending") {
        if (status.textContent.indexOf("Not saved") === 0) {
          say("Nothing left to save: the answers are as stored.", "saved");
        } else {
          mark("saved");
        }
      }
      settled(true);
      return;
    }
    inFlight = true;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().catch(function () {
        return { saved: false, message: "the service answered " + resp.status + ". Reload the page and try again." };
      });
    }).then(function (answer) {
      inFlight = false;
      var ok = answer.saved === true;
      if (ok) {
        lastSaved = answers;
        setVersion(answer.version);
        var at = answer.saved_at ? new Date(answer.saved_at) : new Date();
        // Still pending when a change came while this save was under way (queued or waiting for its timer).
        say("Saved at " + at.toLocaleTimeString() + ".", again || timer !== null ? "pending" : "saved");
      } else if (answer.stale) {
        stale = true;
        say("Not saved: " + answer.message, "stale");
      } else if (answer.errors && answer.errors.length) {
        say("Not saved: " + faults(answer.errors), "failed");
      } else {
        say("Not saved: " + (answer.message || "the service did not take it."), "failed");
      }
      if (again) { again = false; save(); }
      settled(ok);
    }, function () {
      inFlight = false;
      say("Not saved: the service could not be reached. Your answers are still on this page; they are sent again " +
          "with your next change, or use Save answers.", "failed");
      if (again) { again = false; save(); }
      settled(false);
    });
  }

  form.addEventListener("input", function () { schedule(1500); });
  // A choice changed or a field left: the questions shown are settled first (the listener above), then it is sent.
  form.addEventListener("change", function () { schedule(150); });

  // A form that holds the assessment's version waits for the save under way, then goes on the version it moved to.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (other) {
    if (!other.querySelector("input[data-assessment-version]")) { return; }
    other.addEventListener("submit", function (event) {
      if (stale || !pending()) { return; }
      event.preventDefault();
      submitAfter = other;
      if (timer !== null) { clearTimeout(timer); timer = null; save(); }
    });
  });
})();
