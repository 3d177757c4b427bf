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

// A form is sent once: after the first submit its buttons are disabled (a second click would start the same
// import or bulk action again; the server refuses a repeated one-time token as well). A form whose answer is a
// download leaves the page where it was, so its buttons come back after a while.
function tillitRelease(form) {
  form.removeAttribute("data-sent");
  form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
}
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.method || form.method.toLowerCase() !== "post") {
    return;
  }
  if (form.getAttribute("data-sent") === "1") {
    event.preventDefault();
    return;
  }
  form.setAttribute("data-sent", "1");
  setTimeout(function () {
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  }, 0);
  setTimeout(function () { tillitRelease(form); }, 8000);
});
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sent]").forEach(tillitRelease);
});

// The employer picker: while a name is typed, the matching employers the user covers fill the list; choosing
// one puts its id in the hidden field. Without the script the typed name is looked up by the server.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-picker]").forEach(function (box) {
    var field = box.querySelector("input[type=search]");
    var hidden = box.querySelector("input[type=hidden]");
    var list = box.querySelector("datalist");
    var found = {};
    var timer = null;
    field.addEventListener("input", function () {
      hidden.value = found[field.value] || "";
      clearTimeout(timer);
      if (found[field.value] || field.value.trim().length < 2) {
        return;
      }
      timer = setTimeout(function () {
        fetch(box.getAttribute("data-picker") + "?q=" + encodeURIComponent(field.value),
              {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (response) { return response.ok ? response.json() : {results: []}; })
          .then(function (data) {
            list.innerHTML = "";
            data.results.forEach(function (item) {
              found[item.name] = String(item.id);
              var option = document.createElement("option");
              option.value = item.name;
              option.label = item.kind;
              list.appendChild(option);
            });
          });
      }, 200);
    });
  });
});

// Keyboard shortcuts (listed on "?"): none fires while typing in a field.
(function () {
  var pending = "";
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function rows() {
    var list = document.querySelector("[data-keyboard-list]");
    return list ? Array.prototype.slice.call(list.querySelectorAll("tbody tr, li")).filter(function (row) {
      return row.querySelector("a[href]");
    }) : [];
  }
  function move(step) {
    var all = rows();
    if (!all.length) {
      return;
    }
    var index = all.findIndex(function (row) { return row.classList.contains("selected"); });
    if (index >= 0) {
      all[index].classList.remove("selected");
    }
    index = Math.max(0, Math.min(all.length - 1, index + step));
    all[index].classList.add("selected");
    all[index].querySelector("a[href]").focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var key = event.key;
    var dialog = document.getElementById("shortcuts");
    if (pending === "g") {
      pending = "";
      if (key === "q") { window.location.href = "/cases/"; }
      if (key === "h") { window.location.href = "/"; }
      return;
    }
    if (key === "?" && dialog) {
      event.preventDefault();
      dialog.showModal();
    } else if (key === "/") {
      var search = document.getElementById("global-search");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (key === "g") {
      pending = "g";
    } else if (key === "j") {
      move(1);
    } else if (key === "k") {
      move(-1);
    } else if (key === "a") {
      var assign = document.querySelector("[data-shortcut=assign]");
      if (assign) { event.preventDefault(); assign.click(); }
    } else if (key === "n") {
      var note = document.querySelector(".reply textarea");
      if (note) { event.preventDefault(); note.focus(); }
    }
  });
}());

// Ctrl+Enter (or ⌘+Enter) in a text area sends its form: a note is written and saved without the mouse.
document.addEventListener("keydown", function (event) {
  var field = event.target;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && field.tagName === "TEXTAREA" && field.form) {
    event.preventDefault();
    field.form.requestSubmit();
  }
});

// Passkeys (WebAuthn): a form marked data-passkey="create" or "get" asks the browser for a credential with the
// options the server put in the page (#passkey-options), then sends the browser's answer as JSON.
(function () {
  var form = document.querySelector("form[data-passkey]");
  if (!form || !window.PublicKeyCredential) { return; }
  var button = form.querySelector("[data-passkey-start]");
  var error = form.querySelector("[data-passkey-error]");
  button.addEventListener("click", function () {
    var options = JSON.parse(JSON.parse(document.getElementById("passkey-options").textContent));
    var ask = form.dataset.passkey === "create"
      ? navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)})
      : navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
    ask.then(function (credential) {
      form.querySelector("[name=credential]").value = JSON.stringify(credential.toJSON());
      form.submit();
    }).catch(function (reason) {
      error.textContent = reason.message || String(reason);
      error.hidden = false;
    });
  });
}());

// The top bar's menu groups: opening one closes the others, and a click elsewhere or Escape closes them.
(function () {
  var groups = document.querySelectorAll("details.menu-group");
  if (!groups.length) { return; }
  function closeAll(except) {
    groups.forEach(function (group) { if (group !== except) { group.open = false; } });
  }
  groups.forEach(function (group) {
    group.addEventListener("toggle", function () { if (group.open) { closeAll(group); } });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("details.menu-group")) { closeAll(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeAll(null); }
  });
}());

// A form marked data-confirm asks before it is sent (closing a case, say).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// A button marked data-copy="<id>" copies that field's text (a new share link) and says so.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) { return; }
  var field = document.getElementById(button.dataset.copy);
  if (!field) { return; }
  field.select();
  var done = function () { button.textContent = button.dataset.copied || button.textContent; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done);
  } else {
    document.execCommand("copy");
    done();
  }
});
