// The operator console: an Alpine.js component over the REST API (bearer token from /auth/token).
// Every call meets the API's own role checks; the page only hides what the role cannot do.
"use strict";

const TOKEN_KEY = "appliance.console.token";
const HOUR_POINTS = 1800;

// Prometheus text format 0.0.4: "name{a="x",b="y"} value" lines (comments skipped).
function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const l of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: parseFloat(m[4]) });
  }
  return out;
}

function sum(samples, name, where) {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (where && !Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
    total += s.value;
  }
  return total;
}

const RATES = [
  { key: "auth", title: "RADIUS auth", pick: (s) => sum(s, "appliance_radius_auth_access_requests_total") },
  { key: "acct", title: "RADIUS accounting", pick: (s) => sum(s, "appliance_radius_acct_requests_total") },
  { key: "ccr", title: "Ro CCR", pick: (s) => sum(s, "appliance_diameter_ro_ccr_total") },
  { key: "gx", title: "Gx", pick: (s) => sum(s, "appliance_diameter_requests_total", { app: "gx" }) },
  { key: "rest", title: "REST", pick: (s) => sum(s, "appliance_rest_http_requests_total") },
];

function consoleApp() {
  return {
    screens: [
      { id: "subscribers", title: "Subscribers" },
      { id: "dashboard", title: "Dashboard" },
      { id: "catalog", title: "Catalog" },
      { id: "configuration", title: "Configuration" },
    ],
    screen: "subscribers",
    token: sessionStorage.getItem(TOKEN_KEY),
    user: null,
    form: { user: "", password: "" },
    loginError: "",
    error: "",
    identity: "",
    sub: null,
    action: { topup: "", adjust: "", units: "" },
    actionResult: "",
    currency: "",
    rateNames: RATES,
    rates: {},
    totals: {},
    answers: [],
    pollSeconds: 2,
    series: null,
    chart: null,
    timer: null,
    last: null,
    catalog: { offers: [], prices: [] },
    configText: "",

    async start() {
      if (this.token) {
        try { await this.whoami(); } catch (e) { this.forget(); }
      }
    },

    async api(method, path, body) {
      const headers = { Authorization: "Bearer " + this.token };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      if (r.status === 401) { this.forget(); throw new Error("session expired: log in again"); }
      const text = await r.text();
      const doc = text && (r.headers.get("Content-Type") || "").includes("json") ? JSON.parse(text) : text;
      if (!r.ok) throw new Error((doc && doc.reason) || ("HTTP " + r.status));
      return doc;
    },

    async login() {
      this.loginError = "";
      const r = await fetch("/console/api/login", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user: this.form.user, password: this.form.password }) });
      const doc = await r.json().catch(() => ({}));
      if (!r.ok) { this.loginError = doc.reason || ("login failed (" + r.status + ")"); return; }
      this.token = doc.access_token;
      sessionStorage.setItem(TOKEN_KEY, this.token);
      this.form.password = "";
      await this.whoami();
    },

    async whoami() {
      this.user = await this.api("GET", "/console/api/whoami");
      const cfg = await this.api("GET", "/console/api/config");
      this.currency = cfg.money.currency;
      this.action.units = this.currency;
      this.configText = JSON.stringify(cfg, null, 2);
      this.show(this.screen);
    },

    forget() {
      this.token = null; this.user = null; this.sub = null;
      sessionStorage.removeItem(TOKEN_KEY);
      if (this.timer) { clearInterval(this.timer); this.timer = null; }
    },

    logout() { this.forget(); },

    isAdmin() { return !!this.user && this.user.roles.includes("admin"); },

    unitChoices() { return [this.currency, "octets", "seconds", "messages"]; },

    show(id) {
      this.screen = id;
      this.error = "";
      if (id === "dashboard") this.startDashboard();
      if (id === "catalog") this.loadCatalog();
    },

    time(epoch) { return epoch ? new Date(epoch * 1000).toISOString().replace(".000", "") : ""; },

    reserved(units) {
      const r = (this.sub.balance.reservedBalance || []).find((q) => q.units === units);
      return r ? r.amount : "0";
    },

    async search() {
      this.error = ""; this.actionResult = "";
      try {
        this.sub = await this.api("GET", "/console/api/subscriber?identity=" + encodeURIComponent(this.identity.trim()));
      } catch (e) { this.sub = null; this.error = e.message; }
    },

    async topUp() {
      await this.balanceChange("balanceTopup", this.action.topup, "top-up");
    },

    async adjust() {
      await this.balanceChange("balanceAdjustment", this.action.adjust, "adjustment");
    },

    async balanceChange(kind, amount, what) {
      this.error = ""; this.actionResult = "";
      const units = this.action.units;
      const value = units === this.currency ? String(amount).trim() : parseInt(amount, 10);
      try {
        await this.api("POST", "/tmf-api/prepayBalanceManagement/v4/" + kind,
                       { product: { id: this.sub.product.id }, amount: { amount: value, units }, reason: "console" });
        this.actionResult = what + " of " + amount + " " + units + " done";
        this.action.topup = ""; this.action.adjust = "";
        await this.search();
        this.actionResult = what + " of " + amount + " " + units + " done";
      } catch (e) { this.error = what + " refused: " + e.message; }
    },

    startDashboard() {
      if (this.timer) return;
      this.series = [[], ...RATES.map(() => [])];
      this.poll();
      this.timer = setInterval(() => this.poll(), this.pollSeconds * 1000);
    },

    async poll() {
      let samples;
      try { samples = parseMetrics(await this.api("GET", "/metrics")); } catch (e) { this.error = e.message; return; }
      const now = Date.now() / 1000;
      const totals = {};
      for (const r of RATES) totals[r.key] = r.pick(samples);
      if (this.last) {
        const dt = Math.max(now - this.last.t, 0.001);
        const rates = {};
        for (const r of RATES) rates[r.key] = Math.max(0, (totals[r.key] - this.last.totals[r.key]) / dt);
        this.rates = rates;
        this.series[0].push(now);
        RATES.forEach((r, i) => this.series[i + 1].push(rates[r.key]));
        if (this.series[0].length > HOUR_POINTS) this.series.forEach((s) => s.shift());
        this.draw();
      }
      this.last = { t: now, totals };
      this.totals = totals;
      this.answers = samples.filter((s) => s.name === "appliance_diameter_answers_total")
        .map((s) => ({ app: s.labels.app, cls: s.labels.result_class, value: s.value }));
    },

    draw() {
      const el = document.getElementById("chart");
      if (!el || typeof uPlot === "undefined") return;
      if (!this.chart) {
        const colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
        this.chart = new uPlot({
          width: Math.max(el.clientWidth, 600), height: 260, title: "requests per second",
          series: [{}, ...RATES.map((r, i) => ({ label: r.title, stroke: colours[i], width: 2 }))],
          axes: [{}, { label: "/s" }],
          // at least the last two minutes, at most the hour the page keeps
          scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 120), max] } },
        }, this.series, el);
      } else {
        this.chart.setData(this.series);
      }
    },

    async loadCatalog() {
      try {
        this.catalog.offers = await this.api("GET", "/tmf-api/productCatalogManagement/v4/productOffering");
        this.catalog.prices = await this.api("GET", "/tmf-api/productCatalogManagement/v4/productOfferingPrice");
      } catch (e) { this.error = e.message; }
    },
  };
}
