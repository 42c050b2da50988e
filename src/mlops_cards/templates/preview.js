(function () {
  // Browsers without declarative shadow DOM: attach the card roots by hand.
  document.querySelectorAll("template[shadowrootmode]").forEach(function (t) {
    var root = t.parentNode.attachShadow({ mode: "open" });
    root.appendChild(t.content);
    t.remove();
  });
  var box = document.getElementById("pv-night");
  box.addEventListener("change", function () {
    document.body.classList.toggle("pv-night", box.checked);
    document.querySelectorAll(".pv-host").forEach(function (host) {
      host.shadowRoot.querySelectorAll(".card").forEach(function (card) {
        card.classList.toggle("nightMode", box.checked);
        card.classList.toggle("night_mode", box.checked);
      });
    });
  });
})();
