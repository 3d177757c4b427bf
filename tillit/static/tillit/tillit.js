// Tillit ships no inline script (the Content-Security-Policy forbids it); this is all of it.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.form && field.hasAttribute("data-autosubmit")) {
    field.form.submit();
  }
});
