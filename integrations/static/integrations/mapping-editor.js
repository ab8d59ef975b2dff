// The field mapping editor on a flow's page: field pickers filled from the
// connected systems, one input per transform argument, and "Try it" on a recent
// record. Without JavaScript the plain inline form still works.
(function () {
  "use strict";

  var config = null;
  var scopes = [];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function rows() {
    return Array.prototype.filter.call(
      document.querySelectorAll("#mappings-group tr.form-row"),
      function (tr) { return !tr.classList.contains("empty-form") && !/__prefix__/.test(tr.id); }
    );
  }

  function input(tr, name) {
    return tr.querySelector('[name$="-' + name + '"]');
  }

  // -- pickers ------------------------------------------------------------------
  function describe(field) {
    return [field.label, field.type, field.note].filter(Boolean).join(" · ");
  }

  function datalist(id, fields) {
    var list = document.getElementById(id) || el("datalist", { id: id });
    list.innerHTML = "";
    fields.forEach(function (field) {
      var option = el("option", { value: field.name });
      option.textContent = describe(field);
      list.appendChild(option);
    });
    document.body.appendChild(list);
  }

  function loadFields() {
    var status = document.getElementById("lb-fields-status");
    fetch(config.fields_url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        scopes = data.scopes || [];
        var targets = [];
        scopes.forEach(function (scope, index) {
          datalist("lb-source-" + index, scope.source);
          targets = targets.concat(scope.target);
        });
        datalist("lb-target-fields", targets);
        rows().forEach(attachPickers);
        var counts = scopes.map(function (scope) {
          return scope.label + ": " + scope.source.length + " source and " +
            scope.target.length + " target fields";
        });
        if (status) {
          status.textContent = (scopes.length ? "Field pickers: " + counts.join("; ") + "." :
            "This flow does not use field mappings.") +
            ((data.problems || []).length ? " " + data.problems.join(" ") : "");
        }
      })
      .catch(function () {
        if (status) status.textContent = "The field lists could not be loaded; type field names.";
      });
  }

  function scopeIndex(target) {
    var prefix = (target || "").split(".")[0];
    var fallback = -1;
    for (var i = 0; i < scopes.length; i += 1) {
      if (scopes[i].prefix && scopes[i].prefix === prefix) return i;
      if (!scopes[i].prefix) fallback = i;
    }
    return fallback >= 0 ? fallback : 0;
  }

  function attachPickers(tr) {
    var source = input(tr, "source_field");
    var target = input(tr, "target_field");
    if (!source || !target || !scopes.length) return;
    target.setAttribute("list", "lb-target-fields");
    target.setAttribute("autocomplete", "off");
    source.setAttribute("autocomplete", "off");
    function follow() { source.setAttribute("list", "lb-source-" + scopeIndex(target.value)); }
    target.addEventListener("input", follow);
    follow();
  }

  // -- transform arguments ----------------------------------------------------------
  function spec(transform) {
    for (var i = 0; i < config.transforms.length; i += 1) {
      if (config.transforms[i].value === transform) return config.transforms[i].arguments;
    }
    return [];
  }

  function mapToText(map) {
    return Object.keys(map || {}).map(function (key) { return key + " = " + map[key]; }).join("\n");
  }

  function textToMap(text) {
    var map = {};
    text.split("\n").forEach(function (line) {
      var at = line.indexOf("=");
      if (at > 0) map[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    });
    return map;
  }

  function argumentsEditor(tr) {
    var raw = input(tr, "transform_args");
    var transform = input(tr, "transform");
    if (!raw || !transform || tr.querySelector(".lb-args-editor")) return;
    var current = {};
    try { current = raw.value.trim() ? JSON.parse(raw.value) : {}; } catch (e) { return; }
    var box = el("div", { "class": "lb-args-editor" });
    raw.parentNode.appendChild(box);
    raw.hidden = true;

    function write() {
      var args = {};
      box.querySelectorAll("[data-arg]").forEach(function (field) {
        var kind = field.getAttribute("data-kind");
        var value = field.value;
        if (value === "") return;
        if (kind === "number") value = Number(value);
        else if (kind === "map") value = textToMap(value);
        else if (kind === "list") value = value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        args[field.getAttribute("data-arg")] = value;
      });
      raw.value = JSON.stringify(args);
    }

    function draw() {
      box.innerHTML = "";
      var wanted = spec(transform.value);
      if (!wanted.length) {
        box.appendChild(el("span", { "class": "help" }, transform.value ? "No settings." : ""));
        raw.value = "{}";
        return;
      }
      wanted.forEach(function (arg) {
        var id = raw.id + "-" + arg.name;
        var label = el("label", { "for": id }, arg.label + (arg.required ? " *" : ""));
        var field;
        var value = current[arg.name];
        if (arg.kind === "map") {
          field = el("textarea", { rows: 3, cols: 22, placeholder: "Closed Won = C" });
          field.value = mapToText(value);
        } else if (arg.kind === "choice") {
          field = el("select", {});
          field.appendChild(el("option", { value: "" }, "—"));
          arg.choices.forEach(function (choice) {
            field.appendChild(el("option", { value: choice[0] }, choice[1]));
          });
          field.value = value || "";
        } else {
          field = el("input", { type: arg.kind === "number" ? "number" : "text", size: 12 });
          field.value = arg.kind === "list" ? (value || []).join(", ") :
            (value === undefined || value === null ? "" : value);
          if (arg.default !== null && arg.default !== undefined) field.placeholder = String(arg.default);
        }
        field.id = id;
        field.setAttribute("data-arg", arg.name);
        field.setAttribute("data-kind", arg.kind);
        if (arg.help) field.title = arg.help;
        field.addEventListener("input", write);
        field.addEventListener("change", write);
        var line = el("div", { "class": "lb-arg" });
        line.appendChild(label);
        line.appendChild(field);
        if (arg.help) line.appendChild(el("span", { "class": "help" }, arg.help));
        box.appendChild(line);
      });
      write();
    }
    transform.addEventListener("change", function () { current = {}; draw(); });
    draw();
  }

  // -- Try it ---------------------------------------------------------------------
  function collect() {
    var sent = [];
    var order = [];
    rows().forEach(function (tr) {
      var target = input(tr, "target_field");
      var source = input(tr, "source_field");
      var remove = input(tr, "DELETE");
      if (!target || (!target.value && !(source && source.value))) return;
      if (remove && remove.checked) return;
      var enabled = input(tr, "enabled");
      var required = input(tr, "required");
      sent.push({
        position: (input(tr, "position") || {}).value,
        source_field: source ? source.value : "",
        target_field: target.value,
        transform: (input(tr, "transform") || {}).value || "",
        transform_args: (input(tr, "transform_args") || {}).value || "{}",
        "default": (input(tr, "default") || {}).value || "",
        required: required ? required.checked : false,
        enabled: enabled ? enabled.checked : true
      });
      order.push(tr);
    });
    return { rows: sent, trs: order };
  }

  function shown(value) {
    if (value === null || value === undefined) return "(empty)";
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function tryIt() {
    var out = document.getElementById("lb-try-result");
    var record = document.getElementById("lb-try-record");
    var collected = collect();
    out.textContent = "Trying…";
    fetch(config.preview_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ record: record.value, rows: collected.rows })
    })
      .then(function (response) { return response.json(); })
      .then(function (data) { render(out, data, collected.trs); })
      .catch(function () { out.textContent = "The preview could not be made; try again."; });
  }

  function render(out, data, trs) {
    out.innerHTML = "";
    document.querySelectorAll(".lb-row-outcome").forEach(function (n) { n.remove(); });
    if (data.error) { out.appendChild(el("p", { "class": "errornote" }, data.error)); return; }
    out.appendChild(el("p", {}, data.record_label + ". " + data.document_note));
    (data.problems || []).forEach(function (p) {
      out.appendChild(el("p", { "class": "lb-try-problem" }, p));
    });
    if ((data.rows || []).length) {
      var table = el("table", { "class": "lb-try-table" });
      var head = el("tr", {});
      ["Target field", "Result"].forEach(function (h) { head.appendChild(el("th", {}, h)); });
      table.appendChild(head);
      data.rows.forEach(function (row) {
        var tr = el("tr", { "class": row.ok ? "lb-try-ok" : "lb-try-error" });
        tr.appendChild(el("td", {}, row.target_field));
        tr.appendChild(el("td", {}, row.ok ? shown(row.value) : row.error));
        table.appendChild(tr);
        var inline = trs[row.index];
        if (inline) {
          var note = el("div", { "class": "lb-row-outcome " + (row.ok ? "lb-try-ok" : "lb-try-error") },
            row.ok ? "→ " + shown(row.value) : row.error);
          var cell = input(inline, "target_field");
          if (cell) cell.parentNode.appendChild(note);
        }
      });
      out.appendChild(table);
    }
    var details = el("details", {});
    details.appendChild(el("summary", {}, "The whole result, and the record it was made from"));
    details.appendChild(el("pre", {}, JSON.stringify(data.result, null, 2)));
    details.appendChild(el("pre", {}, JSON.stringify(data.document, null, 2)));
    out.appendChild(details);
  }

  function ready() {
    var script = document.getElementById("lb-mapping-editor");
    if (!script) return;
    config = JSON.parse(script.textContent);
    rows().forEach(argumentsEditor);
    loadFields();
    document.addEventListener("formset:added", function (event) {
      var tr = event.target && event.target.closest ? event.target.closest("tr") : null;
      tr = tr || (event.target.tagName === "TR" ? event.target : null);
      if (!tr) return;
      argumentsEditor(tr);
      attachPickers(tr);
    });
    var button = document.getElementById("lb-try-button");
    if (button) button.addEventListener("click", tryIt);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
