// Admin forms: move the focus to the error summary, so a screen reader reads
// every error at once and a keyboard user starts from the list of links.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});
