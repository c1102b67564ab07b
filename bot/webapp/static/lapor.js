/* /lapor as one form. The server decides everything (checks, drops, saving, Kirim); the page
   shows the draft, keeps what is typed in this device's storage until the server has it,
   and says what the server said. */
(async function () {
  "use strict";
  const M = window.Monev;
  const T = M.teks;
  const el = M.el;

  let form = null; // the draft as the server last sent it
  let store = { isian: {}, ya: {}, dasar: {} }; // typed, not yet saved (survives closing)
  const inputs = {};
  const notes = {};
  let server = {}; // key -> the draft's value as input text
  let busy = false;

  // --- this device's copy of what is not saved yet ------------------------------------------

  function storageKey() {
    return "monev:lapor:" + M.userId + ":" + form.draf;
  }
  function loadStore() {
    try {
      const s = JSON.parse(localStorage.getItem(storageKey()) || "null");
      if (s && s.isian) store = { isian: s.isian, ya: s.ya || {}, dasar: s.dasar || {} };
    } catch (e) {
      /* nothing kept */
    }
  }
  function persist() {
    try {
      if (Object.keys(store.isian).length) localStorage.setItem(storageKey(), JSON.stringify(store));
      else localStorage.removeItem(storageKey());
    } catch (e) {
      /* private mode: the page still works, only closing it loses the input */
    }
    status();
  }
  function forget(key) {
    delete store.isian[key];
    delete store.ya[key];
    delete store.dasar[key];
  }

  function values(f) {
    const v = {};
    for (const s of f.subs) {
      v["anggaran:" + s.id] = s.anggaran;
      v["fisik:" + s.id] = s.fisik;
      v["ket:" + s.id] = s.ket;
    }
    for (const i of f.indikator) v["ind:" + i.id] = i.nilai;
    for (const s of f.sasaran) for (const x of s.isian) v[x.kind + ":" + s.id] = x.nilai;
    return v;
  }

  // --- fields --------------------------------------------------------------------------------

  function note(key, text, cls, extra) {
    const n = notes[key];
    if (!n) return;
    n.className = "fnote " + (cls || "");
    n.replaceChildren(...(text ? [text] : []), ...(extra || []));
  }

  function confirmBox(key, question) {
    const box = el("input", {
      type: "checkbox",
      name: "ya:" + key,
      checked: !!store.ya[key],
      on: {
        change: function () {
          if (box.checked) store.ya[key] = true;
          else delete store.ya[key];
          if (!(key in store.isian)) {
            store.isian[key] = inputs[key].value;
            store.dasar[key] = server[key];
          }
          persist();
        },
      },
    });
    note(key, question, "warn", [el("label", { className: "ya" }, box, " " + T.ya_benar)]);
  }

  async function check(key) {
    const asked = inputs[key].value;
    const r = await M.api("lapor/periksa", { isian: key, teks: asked });
    // Answered late (the field changed since, or a save came back first): a stale "ok" must
    // not replace what is shown now, above all the note of a change made in the chat.
    if (inputs[key].value !== asked) return;
    if (r.status !== "ok") return note(key, r.pesan, "error");
    if (r.galat) note(key, r.galat, "error");
    else if (r.konfirmasi) confirmBox(key, r.konfirmasi);
    else if (!notes[key].classList.contains("warn")) note(key, r.nilai ? "= " + r.nilai : "", "ok");
  }

  function edited(key) {
    const input = inputs[key];
    if (input.value === server[key]) forget(key);
    else {
      if (!(key in store.isian)) store.dasar[key] = server[key];
      store.isian[key] = input.value;
      delete store.ya[key];
    }
    input.classList.toggle("dirty", key in store.isian);
    persist();
  }

  function field(key, label, opts) {
    const o = opts || {};
    const id = "f-" + key.replace(":", "-");
    const attrs = {
      id: id,
      name: key,
      value: key in store.isian ? store.isian[key] : server[key],
      placeholder: o.placeholder || "",
      autocomplete: "off",
      on: { input: () => edited(key), change: () => check(key) },
    };
    if (o.numeric) attrs.inputMode = "decimal";
    const input = o.textarea ? el("textarea", attrs) : el("input", Object.assign({ type: "text" }, attrs));
    input.classList.toggle("dirty", key in store.isian);
    inputs[key] = input;
    notes[key] = el("div", { className: "fnote" });
    const row = el("div", { className: "row" }, input);
    if (o.prev) {
      row.append(
        el(
          "button",
          {
            type: "button",
            className: "prev",
            name: "lalu:" + key,
            on: {
              click: function () {
                input.value = o.prev;
                edited(key);
                check(key);
              },
            },
          },
          o.prevLabel || T.sama_tw_lalu
        )
      );
    }
    return el(
      "div",
      { className: "field" },
      el("label", { htmlFor: id }, label),
      o.hint ? el("div", { className: "muted" }, o.hint) : null,
      row,
      notes[key]
    );
  }

  // --- the page ------------------------------------------------------------------------------

  function summary(f) {
    return el(
      "section",
      { className: "card summary", id: "ringkasan" },
      el("h2", {}, "Ringkasan"),
      ...f.ringkasan.map((t) => el("p", {}, t)),
      ...f.catatan.map((t) => el("p", { className: "warn" }, t)),
      el("p", { className: "muted" }, f.bukti)
    );
  }

  function render(f) {
    const parts = [el("h1", {}, f.judul)];
    if (f.dikembalikan) parts.push(M.message(f.dikembalikan, "warn"));
    parts.push(
      el(
        "p",
        { className: "note" },
        f.bukti_catatan + " ",
        f.chat ? el("a", { href: f.chat, target: "_blank", rel: "noopener" }, T.kembali_chat) : null
      )
    );
    parts.push(el("div", { id: "banner" }));
    for (const s of f.subs) {
      parts.push(
        el(
          "section",
          { className: "card", id: "sub-" + s.id },
          el("h2", {}, s.no + ". " + s.nama),
          el("p", { className: "muted" }, s.program + (s.kegiatan ? " › " + s.kegiatan : "")),
          el("p", {}, "Pagu " + s.pagu + " · Target " + s.target),
          el("p", { className: "muted" }, s.lalu + (s.bukti ? " · bukti " + s.bukti + " berkas" : "")),
          field("anggaran:" + s.id, T.anggaran, {
            numeric: true,
            placeholder: T.contoh_anggaran,
            prev: s.lalu_anggaran,
          }),
          field("fisik:" + s.id, T.fisik, { numeric: true, placeholder: T.contoh_fisik, prev: s.lalu_fisik }),
          field("ket:" + s.id, T.ket, {})
        )
      );
    }
    if (f.indikator.length) {
      parts.push(
        el(
          "section",
          { className: "card", id: "indikator" },
          el("h2", {}, "Indikator sasaran"),
          ...f.indikator.map((i) =>
            field("ind:" + i.id, "Sasaran " + i.sasaran + " — " + i.nama, {
              numeric: true,
              hint: i.lalu_teks,
              prev: i.lalu,
            })
          )
        )
      );
    }
    for (const s of f.sasaran) {
      parts.push(
        el(
          "section",
          { className: "card", id: "sasaran-" + s.id },
          el("h2", {}, "Catatan sasaran " + s.nomor),
          el("p", { className: "muted" }, s.teks),
          ...s.isian.map((x) =>
            field(x.kind + ":" + s.id, x.label, {
              textarea: true,
              hint: x.lalu ? "TW lalu: " + x.lalu : "",
              prev: x.lalu,
              prevLabel: T.salin_tw_lalu,
            })
          )
        )
      );
    }
    parts.push(summary(f));
    parts.push(
      el(
        "footer",
        {},
        el("span", { id: "status" }),
        el("button", { type: "button", id: "simpan", on: { click: () => save() } }, T.simpan),
        el("button", { type: "button", id: "kirim", className: "main", on: { click: () => send() } }, T.kirim)
      )
    );
    M.show(...parts);
    status();
  }

  function status() {
    const n = Object.keys(store.isian).length;
    const s = document.getElementById("status");
    if (s) s.textContent = n ? T.belum_disimpan.replace("{n}", n) : T.semua_tersimpan;
  }

  function banner(text, cls, extra) {
    const b = document.getElementById("banner");
    b.replaceChildren(...(text ? [M.message(text, cls || "note")] : []), ...(extra || []));
    if (text) b.scrollIntoView({ block: "nearest" });
  }

  // The draft the server sent: fields nobody typed into take its values; a typed field whose
  // draft value changed meanwhile (in the chat) shows that value beside the typed one.
  function adopt(f, conflicts) {
    form = f;
    server = values(f);
    for (const [key, input] of Object.entries(inputs)) {
      if (!(key in store.isian)) {
        input.value = server[key];
        continue;
      }
      if (conflicts && store.dasar[key] !== server[key]) {
        const use = el(
          "button",
          {
            type: "button",
            className: "prev",
            on: {
              click: function () {
                input.value = server[key];
                forget(key);
                input.classList.remove("dirty");
                note(key, "");
                persist();
              },
            },
          },
          T.pakai_draf
        );
        note(key, T.di_chat.replace("{v}", server[key] || "(kosong)"), "warn", [use]);
        store.dasar[key] = server[key];
      }
    }
    document.getElementById("ringkasan").replaceWith(summary(f));
    persist();
  }

  async function save() {
    if (busy) return null;
    const keys = Object.keys(store.isian);
    if (!keys.length) {
      banner(T.semua_tersimpan);
      return { status: "tersimpan", galat: {}, konfirmasi: {} };
    }
    busy = true;
    banner(T.menyimpan);
    const isian = {};
    for (const k of keys) isian[k] = { teks: store.isian[k], ya: !!store.ya[k] };
    const r = await M.api("lapor/simpan", { revisi: form.revisi, isian: isian });
    busy = false;
    if (r.status === "tersimpan") {
      for (const k of r.disimpan) {
        forget(k);
        inputs[k].classList.remove("dirty");
        note(k, "");
      }
      adopt(r.form, false);
      for (const [k, msg] of Object.entries(r.galat)) note(k, msg, "error");
      for (const [k, q] of Object.entries(r.konfirmasi)) confirmBox(k, q);
      const problems = Object.keys(r.galat).length + Object.keys(r.konfirmasi).length;
      banner(r.pesan, problems ? "warn" : "ok");
    } else if (r.status === "berubah") {
      adopt(r.form, true);
      banner(r.pesan, "warn");
    } else {
      banner(r.pesan, "error");
    }
    return r;
  }

  async function send(over, discard) {
    if (!discard) {
      const saved = await save();
      if (!saved || saved.status !== "tersimpan") return;
      if (Object.keys(saved.galat).length || Object.keys(saved.konfirmasi).length) return;
    }
    if (busy) return;
    busy = true;
    banner(T.mengirim);
    const r = await M.api("lapor/kirim", { revisi: form.revisi, menimpa: over || null, buang: !!discard });
    busy = false;
    if (r.status === "terkirim" || r.status === "dibuang") {
      store = { isian: {}, ya: {}, dasar: {} };
      persist();
      M.show(
        el("h1", {}, form.judul),
        M.message(r.pesan, r.status === "terkirim" ? "ok" : "note"),
        el("button", { type: "button", className: "main", on: { click: () => M.event("web_app_close") } }, T.kembali_chat)
      );
    } else if (r.status === "didahului") {
      banner(r.pesan, "warn", [
        el("button", { type: "button", on: { click: () => send(null, true) } }, T.buang),
        el("button", { type: "button", className: "main", on: { click: () => send(r.versi, false) } }, T.timpa),
      ]);
    } else if (r.status === "berubah") {
      adopt(r.form, true);
      banner(r.pesan, "warn");
    } else {
      if (r.form) adopt(r.form, false);
      banner(r.pesan, "error");
    }
  }

  // --- start ---------------------------------------------------------------------------------

  const r = await M.api("lapor");
  if (r.status !== "ok") {
    M.show(M.message(r.pesan || T.gagal, r.status === "pesan" ? "note" : "error"));
    return;
  }
  form = r.form;
  server = values(form);
  loadStore();
  render(form);
  if (Object.keys(store.isian).length) {
    // Typed earlier on this device and not saved: back in the fields, marked, and any draft
    // value that changed since shown beside it.
    adopt(form, true);
    banner(T.belum_disimpan.replace("{n}", Object.keys(store.isian).length), "warn");
  }
})();
