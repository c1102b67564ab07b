/* Shared by the Mini App's pages: Telegram's initData, the API, small DOM helpers. No
   framework, no inline code (the Content-Security-Policy allows scripts from here only). */
(function () {
  "use strict";
  const M = (window.Monev = {});
  M.teks = JSON.parse(document.getElementById("teks").textContent);
  M.base = document.body.dataset.base;

  // Telegram opens the page with "#tgWebAppData=…" (and theme parameters) in the URL;
  // kept for reloads of the same tab.
  function fromHash(name) {
    return new URLSearchParams(location.hash.slice(1)).get(name);
  }
  function remember(key, value) {
    try {
      if (value) sessionStorage.setItem(key, value);
      return value || sessionStorage.getItem(key) || "";
    } catch (e) {
      return value || "";
    }
  }
  M.initData = remember("monev:init", fromHash("tgWebAppData"));
  M.userId = (function () {
    try {
      return JSON.parse(new URLSearchParams(M.initData).get("user")).id;
    } catch (e) {
      return 0;
    }
  })();

  // Telegram's colours, when the client gives them.
  try {
    const theme = JSON.parse(remember("monev:theme", fromHash("tgWebAppThemeParams")) || "{}");
    const root = document.documentElement.style;
    for (const [k, v] of Object.entries(theme)) {
      if (/^#[0-9a-fA-F]{3,8}$/.test(v)) root.setProperty("--tg-" + k.replace(/_/g, "-"), v);
    }
  } catch (e) {
    /* the page's own colours */
  }

  // Telegram's WebApp events (ready, expand, close) without loading telegram.org's script.
  M.event = function (type, data) {
    const payload = JSON.stringify(data || {});
    try {
      if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent(type, payload);
      else if (window.external && "notify" in window.external)
        window.external.notify(JSON.stringify({ eventType: type, eventData: data || {} }));
      else if (window.parent !== window)
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), "*");
    } catch (e) {
      /* outside Telegram: nothing to tell */
    }
  };

  M.api = async function (path, body) {
    let r;
    try {
      r = await fetch(M.base + "/api/" + path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "tma " + M.initData },
        body: JSON.stringify(body || {}),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (e) {
      return { status: "jaringan", pesan: M.teks.jaringan, http: 0 };
    }
    try {
      const j = await r.json();
      j.http = r.status;
      return j;
    } catch (e) {
      return { status: "gagal", pesan: M.teks.gagal, http: r.status };
    }
  };

  // el("p", {class: "note"}, "text", child…): every text goes in as text, never as HTML.
  M.el = function (tag, attrs) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k in node && k !== "list") node[k] = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of Array.prototype.slice.call(arguments, 2)) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : String(kid));
    }
    return node;
  };

  M.show = function (...nodes) {
    const app = document.getElementById("app");
    app.replaceChildren(...nodes);
  };

  M.message = function (text, cls) {
    return M.el("p", { className: cls || "note" }, text);
  };

  M.event("web_app_ready");
  M.event("web_app_expand");
})();
