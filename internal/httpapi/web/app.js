// voiced's page: live events, controls and settings over the device's own API.
// Plain JavaScript, no dependencies; the status part works without it.
"use strict";
(function () {
  const $ = (s) => document.querySelector(s);
  const csrf = (document.querySelector("meta[name=csrf]") || {}).content || "";

  function api(method, path, body, extra) {
    const h = Object.assign({ "X-CSRF-Token": csrf }, extra || {});
    if (body !== undefined) h["Content-Type"] = "application/json";
    return fetch(path, { method, headers: h, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  }

  // Login: the token once, then a cookie only this page's requests carry.
  const login = $("#login");
  if (login) {
    login.addEventListener("submit", async (e) => {
      e.preventDefault();
      const r = await api("POST", "/v1/login", { token: $("#token").value });
      if (r.ok) { location.reload(); return; }
      const j = await r.json().catch(() => ({}));
      $("#login-error").textContent = j.error || "login failed (" + r.status + ")";
    });
    return;
  }

  // The LED as the device shows it (internal/gpio/pattern.go).
  const ledText = {
    idle: ["off", "off"], connecting: ["connecting", "yellow, slow blink (1 Hz)"], connected: ["off", "off: waiting for you"],
    listening: ["listening", "blue, solid"], processing: ["processing", "cyan, fast blink (4 Hz)"],
    speaking: ["speaking", "green, double blink"], disconnected: ["disconnected", "yellow, two short blinks every 2 s"],
    muted: ["muted", "red, a short blip every 3 s"],
  };
  let muted = $("#mute") && $("#mute").getAttribute("aria-pressed") === "true";
  let paused = $("#pause") && $("#pause").getAttribute("aria-pressed") === "true";
  function showState(state) {
    $("#state").textContent = state;
    const look = ledText[state === "connected" && muted ? "muted" : state] || ["off", "off"];
    $("#led").className = "led " + look[0];
    $("#led-text").textContent = "LED: " + look[1];
    if (state === "connected" || state === "listening") $("#connection").textContent = "connected";
    if (state === "disconnected" || state === "idle") $("#connection").textContent = "not connected";
  }
  function showFlags(m, p) {
    muted = m; paused = p;
    setToggle($("#mute"), m, "Unmute", "Mute");
    setToggle($("#pause"), p, "Resume", "Pause");
  }
  function setToggle(b, on, onText, offText) {
    if (!b) return;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = on ? onText : offText;
  }

  // The conversation: one bubble per item, interim text replaced by the final one.
  const conv = $("#conv");
  const bubbles = {};
  function transcript(d) {
    const hint = conv.querySelector(".hint");
    if (hint) hint.remove();
    const key = d.role + ":" + (d.item_id || d.response_id || "x");
    let p = bubbles[key];
    if (!p) {
      p = bubbles[key] = document.createElement("p");
      conv.appendChild(p);
      const keys = Object.keys(bubbles);
      if (keys.length > 60) { bubbles[keys[0]].remove(); delete bubbles[keys[0]]; }
    }
    p.className = d.role + (d.final ? "" : " interim");
    p.textContent = d.text;
    conv.scrollTop = conv.scrollHeight;
  }
  const timeline = $("#timeline");
  function mark(text, time) {
    const li = document.createElement("li");
    const t = time ? new Date(time) : new Date();
    li.textContent = t.toLocaleTimeString() + " " + text;
    timeline.appendChild(li);
    while (timeline.children.length > 40) timeline.firstChild.remove();
    timeline.scrollTop = timeline.scrollHeight;
  }

  const level = $("#level");
  function connect() {
    const es = new EventSource("/v1/events");
    const on = (type, f) => es.addEventListener(type, (e) => { try { f(JSON.parse(e.data)); } catch (err) { /* a bad event is skipped */ } });
    on("state", (d) => { showState(d.state); showFlags(d.muted, d.paused); mark(d.prev + " → " + d.state + (d.reason ? " (" + d.reason + ")" : ""), d.time); });
    on("flags", (d) => { showFlags(d.muted, d.paused); showState(d.state); mark((d.muted ? "muted" : "unmuted") + ", " + (d.paused ? "paused" : "running"), d.time); });
    on("speech_started", (d) => mark("speech started (" + d.source + ")", d.time));
    on("speech_ended", (d) => mark("speech ended" + (d.length_ms ? " after " + d.length_ms + " ms" : ""), d.time));
    on("response_started", (d) => mark("reply started", d.time));
    on("response_done", (d) => mark("reply done: " + d.status, d.time));
    on("transcript", transcript);
    on("error", (d) => { if (d && d.message) mark("error " + (d.code || "") + ": " + d.message, d.time); });
    on("fault", (d) => mark(d.message ? "device problem: " + d.message : "device back", d.time));
    on("level", (d) => { level.style.width = Math.max(0, Math.min(100, (d.dbfs + 60) * 100 / 60)) + "%"; });
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000); };
  }
  connect();

  // Controls.
  const msg = $("#control-msg");
  async function control(action) {
    const r = await api("POST", "/v1/control", { action });
    const j = await r.json().catch(() => ({}));
    msg.className = "msg " + (r.ok ? "ok" : "bad");
    msg.textContent = r.ok ? action + ": done" : action + ": " + (j.reason || j.error || r.status);
    return r.ok;
  }
  const ptt = $("#ptt");
  let held = false;
  function press(e) { e.preventDefault(); if (held) return; held = true; ptt.classList.add("held"); ptt.textContent = "Listening… release to send"; control("ptt_start"); }
  function release() { if (!held) return; held = false; ptt.classList.remove("held"); ptt.textContent = "Hold to talk"; control("ptt_stop"); }
  ptt.addEventListener("pointerdown", (e) => { ptt.setPointerCapture(e.pointerId); press(e); });
  ["pointerup", "pointercancel", "lostpointercapture"].forEach((t) => ptt.addEventListener(t, release));
  ptt.addEventListener("keydown", (e) => { if (e.key === " " || e.key === "Enter") press(e); });
  ptt.addEventListener("keyup", (e) => { if (e.key === " " || e.key === "Enter") release(); });
  ptt.addEventListener("contextmenu", (e) => e.preventDefault());
  document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => control(b.dataset.action)));
  document.querySelectorAll("[data-on]").forEach((b) => b.addEventListener("click", async () => {
    const on = b.getAttribute("aria-pressed") !== "true";
    if (await control(on ? b.dataset.on : b.dataset.off)) setToggle(b, on, b.dataset.off[0].toUpperCase() + b.dataset.off.slice(1), b.dataset.on[0].toUpperCase() + b.dataset.on.slice(1));
  }));

  // Settings: only the changed fields go, as a merge patch, with If-Match.
  const form = $("#config");
  const cmsg = $("#config-msg");
  function valueOf(el) {
    const k = el.dataset.kind;
    if (el.type === "checkbox") return el.checked;
    if (k === "integer") return el.value === "" ? null : parseInt(el.value, 10);
    if (k === "number") return el.value === "" ? null : parseFloat(el.value);
    if (k === "list") return el.value.split("\n").map((s) => s.trim()).filter((s) => s);
    if (k === "object") return JSON.parse(el.value || "[]");
    return el.value;
  }
  function initial(el) { return el.type === "checkbox" ? el.defaultChecked : el.tagName === "SELECT" ? [...el.options].find((o) => o.defaultSelected)?.value : el.defaultValue; }
  function changed(el) { return el.type === "checkbox" ? el.checked !== el.defaultChecked : el.value !== initial(el); }
  function setPath(obj, path, v) {
    const parts = path.split(".");
    let o = obj;
    for (let i = 0; i < parts.length - 1; i++) o = o[parts[i]] = o[parts[i]] || {};
    o[parts[parts.length - 1]] = v;
  }
  function clearErrors() {
    form.querySelectorAll(".field.bad").forEach((f) => f.classList.remove("bad"));
    form.querySelectorAll("[data-error]").forEach((e) => (e.textContent = ""));
  }
  function fieldError(path, message) {
    const f = form.querySelector('.field[data-path="' + path.replace(/\[\d+\].*$/, "") + '"]');
    if (!f) return false;
    f.classList.add("bad");
    const g = f.closest("details");
    if (g) g.open = true;
    f.querySelector("[data-error]").textContent = message;
    return true;
  }
  function accept(els) {
    els.forEach((el) => {
      if (el.dataset.secret) { el.value = ""; return; }
      if (el.type === "checkbox") el.defaultChecked = el.checked;
      else if (el.tagName === "SELECT") [...el.options].forEach((o) => (o.defaultSelected = o.selected));
      else el.defaultValue = el.value;
    });
  }
  function say(ok, text) { cmsg.className = "msg " + (ok ? "ok" : "bad"); cmsg.textContent = text; }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const patch = {};
    const els = [...form.elements].filter((el) => el.name && !el.disabled && changed(el));
    try {
      els.forEach((el) => setPath(patch, el.name, valueOf(el)));
    } catch (err) {
      say(false, "not valid JSON: " + err.message);
      return;
    }
    if (!els.length) { say(true, "nothing changed"); return; }
    const r = await api("PATCH", "/v1/config", patch, { "If-Match": form.dataset.etag });
    const j = await r.json().catch(() => ({}));
    if (r.ok) {
      form.dataset.etag = r.headers.get("ETag") || form.dataset.etag;
      accept(els);
      say(true, "saved " + els.map((el) => el.name).join(", "));
    } else if (r.status === 412) {
      say(false, "Someone changed the settings meanwhile (another phone?). Reload the page to see them, then make your change again.");
    } else {
      let shown = 0;
      (j.fields || []).forEach((fe) => { if (fieldError(fe.field, fe.message)) shown++; });
      say(false, (j.error || "not saved (" + r.status + ")") + (shown ? "" : ""));
      const bad = form.querySelector(".field.bad");
      if (bad) bad.scrollIntoView({ block: "center" });
    }
  });

  // Volume: audio.playback.volume, saved as the slider settles.
  const vol = $("#volume");
  let vt;
  vol.addEventListener("input", () => {
    $("#volume-out").textContent = vol.value;
    clearTimeout(vt);
    vt = setTimeout(async () => {
      const r = await api("PATCH", "/v1/config", { audio: { playback: { volume: parseInt(vol.value, 10) } } });
      const j = await r.json().catch(() => ({}));
      if (r.ok) {
        form.dataset.etag = r.headers.get("ETag") || form.dataset.etag;
        const f = form.elements["audio.playback.volume"];
        if (f) f.value = f.defaultValue = vol.value;
      }
      msg.className = "msg " + (r.ok ? "ok" : "bad");
      msg.textContent = r.ok ? "volume " + vol.value + "%" : "volume: " + (j.error || r.status);
    }, 250);
  });
})();
