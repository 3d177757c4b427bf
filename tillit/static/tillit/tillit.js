// Tillit ships no inline script (the Content-Security-Policy forbids it); this is all of it.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.form && field.hasAttribute("data-autosubmit")) {
    field.form.submit();
  }
});

// A part of the page that follows work in the background (a dues run's progress): every 2 seconds it is
// fetched again from its data-poll address and replaced; the new part polls on while it still says so.
function tillitPoll(part) {
  var url = part.getAttribute("data-poll");
  if (!url) {
    return;
  }
  setTimeout(function () {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var box = document.createElement("div");
        box.innerHTML = html;
        var fresh = box.firstElementChild;
        if (fresh) {
          part.replaceWith(fresh);
          tillitPoll(fresh);
        }
      })
      .catch(function () { tillitPoll(part); });
  }, 2000);
}
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-poll]").forEach(tillitPoll);
});

// Answers before asking: while the person types a request's title, matching help articles are fetched from
// data-suggest (a fragment of HTML) into the live region named by data-suggest-into. Without JavaScript the
// form's "Find answers" button shows the same list.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-suggest]").forEach(function (field) {
    var into = document.getElementById(field.getAttribute("data-suggest-into"));
    var timer = null;
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = field.getAttribute("data-suggest") + "?q=" + encodeURIComponent(field.value);
        fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
          .then(function (response) { return response.ok ? response.text() : ""; })
          .then(function (html) { if (into) { into.innerHTML = html; } });
      }, 250);
    });
  });
});
