// A workflow step opens its own page and does not save the form: warn before edits are lost.
(function () {
  "use strict";
  const form = document.querySelector("#feature_form");
  if (!form) {
    return;
  }
  let changed = false;
  form.addEventListener("input", function () { changed = true; });
  form.addEventListener("change", function () { changed = true; });
  form.addEventListener("submit", function () { changed = false; });
  document.querySelectorAll(".workflow-actions a").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (changed && !window.confirm(
        "You have changes that are not saved. Leave them and go to “" + link.textContent.trim() + "”?"
      )) {
        event.preventDefault();
      }
    });
  });
}());
