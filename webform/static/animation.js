/* atelier — facilitator pages that update themselves (the live wall, a preview being rendered).
   Without this script a <noscript> meta refresh reloads the whole page.  With it, the page's
   content is fetched again and replaced in place: the projected wall keeps its scroll position,
   and the « pause » link stops the updates without leaving the page (WCAG 2.2.1). */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="actualisation"]');
  if (!meta || !window.fetch || !window.DOMParser) {
    return;
  }
  var seconds = parseInt(meta.getAttribute("content"), 10) || 15;
  var paused = false;
  var timer = null;

  function pauseLink() {
    return document.getElementById("pause-actualisation");
  }

  function showState() {
    var link = pauseLink();
    if (link) {
      link.textContent = link.getAttribute(paused ? "data-reprendre" : "data-pause");
    }
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!paused) {
      timer = window.setTimeout(update, seconds * 1000);
    }
  }

  function update() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          window.location.reload(); // logged out, or an error page: let the browser show it
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var content = fresh.getElementById("contenu");
        var main = document.getElementById("contenu");
        if (!content || !main) {
          return;
        }
        var focused = document.activeElement && document.activeElement.id;
        main.innerHTML = content.innerHTML; // our own page, already escaped by the server
        document.title = fresh.title;
        if (focused && document.getElementById(focused)) {
          document.getElementById(focused).focus();
        }
        showState();
        var next = fresh.querySelector('meta[name="actualisation"]');
        if (next) {
          seconds = parseInt(next.getAttribute("content"), 10) || seconds;
          schedule();
        }
      })
      .catch(function () {
        schedule(); // the network dropped: try again at the next tick
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#pause-actualisation");
    if (!link) {
      return;
    }
    event.preventDefault();
    paused = !paused;
    showState();
    schedule();
  });

  showState();
  schedule();
})();
