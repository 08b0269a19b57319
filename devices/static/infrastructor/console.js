/* Live updates for the console's pages, from /ws/stream (collectors.stream).
 *
 * Every page is complete as the server renders it; this script only adds what happens after:
 * new events at the top of the event tables, the latest values of the device page, device
 * status changes. It connects with the admin session cookie, subscribes to the topics the page
 * names (data-topics on #console-root) and reconnects with a growing delay when the socket
 * closes. No library, no build step.
 */
(function () {
    "use strict";

    var root = document.getElementById("console-root");
    if (!root || !root.dataset.consoleStream || !("WebSocket" in window)) {
        return;
    }
    var topics = (root.dataset.topics || "").split(/\s+/).filter(Boolean);
    var indicator = document.getElementById("console-live");
    var announcer = document.getElementById("console-announcer");
    var labelsNode = document.getElementById("console-status-labels");
    var statusLabels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
    var SEVERITY = { info: 0, warning: 1, critical: 2 };
    var SEVERITY_LABEL = { info: "Info", warning: "Warning", critical: "Critical" };
    var MAX_ROWS = 200;
    var MIN_DELAY = 1000;
    var MAX_DELAY = 30000;
    var REFUSED = 4401; // the stream's close code for an unauthenticated socket
    var delay = MIN_DELAY;
    var socket = null;

    // --- formatting, as the server writes it (devices/console/charts.py) ---------------------

    function pad(n) { return (n < 10 ? "0" : "") + n; }

    function formatTime(iso) {
        var d = new Date(iso);
        if (isNaN(d.getTime())) { return iso || "-"; }
        return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
            " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" +
            pad(d.getUTCSeconds()) + " UTC";
    }

    function formatBytes(value) {
        var units = ["B", "KiB", "MiB", "GiB", "TiB"];
        for (var i = 0; i < units.length; i++) {
            if (Math.abs(value) < 1024 || i === units.length - 1) {
                return i === 0 ? value.toFixed(0) + " B" : value.toFixed(1) + " " + units[i];
            }
            value /= 1024;
        }
        return String(value);
    }

    function formatDuration(seconds) {
        if (seconds < 120) { return seconds.toFixed(0) + " s"; }
        if (seconds < 3600) { return (seconds / 60).toFixed(0) + " min"; }
        if (seconds < 2 * 86400) { return (seconds / 3600).toFixed(1) + " h"; }
        return (seconds / 86400).toFixed(1) + " days";
    }

    function format(value, kind) {
        if (value === null || value === undefined) { return "-"; }
        switch (kind) {
            case "pct": return Number(value).toFixed(1) + " %";
            case "bytes": return formatBytes(Number(value));
            case "rate": return formatBytes(Number(value)) + "/s";
            case "duration": return formatDuration(Number(value));
            case "time": return formatTime(value);
            case "number": return Number(value).toFixed(2);
            default: return String(value);
        }
    }

    // --- the indicator: words first, the dot only repeats them ------------------------------

    function setState(state, text) {
        if (!indicator) { return; }
        indicator.dataset.state = state;
        indicator.querySelector(".console-live-text").textContent = text;
    }

    function announce(text) {
        if (announcer) { announcer.textContent = text; }
    }

    // --- events -----------------------------------------------------------------------------

    function deviceUrl(id) {
        return root.dataset.deviceUrl.replace(/\/0\/console\/$/, "/" + id + "/console/");
    }

    function el(tag, attrs, text) {
        var node = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
        if (text !== undefined && text !== null) { node.textContent = text; }
        return node;
    }

    function diffDetails(data) {
        var details = el("details", { "class": "console-diff-details" });
        var title = "Diff" + (data.diff_summary ? " (" + data.diff_summary + ")" : "");
        details.appendChild(el("summary", {}, title));
        var pre = el("pre", { "class": "console-diff" });
        String(data.diff).split("\n").forEach(function (line) {
            if (line === "") { return; }
            var css = "";
            if (line.indexOf("+++") === 0 || line.indexOf("---") === 0) { css = "diff-file"; }
            else if (line[0] === "+") { css = "diff-add"; }
            else if (line[0] === "-") { css = "diff-del"; }
            else if (line[0] === "@") { css = "diff-hunk"; }
            pre.appendChild(el("span", { "class": css }, line));
        });
        details.appendChild(pre);
        return details;
    }

    function eventRow(event, showDevice) {
        var row = el("tr", {
            "class": "event event-new severity-" + event.severity,
            "data-event-id": String(event.id)
        });
        var when = el("td");
        when.appendChild(el("time", { datetime: event.occurred_at }, formatTime(event.occurred_at)));
        row.appendChild(when);
        var severity = el("td");
        severity.appendChild(el("span", { "class": "severity severity-" + event.severity },
            SEVERITY_LABEL[event.severity] || event.severity));
        row.appendChild(severity);
        if (showDevice) {
            var device = el("td");
            if (event.device) {
                device.appendChild(el("a", { href: deviceUrl(event.device) },
                    event.device_name || "device " + event.device));
            } else {
                device.textContent = "-";
            }
            row.appendChild(device);
        }
        var type = el("td");
        type.appendChild(el("code", {}, event.type));
        row.appendChild(type);
        var what = el("td", {}, event.summary);
        if (event.data && event.data.diff) { what.appendChild(diffDetails(event.data)); }
        row.appendChild(what);
        return row;
    }

    function accepts(table, event) {
        var d = table.dataset;
        if (d.minSeverity && (SEVERITY[event.severity] || 0) < (SEVERITY[d.minSeverity] || 0)) {
            return false;
        }
        if (d.device && String(event.device) !== d.device) { return false; }
        return !(d.kind && event.kind !== d.kind);
    }

    function addEvent(event) {
        var added = false;
        document.querySelectorAll("table[data-live-events]").forEach(function (table) {
            if (!accepts(table, event)) { return; }
            var body = table.tBodies[0];
            if (body.querySelector('tr[data-event-id="' + event.id + '"]')) { return; }
            var empty = body.querySelector("tr.console-empty");
            if (empty) { empty.remove(); }
            body.insertBefore(eventRow(event, table.dataset.showDevice === "yes"), body.firstChild);
            while (body.rows.length > MAX_ROWS) { body.deleteRow(body.rows.length - 1); }
            added = true;
        });
        if (added) { announce("New event: " + event.summary); }
    }

    // --- metrics and status -----------------------------------------------------------------

    function setLastSeen(container, iso) {
        var seen = container.querySelector("[data-device-last-seen]");
        if (!seen || !iso) { return; }
        seen.textContent = "";
        seen.appendChild(el("time", { datetime: iso }, formatTime(iso)));
    }

    // The charts are drawn on the server; after a poll they are fetched again and swapped in,
    // at most once every CHART_REFRESH_MS, keeping the page usable without JavaScript.
    var CHART_REFRESH_MS = 15000;
    var chartsDue = null;
    var chartsFetched = 0;

    function refreshCharts() {
        var holder = document.querySelector("[data-live-charts]");
        if (!holder || chartsDue !== null) { return; }
        var wait = Math.max(0, chartsFetched + CHART_REFRESH_MS - Date.now());
        chartsDue = window.setTimeout(function () {
            chartsDue = null;
            chartsFetched = Date.now();
            fetch(holder.dataset.liveCharts, { credentials: "same-origin" })
                .then(function (response) { return response.ok ? response.text() : null; })
                .then(function (html) {
                    if (html !== null) {
                        holder.innerHTML = html;
                        holder.dataset.refreshedAt = new Date().toISOString();
                    }
                })
                .catch(function () { /* the next poll tries again */ });
        }, wait);
    }

    function updateMetrics(data) {
        if (root.dataset.device && String(data.device) !== root.dataset.device) { return; }
        refreshCharts();
        root.querySelectorAll("[data-metric]").forEach(function (node) {
            var name = node.dataset.metric;
            if (!(name in data)) { return; }
            node.textContent = format(data[name], node.dataset.format);
            if (node.tagName === "TIME") { node.setAttribute("datetime", data[name]); }
        });
        // A sample is a successful poll: the device was seen then, and is not stale.
        document.querySelectorAll('[data-device-row="' + data.device + '"]').forEach(function (row) {
            setLastSeen(row, data.time);
            var stale = row.querySelector("[data-device-stale]");
            if (stale) { stale.textContent = row.tagName === "TR" ? "No" : ""; }
        });
    }

    function updateStatus(data) {
        document.querySelectorAll('[data-device-row="' + data.device + '"]').forEach(function (row) {
            var status = row.querySelector("[data-device-status]");
            if (status) {
                status.textContent = statusLabels[data.status] || data.status;
                status.className = "device-status status-" + data.status;
            }
            setLastSeen(row, data.last_seen_at);
            var stale = row.querySelector("[data-device-stale]");
            if (stale && data.status === "online") { stale.textContent = row.tagName === "TR" ? "No" : ""; }
        });
        announce((data.name || "Device " + data.device) + " is now " +
            (statusLabels[data.status] || data.status));
    }

    function handle(message) {
        switch (message.type) {
            case "subscribed":
                delay = MIN_DELAY;
                setState("live", "Live: updates appear as they happen.");
                break;
            case "event": addEvent(message.data); break;
            case "metrics": updateMetrics(message.data); break;
            case "device.status": updateStatus(message.data); break;
            case "error":
                setState("offline", "Live updates refused: " + (message.error || message.detail || "error"));
                break;
            default: break; // hello, heartbeat, collection.* need nothing on these pages
        }
    }

    // --- the socket -------------------------------------------------------------------------

    function connect() {
        var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
        setState("connecting", "Connecting to live updates…");
        socket = new WebSocket(scheme + window.location.host + root.dataset.consoleStream);
        socket.addEventListener("open", function () {
            socket.send(JSON.stringify({ action: "subscribe", topics: topics }));
        });
        socket.addEventListener("message", function (e) {
            var message;
            try { message = JSON.parse(e.data); } catch (err) { return; }
            handle(message);
        });
        socket.addEventListener("close", function (e) {
            if (e.code === REFUSED) {
                // The session is gone (logged out, expired): retrying cannot help.
                setState("offline", "Offline: the live stream refused this session; log in again.");
                return;
            }
            setState("offline", "Offline: reconnecting in " + Math.round(delay / 1000) + " s.");
            window.setTimeout(connect, delay);
            delay = Math.min(delay * 2, MAX_DELAY);
        });
    }

    window.infrastructorConsole = { format: format, handle: handle };
    connect();
}());
