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

// where the catalog editor sends each kind (TMF620 catalog, TMF639 tables)
const EDIT_BASE = {
  productOffering: "/tmf-api/productCatalogManagement/v4/productOffering",
  productOfferingPrice: "/tmf-api/productCatalogManagement/v4/productOfferingPrice",
  resource: "/tmf-api/resourceInventoryManagement/v4/resource",
};

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
      { id: "sessions", title: "Sessions" },
      { id: "peers", title: "Peers & clients" },
      { id: "logs", title: "Logs" },
      { id: "trace", title: "Trace" },
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
    catalog: { offers: [], prices: [], tables: [] },
    configText: "",
    node: {},
    nodeTimer: null,
    edit: { kind: "productOfferingPrice", id: "", body: "", result: "" },
    sessions: { kind: "radius", subscriber: "", peer: "", rows: [], next: null, after: "", total: 0,
                result: "", coaTimeout: "3600", coaFilter: "" },
    logs: { log: "acct", subscriber: "", since: "", result: null },
    exp: { type: "wlan", live: true, start: "", end: "", job: null },
    tr: { identity: "", minutes: "5", name: null, offset: 0, events: [], state: "" },

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
      if (this.nodeTimer) { clearInterval(this.nodeTimer); this.nodeTimer = null; }
      this.tr.name = null;
    },

    logout() { this.forget(); },

    isAdmin() { return !!this.user && this.user.roles.includes("admin"); },

    unitChoices() { return [this.currency, "octets", "seconds", "messages"]; },

    show(id) {
      this.screen = id;
      this.error = "";
      if (id === "dashboard") { this.startDashboard(); this.startNode(); }
      if (id === "peers") this.startNode();
      if (id === "catalog") this.loadCatalog();
      if (id === "sessions") this.loadSessions(true);
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
      if (!el || typeof uPlot === "undefined" || this.series[0].length < 2) return;   // a time axis needs two points
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
        this.catalog.tables = await this.api("GET", EDIT_BASE.resource);
      } catch (e) { this.error = e.message; }
    },
    // --- node: peers, clients, processes, sessions, health (polled while the dashboard or peers show)
    startNode() {
      this.loadNode();
      if (!this.nodeTimer) this.nodeTimer = setInterval(() => {
        if (this.screen === "dashboard" || this.screen === "peers") this.loadNode();
      }, this.pollSeconds * 1000);
    },

    async loadNode() {
      try { this.node = await this.api("GET", "/console/api/node"); } catch (e) { this.error = e.message; }
    },

    health() {
      return (this.node && this.node.health) || { store: { backend: "", ok: false }, ledger: { ok: false } };
    },

    sessionTotal() {
      return Object.values(this.node.sessions || {}).reduce((a, b) => a + b, 0);
    },

    // --- sessions
    async loadSessions(first) {
      this.error = "";
      const s = this.sessions;
      const after = first ? "" : (s.next || "");
      const q = new URLSearchParams({ kind: s.kind, limit: "50", after });
      if (s.subscriber.trim()) q.set("subscriber", s.subscriber.trim());
      if (s.peer.trim()) q.set("peer", s.peer.trim());
      try {
        const page = await this.api("GET", "/console/api/sessions?" + q.toString());
        s.rows = page.sessions; s.next = page.next; s.after = after;
        if (page.total !== null) s.total = page.total;          // counted on the first page only
      } catch (e) { this.error = e.message; }
    },

    sessionsOf(identity) {
      this.sessions.subscriber = identity;
      this.sessions.peer = "";
      this.show("sessions");
    },

    sessionDetails(r) {
      if (r.kind === "radius") return [r.framedIp, r.calling, (r.octets || 0) + " octets", (r.seconds || 0) + " s"].filter(Boolean).join(" · ");
      if (r.kind === "gx") return [r.apn, r.ip, "rules: " + (r.rules || []).join(", "), r.pushPending ? "push pending" : ""].filter(Boolean).join(" · ");
      if (r.kind === "aaa") return [r.app, r.imsi, r.apn, r.state, r.abortRequested ? "abort requested" : ""].filter(Boolean).join(" · ");
      return "";
    },

    async sessionAction(r, action) {
      this.error = ""; this.sessions.result = "";
      let path = "/console/api/sessions/gx/reauth";
      const body = { key: r.key };
      if (action === "abort") path = "/console/api/sessions/aaa/abort";
      else if (action !== "reauth") path = "/console/api/sessions/radius/" + action;
      if (action === "coa") {
        body.set = {};
        if (String(this.sessions.coaTimeout).trim()) body.set["session-timeout"] = parseInt(this.sessions.coaTimeout, 10);
        if (this.sessions.coaFilter.trim()) body.set["filter-id"] = this.sessions.coaFilter.trim();
      }
      try {
        const out = await this.api("POST", path, body);
        this.sessions.result = action + " " + r.sessionId + ": " + out.result;
        if (action === "abort") r.abortRequested = true;
      } catch (e) { this.error = action + " refused: " + e.message; }
    },

    // --- logs and IPDR export
    async loadLogs() {
      this.error = "";
      const q = new URLSearchParams({ log: this.logs.log, limit: "100" });
      if (this.logs.subscriber.trim()) q.set("subscriber", this.logs.subscriber.trim());
      if (this.logs.since.trim()) q.set("since", this.logs.since.trim());
      try { this.logs.result = await this.api("GET", "/console/api/logs?" + q.toString()); }
      catch (e) { this.error = e.message; }
    },

    async startExport() {
      this.error = "";
      const body = { type: this.exp.type, live: !!this.exp.live };
      if (this.exp.start.trim()) body.start = this.exp.start.trim();
      if (this.exp.end.trim()) body.end = this.exp.end.trim();
      try {
        this.exp.job = await this.api("POST", "/console/api/exports", body);
        while (this.exp.job.state === "running") {
          await new Promise((ok) => setTimeout(ok, 500));
          this.exp.job = await this.api("GET", "/console/api/exports/" + this.exp.job.id);
        }
      } catch (e) { this.error = "export: " + e.message; }
    },

    async download() {
      // fetched with the token (a plain link would carry none), handed to the browser as a file
      const r = await fetch("/console/api/exports/" + this.exp.job.id + "/csv",
                            { headers: { Authorization: "Bearer " + this.token } });
      if (!r.ok) { this.error = "download: HTTP " + r.status; return; }
      const url = URL.createObjectURL(await r.blob());
      const a = document.createElement("a");
      a.href = url; a.download = "ipdr-" + this.exp.job.type + "-" + this.exp.job.id + ".csv";
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    },

    // --- live trace
    async startTrace() {
      this.error = "";
      try {
        const t = await this.api("POST", "/console/api/trace",
                                 { identity: this.tr.identity.trim(), minutes: parseInt(this.tr.minutes, 10) || 5 });
        this.tr.name = t.name; this.tr.offset = 0; this.tr.events = [];
        this.tr.state = "tracing " + t.identities.join(", ");
        this.followTrace(t.name);
      } catch (e) { this.error = "trace: " + e.message; }
    },

    async followTrace(name) {
      while (this.tr.name === name) {
        let doc;
        try {
          doc = await this.api("GET", "/console/api/trace/" + name + "?wait=5&offset=" + this.tr.offset);
        } catch (e) { this.tr.state = "stopped (" + e.message + ")"; this.tr.name = null; return; }
        if (this.tr.name !== name) return;
        this.tr.offset = doc.offset;
        this.tr.events.push(...doc.events);
        if (this.tr.events.length > 2000) this.tr.events.splice(0, this.tr.events.length - 2000);
        if (!doc.active && !doc.events.length) { this.tr.state = "ended"; this.tr.name = null; return; }
      }
    },

    async stopTrace() {
      const name = this.tr.name;
      this.tr.name = null;
      this.tr.state = "stopped";
      if (name) { try { await this.api("DELETE", "/console/api/trace/" + name); } catch (e) { /* ended already */ } }
    },

    traceDetail(e) {
      const pick = (avps, names) => (avps || []).filter((a) => names.includes(a[0]))
        .map((a) => a[0] + "=" + (typeof a[1] === "object" ? JSON.stringify(a[1]) : a[1])).join(" ");
      if (e.protocol === "gx" && e.event === "push") {
        return "RAR (" + (e.reason || "") + ") install: " + (e.install || []).join(", ") + " remove: " + (e.remove || []).join(", ");
      }
      if (e.protocol === "gx") return (e.answered ? "RAA" : "no RAA") + ((e.failed || []).length ? " failed: " + e.failed.join(", ") : "");
      if (e.protocol === "radius") {
        return (e.command || "") + " " + pick(e.attributes, ["User-Name", "Acct-Status-Type", "Acct-Session-Id",
          "Framed-IP-Address", "Acct-Input-Octets", "Acct-Output-Octets", "Acct-Session-Time", "Session-Timeout",
          "Reply-Message"]).slice(0, 300);
      }
      if (e.protocol === "eap") return ["EAP type " + e.method, e.state, "round " + e.round, e.reason].filter(Boolean).join(" · ");
      return pick(e.avps, ["CC-Request-Type", "CC-Request-Number", "Multiple-Services-Credit-Control"]).slice(0, 300);
    },

    tableSummary(t) {
      const c = (t.resourceCharacteristic || [])[0] || {};
      if (c.name === "rates") return Object.keys(c.value || {}).length + " prefixes";
      if (c.name === "policy") return ((c.value || {}).rules || []).map((r) => r.name).join(", ");
      return "";
    },

    // --- catalog edit (admin; TMF620/TMF639 validate, refuse, store nothing on a refusal)
    editItem(kind, item) {
      this.edit.kind = kind; this.edit.id = item.id; this.edit.result = "";
      const copy = Object.fromEntries(Object.entries(item).filter(([k]) => !["href", "@type", "lastUpdate"].includes(k)));
      this.edit.body = JSON.stringify(copy, null, 2);
    },

    newItem() {
      this.edit.id = ""; this.edit.result = "";
      const templates = {
        productOffering: { name: "", productOfferingPrice: [{ id: "" }] },
        productOfferingPrice: { id: "", name: "", priceType: "usage", price: { taxIncludedAmount: { unit: this.currency, value: "0.01" } },
                                unitOfMeasure: { amount: 1000000, units: "octets" } },
        resource: { name: "", resourceSpecification: { id: "TariffTable" },
                    resourceCharacteristic: [{ name: "rates", value: { "44": "0.10" } }] },
      };
      this.edit.body = JSON.stringify(templates[this.edit.kind], null, 2);
    },

    async saveItem(how) {
      this.error = ""; this.edit.result = "";
      const base = EDIT_BASE[this.edit.kind];
      let body;
      if (how !== "delete") {
        try { body = JSON.parse(this.edit.body); } catch (e) { this.error = "not JSON: " + e.message; return; }
      }
      try {
        if (how === "create") this.edit.id = (await this.api("POST", base, body)).id || this.edit.id;
        else if (how === "update") await this.api("PATCH", base + "/" + encodeURIComponent(this.edit.id), body);
        else await this.api("DELETE", base + "/" + encodeURIComponent(this.edit.id));
        this.edit.result = how + " done";
        await this.loadCatalog();
      } catch (e) { this.error = how + " refused: " + e.message; }
    },
  };
}
