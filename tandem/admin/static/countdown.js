/* Counts down the review window before a supplier order goes to its supplier.
   The server wrote the starting value and the translated patterns; no framework, no inline code. */
(function () {
  "use strict";
  var started = Date.now();
  var clocks = Array.prototype.slice.call(document.querySelectorAll("[data-seconds-left]"));

  function format(clock, left) {
    var minutes = Math.floor(left / 60);
    var pattern = minutes ? clock.dataset.minutes : clock.dataset.seconds;
    return pattern.replace("%(minutes)s", String(minutes)).replace("%(seconds)s", String(left % 60));
  }

  function tick() {
    var elapsed = Math.floor((Date.now() - started) / 1000);
    clocks.forEach(function (clock) {
      var left = Number(clock.dataset.secondsLeft) - elapsed;
      if (left > 0) {
        clock.querySelector(".countdown-time").textContent = format(clock, left);
      } else if (!clock.dataset.over) {
        clock.dataset.over = "true";
        clock.textContent = clock.dataset.done;
      }
    });
  }

  if (clocks.length) {
    window.setInterval(tick, 1000);
  }
})();
