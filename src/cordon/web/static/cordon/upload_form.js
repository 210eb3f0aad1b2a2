// Cordon: the "Files in" form shows only the fields the chosen kind of file needs (each such field names its
// kinds in data-kinds). Without JavaScript every field shows, labelled with its kind, and the server asks for
// the one the chosen kind needs.
(function () {
  "use strict";
  var kind = document.querySelector("form.upload-form select[name=kind]");
  if (!kind) return;
  var extras = document.querySelectorAll("form.upload-form [data-kinds]");
  function show() {
    for (var i = 0; i < extras.length; i++) {
      var needed = extras[i].getAttribute("data-kinds").split(" ").indexOf(kind.value) >= 0;
      var box = extras[i].closest(".field") || extras[i];
      box.style.display = needed ? "" : "none";
      extras[i].disabled = !needed;
    }
  }
  kind.addEventListener("change", show);
  show();
})();
