// Applies the remembered (or the system's) theme before the first paint.
// A file rather than an inline script, so that the UI's Content-Security-Policy
// can forbid inline scripts.
(function () {
  var t = null;
  try {
    t = localStorage.getItem("ariadne.theme");
  } catch (e) {}
  if (t !== "dark" && t !== "light") {
    t = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.documentElement.dataset.theme = t;
})();
