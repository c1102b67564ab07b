/* The dashboard: the server draws it (escaped HTML and SVG); the page only asks for another
   quarter or office. */
(async function () {
  "use strict";
  const M = window.Monev;
  const query = { tahun: null, tw: null, opd: null };

  async function load() {
    const r = await M.api("dasbor", query);
    const app = document.getElementById("app");
    if (r.status !== "ok") {
      M.show(M.message(r.pesan || M.teks.gagal, "error"));
      return;
    }
    app.innerHTML = r.html; // built and escaped by the server (bot/views/webapp.py)
    for (const b of app.querySelectorAll("button[data-tw], button[data-opd]")) {
      b.addEventListener("click", function () {
        if (b.dataset.tw) {
          query.tahun = Number(b.dataset.tahun);
          query.tw = Number(b.dataset.tw);
        }
        if (b.dataset.opd !== undefined) {
          query.opd = Number(b.dataset.opd) || null;
          if (!b.dataset.tw) query.tw = query.tahun = null;
        }
        load();
      });
    }
    window.scrollTo(0, 0);
  }
  load();
})();
