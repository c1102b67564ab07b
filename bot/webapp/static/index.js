/* The menu button's page: the form for an operator, the dashboard for the kepala and the
   kabupaten roles (the server decides from the initData). */
(async function () {
  "use strict";
  const M = window.Monev;
  const r = await M.api("siapa");
  if (r.status === "ok" && r.halaman) {
    location.replace(M.base + "/" + r.halaman + location.hash);
    return;
  }
  M.show(M.message(r.pesan || M.teks.gagal, "error"));
})();
